import type Database from "better-sqlite3";
import { type FileRow, type FileStatus, nowIso as now, type TrackedFile, toTrackedFile } from "./tracked-file.js";

export interface SeenFile {
  path: string;
  relPath: string;
  outputStem: string;
  size: number;
  mtimeMs: number;
  contentHash: string;
  fingerprint: string;
  runId: number;
}

/** The `files` table: one row per input ever seen. */
export class FileTable {
  constructor(private readonly db: Database.Database) {}

  get(path: string): TrackedFile | undefined {
    const row = this.db.prepare("SELECT * FROM files WHERE path = ?").get(path) as FileRow | undefined;
    return row ? toTrackedFile(row) : undefined;
  }

  /** Records the file as seen with this content and settings; forgets its chunks when either changed. */
  prepare(input: SeenFile): { file: TrackedFile; reset: boolean } {
    return this.db.transaction(() => {
      const existing = this.get(input.path);
      const unchanged = existing && existing.contentHash === input.contentHash && existing.fingerprint === input.fingerprint;
      if (existing && unchanged) {
        this.db
          .prepare("UPDATE files SET size = ?, mtime_ms = ?, rel_path = ?, output_stem = ?, last_run_id = ?, updated_at = ? WHERE id = ?")
          .run(input.size, input.mtimeMs, input.relPath, input.outputStem, input.runId, now(), existing.id);
        return { file: this.get(input.path)!, reset: false };
      }
      if (existing) {
        this.db.prepare("DELETE FROM chunks WHERE file_id = ?").run(existing.id);
        this.db.prepare("DELETE FROM diarizations WHERE file_id = ?").run(existing.id);
        this.db
          .prepare(
            `UPDATE files SET rel_path = ?, output_stem = ?, size = ?, mtime_ms = ?, content_hash = ?, fingerprint = ?, status = 'pending',
             duration_ms = NULL, chunk_count = NULL, language = NULL, outputs = NULL, error_code = NULL, error = NULL, last_run_id = ?, updated_at = ? WHERE id = ?`,
          )
          .run(input.relPath, input.outputStem, input.size, input.mtimeMs, input.contentHash, input.fingerprint, input.runId, now(), existing.id);
        return { file: this.get(input.path)!, reset: true };
      }
      this.db
        .prepare(
          `INSERT INTO files (path, rel_path, output_stem, size, mtime_ms, content_hash, fingerprint, status, last_run_id, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(input.path, input.relPath, input.outputStem, input.size, input.mtimeMs, input.contentHash, input.fingerprint, input.runId, now());
      return { file: this.get(input.path)!, reset: true };
    })();
  }

  markProcessing(fileId: number): void {
    this.db.prepare("UPDATE files SET status = 'processing', error_code = NULL, error = NULL, updated_at = ? WHERE id = ?").run(now(), fileId);
  }

  markPending(fileId: number): void {
    this.db.prepare("UPDATE files SET status = 'pending', updated_at = ? WHERE id = ?").run(now(), fileId);
  }

  /** A run killed earlier left its files 'processing': they are pending work now. */
  releaseAbandoned(): void {
    this.db.prepare("UPDATE files SET status = 'pending' WHERE status = 'processing'").run();
  }

  finish(fileId: number, result: { durationMs: number; chunkCount: number; language: string | null; outputs: string[] }): void {
    this.db
      .prepare(
        "UPDATE files SET status = 'done', duration_ms = ?, chunk_count = ?, language = ?, outputs = ?, error_code = NULL, error = NULL, updated_at = ? WHERE id = ?",
      )
      .run(result.durationMs, result.chunkCount, result.language, JSON.stringify(result.outputs), now(), fileId);
  }

  /** A file that failed before it could be read (empty, vanished) still shows up in status. */
  recordUnreadFailure(input: { path: string; relPath: string; outputStem: string; runId: number }, code: string, message: string): void {
    this.db
      .prepare(
        `INSERT INTO files (path, rel_path, output_stem, size, mtime_ms, content_hash, fingerprint, status, error_code, error, last_run_id, updated_at)
         VALUES (?, ?, ?, 0, 0, '', '', 'failed', ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET status = 'failed', error_code = excluded.error_code, error = excluded.error,
           last_run_id = excluded.last_run_id, updated_at = excluded.updated_at`,
      )
      .run(input.path, input.relPath, input.outputStem, code, message, input.runId, now());
  }

  fail(fileId: number, code: string, message: string): void {
    this.db.prepare("UPDATE files SET status = 'failed', error_code = ?, error = ?, updated_at = ? WHERE id = ?").run(code, message, now(), fileId);
  }

  setDuration(fileId: number, durationMs: number): void {
    this.db.prepare("UPDATE files SET duration_ms = ? WHERE id = ?").run(durationMs, fileId);
  }

  withStatus(status: FileStatus): TrackedFile[] {
    return (this.db.prepare("SELECT * FROM files WHERE status = ? ORDER BY id").all(status) as FileRow[]).map(toTrackedFile);
  }

  all(): TrackedFile[] {
    return (this.db.prepare("SELECT * FROM files ORDER BY id").all() as FileRow[]).map(toTrackedFile);
  }

  /** Drops a file and (by cascade) its chunks. */
  forget(fileId: number): void {
    this.db.prepare("DELETE FROM files WHERE id = ?").run(fileId);
  }
}
