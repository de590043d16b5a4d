import type Database from "better-sqlite3";
import type { Span } from "../chunking/chunk-planner.js";
import type { RawSegment } from "../engine/worker-protocol.js";
import { nowIso as now } from "./tracked-file.js";

export interface DoneChunk {
  idx: number;
  spans: Span[];
  segments: RawSegment[];
  /** the backend that made it; null for chunks stored before backends were recorded */
  backend: string | null;
  remote: ChunkOrigin["remote"] | null;
}

/** Who made a chunk's result. */
export interface ChunkOrigin {
  backend: string;
  remote?: { provider: string; model: string; requestIds: string[]; billedSeconds: number; granularity?: "segment" | "text" } | undefined;
}

/** What one chunk covers: its index in the file, its spans of the file's audio, its length. */
export interface ChunkKey {
  fileId: number;
  idx: number;
  spans: Span[];
  audioMs: number;
}

interface ChunkRow {
  idx: number;
  spans: string;
  audio_ms: number;
  status: "pending" | "done" | "failed";
  attempts: number;
  commits: number;
  result: string | null;
  error: string | null;
  elapsed_ms: number | null;
  backend: string | null;
  remote: string | null;
}

/** The `chunks` table: every finished chunk is committed on its own, so a kill loses at most those in flight. */
export class ChunkTable {
  private commitsSoFar = 0;

  constructor(
    private readonly db: Database.Database,
    /** fault injection: commits fail as "disk full" after this many (tests where no tmpfs can be mounted) */
    private readonly failCommitsAfter?: number,
  ) {}

  done(fileId: number): Map<number, DoneChunk> {
    const rows = this.db
      .prepare("SELECT idx, spans, result, backend, remote FROM chunks WHERE file_id = ? AND status = 'done' ORDER BY idx")
      .all(fileId) as Pick<ChunkRow, "idx" | "spans" | "result" | "backend" | "remote">[];
    return new Map(
      rows.map((r) => [
        r.idx,
        {
          idx: r.idx,
          spans: JSON.parse(r.spans) as Span[],
          segments: JSON.parse(r.result ?? "[]") as RawSegment[],
          backend: r.backend,
          remote: r.remote ? (JSON.parse(r.remote) as NonNullable<DoneChunk["remote"]>) : null,
        },
      ]),
    );
  }

  /** Finished chunks in file order. */
  doneInOrder(fileId: number): DoneChunk[] {
    return [...this.done(fileId).values()].sort((a, b) => a.idx - b.idx);
  }

  attempts(fileId: number, idx: number): number {
    const row = this.db.prepare("SELECT attempts FROM chunks WHERE file_id = ? AND idx = ?").get(fileId, idx) as { attempts: number } | undefined;
    return row?.attempts ?? 0;
  }

  /** One transaction per finished chunk: this is the unit of work a kill can never lose. */
  commit(key: ChunkKey, segments: RawSegment[], elapsedMs: number, origin?: ChunkOrigin): void {
    if (this.failCommitsAfter !== undefined && this.commitsSoFar++ >= this.failCommitsAfter) {
      throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    }
    this.db
      .prepare(
        `INSERT INTO chunks (file_id, idx, spans, audio_ms, status, attempts, commits, result, elapsed_ms, backend, remote, updated_at)
         VALUES (?, ?, ?, ?, 'done', 1, 1, ?, ?, ?, ?, ?)
         ON CONFLICT (file_id, idx) DO UPDATE SET spans = excluded.spans, audio_ms = excluded.audio_ms, status = 'done',
           attempts = chunks.attempts + 1, commits = chunks.commits + 1, result = excluded.result, error = NULL,
           elapsed_ms = excluded.elapsed_ms, backend = excluded.backend, remote = excluded.remote, updated_at = excluded.updated_at`,
      )
      .run(
        key.fileId,
        key.idx,
        JSON.stringify(key.spans),
        key.audioMs,
        JSON.stringify(segments),
        elapsedMs,
        origin?.backend ?? null,
        origin?.remote ? JSON.stringify(origin.remote) : null,
        now(),
      );
  }

  /** Counts a failed attempt (`final`: no more attempts) and returns the attempts so far. */
  recordFailure(key: ChunkKey, error: string, final: boolean): number {
    this.db
      .prepare(
        `INSERT INTO chunks (file_id, idx, spans, audio_ms, status, attempts, error, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)
         ON CONFLICT (file_id, idx) DO UPDATE SET status = excluded.status, attempts = chunks.attempts + 1,
           error = excluded.error, updated_at = excluded.updated_at`,
      )
      .run(key.fileId, key.idx, JSON.stringify(key.spans), key.audioMs, final ? "failed" : "pending", error, now());
    return this.attempts(key.fileId, key.idx);
  }

  /** Failed chunks get a fresh set of attempts when their file is run again. */
  resetFailed(fileId: number): void {
    this.db.prepare("UPDATE chunks SET status = 'pending', attempts = 0 WHERE file_id = ? AND status <> 'done'").run(fileId);
  }
}
