import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { Span } from "../chunking/chunk-planner.js";
import type { RawSegment } from "../engine/worker-protocol.js";

/**
 * Versioned migrations: index i moves the schema from version i to i + 1 (PRAGMA user_version).
 * Never edit a released step; append a new one.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO meta (key, value) VALUES ('app', 'speechflow');
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    pid INTEGER,
    tool_version TEXT,
    settings TEXT,
    files_total INTEGER, files_done INTEGER, files_skipped INTEGER, files_failed INTEGER,
    audio_ms INTEGER
  );
  CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    rel_path TEXT NOT NULL,
    output_stem TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'done', 'failed')),
    duration_ms INTEGER,
    chunk_count INTEGER,
    language TEXT,
    outputs TEXT,
    error_code TEXT,
    error TEXT,
    last_run_id INTEGER REFERENCES runs(id),
    updated_at TEXT NOT NULL
  );
  CREATE INDEX files_status ON files(status);
  CREATE TABLE chunks (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    spans TEXT NOT NULL,
    audio_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    commits INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    elapsed_ms INTEGER,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (file_id, idx)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE summaries (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export type FileStatus = "pending" | "processing" | "done" | "failed";

export interface FileRow {
  id: number;
  path: string;
  rel_path: string;
  output_stem: string;
  size: number;
  mtime_ms: number;
  content_hash: string;
  fingerprint: string;
  status: FileStatus;
  duration_ms: number | null;
  chunk_count: number | null;
  language: string | null;
  outputs: string | null;
  error_code: string | null;
  error: string | null;
  last_run_id: number | null;
  updated_at: string;
}

export interface ChunkRow {
  file_id: number;
  idx: number;
  spans: string;
  audio_ms: number;
  status: "pending" | "done" | "failed";
  attempts: number;
  commits: number;
  result: string | null;
  error: string | null;
  elapsed_ms: number | null;
}

export interface DoneChunk {
  idx: number;
  spans: Span[];
  segments: RawSegment[];
}

export interface StatusSummary {
  db: string;
  files: { total: number; done: number; pending: number; processing: number; failed: number };
  chunks: { done: number; pending: number; failed: number };
  audioMsDone: number;
  failures: { path: string; code: string | null; error: string | null; updatedAt: string }[];
  lastRun: RunInfo | null;
  /** the most recent runs, newest first */
  runs: RunInfo[];
}

export interface RunInfo {
  id: number;
  startedAt: string;
  endedAt: string | null;
  status: string;
  elapsedMs: number | null;
  files: number | null;
  done: number | null;
  skipped: number | null;
  failed: number | null;
  audioMs: number | null;
  /** audio seconds transcribed per wall-clock second */
  realtimeFactor: number | null;
}

const now = () => new Date().toISOString();

function isSqliteFile(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return n === 16 && head.toString("latin1") === "SQLite format 3\u0000";
  } finally {
    closeSync(fd);
  }
}

/**
 * The run's state in one SQLite file (WAL). Every finished chunk is committed on its own, so a
 * process killed at any point loses at most the chunks in flight.
 */
export class StateStore {
  readonly path: string;
  private db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
  }

  static open(path: string): StateStore {
    const existed = existsSync(path) && statSync(path).size > 0;
    if (existed && !isSqliteFile(path)) {
      throw new SpeechflowError("STATE_DB_INVALID", `${path} is not a speechflow state database (not an SQLite file); move it away or pass --db`);
    }
    // identity and integrity are checked read-only: even switching to WAL would write to a foreign file
    if (existed) StateStore.verify(path);
    mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      db.pragma("foreign_keys = ON");
    } catch (error) {
      throw new SpeechflowError("STATE_DB_INVALID", `cannot open state database ${path}: ${(error as Error).message}`);
    }
    const store = new StateStore(path, db);
    try {
      store.migrate(existed);
    } catch (error) {
      db.close();
      throw error instanceof SpeechflowError
        ? error
        : new SpeechflowError("STATE_DB_INVALID", `state database ${path} is damaged: ${(error as Error).message}; move it away to start afresh`);
    }
    return store;
  }

  private static verify(path: string): void {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw new SpeechflowError("STATE_DB_INVALID", `cannot open state database ${path}: ${(error as Error).message}; it was left untouched`);
    }
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const hasMeta = tables.some((t) => t.name === "meta");
      const app = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'app'").get() as { value: string } | undefined) : undefined;
      if (tables.length > 0 && app?.value !== "speechflow") {
        throw new SpeechflowError("STATE_DB_INVALID", `${path} is an SQLite database of another program; it was left untouched (pass --db to use another path)`);
      }
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw new SpeechflowError("STATE_DB_INVALID", `state database ${path} failed its integrity check (${String(check)}); it was left untouched`);
    } catch (error) {
      if (error instanceof SpeechflowError) throw error;
      throw new SpeechflowError("STATE_DB_INVALID", `state database ${path} is damaged (${(error as Error).message}); it was left untouched: move it away to start afresh`);
    } finally {
      db.close();
    }
  }

  private migrate(_existed: boolean): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new SpeechflowError("STATE_DB_INVALID", `${this.path} was written by a newer speechflow (schema ${version} > ${SCHEMA_VERSION}); upgrade speechflow`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // another process may hold the WAL; checkpointing is only tidiness
    }
    this.db.close();
  }

  beginRun(toolVersion: string, settings: unknown): number {
    const info = this.db
      .prepare("INSERT INTO runs (started_at, pid, tool_version, settings) VALUES (?, ?, ?, ?)")
      .run(now(), process.pid, toolVersion, JSON.stringify(settings));
    // a run killed earlier left its files 'processing': they are pending work now
    this.db.prepare("UPDATE files SET status = 'pending' WHERE status = 'processing'").run();
    this.db.prepare("UPDATE runs SET status = 'killed' WHERE status = 'running' AND id <> ?").run(info.lastInsertRowid);
    return Number(info.lastInsertRowid);
  }

  endRun(runId: number, status: string, totals: { files: number; done: number; skipped: number; failed: number; audioMs: number }): void {
    this.db
      .prepare(
        "UPDATE runs SET ended_at = ?, status = ?, files_total = ?, files_done = ?, files_skipped = ?, files_failed = ?, audio_ms = ? WHERE id = ?",
      )
      .run(now(), status, totals.files, totals.done, totals.skipped, totals.failed, totals.audioMs, runId);
  }

  getFile(path: string): FileRow | undefined {
    return this.db.prepare("SELECT * FROM files WHERE path = ?").get(path) as FileRow | undefined;
  }

  /** Records the file as seen with this content and settings; forgets its chunks when either changed. */
  prepareFile(input: {
    path: string;
    relPath: string;
    outputStem: string;
    size: number;
    mtimeMs: number;
    contentHash: string;
    fingerprint: string;
    runId: number;
  }): { row: FileRow; reset: boolean } {
    return this.db.transaction(() => {
      const existing = this.getFile(input.path);
      const unchanged = existing && existing.content_hash === input.contentHash && existing.fingerprint === input.fingerprint;
      if (existing && unchanged) {
        this.db
          .prepare("UPDATE files SET size = ?, mtime_ms = ?, rel_path = ?, output_stem = ?, last_run_id = ?, updated_at = ? WHERE id = ?")
          .run(input.size, input.mtimeMs, input.relPath, input.outputStem, input.runId, now(), existing.id);
        return { row: this.getFile(input.path)!, reset: false };
      }
      if (existing) {
        this.db.prepare("DELETE FROM chunks WHERE file_id = ?").run(existing.id);
        this.db
          .prepare(
            `UPDATE files SET rel_path = ?, output_stem = ?, size = ?, mtime_ms = ?, content_hash = ?, fingerprint = ?, status = 'pending',
             duration_ms = NULL, chunk_count = NULL, language = NULL, outputs = NULL, error_code = NULL, error = NULL, last_run_id = ?, updated_at = ? WHERE id = ?`,
          )
          .run(input.relPath, input.outputStem, input.size, input.mtimeMs, input.contentHash, input.fingerprint, input.runId, now(), existing.id);
        return { row: this.getFile(input.path)!, reset: true };
      }
      this.db
        .prepare(
          `INSERT INTO files (path, rel_path, output_stem, size, mtime_ms, content_hash, fingerprint, status, last_run_id, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(input.path, input.relPath, input.outputStem, input.size, input.mtimeMs, input.contentHash, input.fingerprint, input.runId, now());
      return { row: this.getFile(input.path)!, reset: true };
    })();
  }

  markProcessing(fileId: number): void {
    this.db.prepare("UPDATE files SET status = 'processing', error_code = NULL, error = NULL, updated_at = ? WHERE id = ?").run(now(), fileId);
  }

  markPending(fileId: number): void {
    this.db.prepare("UPDATE files SET status = 'pending', updated_at = ? WHERE id = ?").run(now(), fileId);
  }

  doneChunks(fileId: number): Map<number, DoneChunk> {
    const rows = this.db.prepare("SELECT idx, spans, result FROM chunks WHERE file_id = ? AND status = 'done' ORDER BY idx").all(fileId) as Pick<
      ChunkRow,
      "idx" | "spans" | "result"
    >[];
    return new Map(rows.map((r) => [r.idx, { idx: r.idx, spans: JSON.parse(r.spans) as Span[], segments: JSON.parse(r.result ?? "[]") as RawSegment[] }]));
  }

  chunkAttempts(fileId: number, idx: number): number {
    const row = this.db.prepare("SELECT attempts FROM chunks WHERE file_id = ? AND idx = ?").get(fileId, idx) as { attempts: number } | undefined;
    return row?.attempts ?? 0;
  }

  private commitsSoFar = 0;

  /** One transaction per finished chunk: this is the unit of work a kill can never lose. */
  commitChunk(fileId: number, idx: number, spans: Span[], audioMs: number, segments: RawSegment[], elapsedMs: number): void {
    // fault injection for tests where no small tmpfs can be mounted: a "full disk" after N commits
    const limit = process.env.SPEECHFLOW_FAULT_DB_FULL_AFTER;
    if (limit !== undefined && this.commitsSoFar++ >= Number(limit)) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    this.db
      .prepare(
        `INSERT INTO chunks (file_id, idx, spans, audio_ms, status, attempts, commits, result, elapsed_ms, updated_at)
         VALUES (?, ?, ?, ?, 'done', 1, 1, ?, ?, ?)
         ON CONFLICT (file_id, idx) DO UPDATE SET spans = excluded.spans, audio_ms = excluded.audio_ms, status = 'done',
           attempts = chunks.attempts + 1, commits = chunks.commits + 1, result = excluded.result, error = NULL,
           elapsed_ms = excluded.elapsed_ms, updated_at = excluded.updated_at`,
      )
      .run(fileId, idx, JSON.stringify(spans), audioMs, JSON.stringify(segments), elapsedMs, now());
  }

  recordChunkFailure(fileId: number, idx: number, spans: Span[], audioMs: number, error: string, final: boolean): number {
    this.db
      .prepare(
        `INSERT INTO chunks (file_id, idx, spans, audio_ms, status, attempts, error, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)
         ON CONFLICT (file_id, idx) DO UPDATE SET status = excluded.status, attempts = chunks.attempts + 1,
           error = excluded.error, updated_at = excluded.updated_at`,
      )
      .run(fileId, idx, JSON.stringify(spans), audioMs, final ? "failed" : "pending", error, now());
    return this.chunkAttempts(fileId, idx);
  }

  /** Failed chunks get a fresh set of attempts when their file is run again. */
  resetFailedChunks(fileId: number): void {
    this.db.prepare("UPDATE chunks SET status = 'pending', attempts = 0 WHERE file_id = ? AND status <> 'done'").run(fileId);
  }

  finishFile(fileId: number, result: { durationMs: number; chunkCount: number; language: string | null; outputs: string[] }): void {
    this.db
      .prepare("UPDATE files SET status = 'done', duration_ms = ?, chunk_count = ?, language = ?, outputs = ?, error_code = NULL, error = NULL, updated_at = ? WHERE id = ?")
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

  failFile(fileId: number, code: string, message: string): void {
    this.db.prepare("UPDATE files SET status = 'failed', error_code = ?, error = ?, updated_at = ? WHERE id = ?").run(code, message, now(), fileId);
  }

  setDuration(fileId: number, durationMs: number): void {
    this.db.prepare("UPDATE files SET duration_ms = ? WHERE id = ?").run(durationMs, fileId);
  }

  /** LLM summaries by (transcript, endpoints, prompt version, options): a re-run does not pay twice. */
  getSummary<T>(key: string): T | undefined {
    const row = this.db.prepare("SELECT record FROM summaries WHERE key = ?").get(key) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as T) : undefined;
  }

  putSummary(key: string, record: unknown): void {
    this.db.prepare("INSERT OR REPLACE INTO summaries (key, record, created_at) VALUES (?, ?, ?)").run(key, JSON.stringify(record), now());
  }

  filesWithStatus(status: FileStatus): FileRow[] {
    return this.db.prepare("SELECT * FROM files WHERE status = ? ORDER BY id").all(status) as FileRow[];
  }

  allFiles(): FileRow[] {
    return this.db.prepare("SELECT * FROM files ORDER BY id").all() as FileRow[];
  }

  /** Drops a file and (by cascade) its chunks. */
  forgetFile(fileId: number): void {
    this.db.prepare("DELETE FROM files WHERE id = ?").run(fileId);
  }

  chunks(fileId: number): ChunkRow[] {
    return this.db.prepare("SELECT * FROM chunks WHERE file_id = ? ORDER BY idx").all(fileId) as ChunkRow[];
  }

  summary(): StatusSummary {
    const count = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    const files = {
      total: count("SELECT COUNT(*) AS n FROM files"),
      done: count("SELECT COUNT(*) AS n FROM files WHERE status = 'done'"),
      pending: count("SELECT COUNT(*) AS n FROM files WHERE status = 'pending'"),
      processing: count("SELECT COUNT(*) AS n FROM files WHERE status = 'processing'"),
      failed: count("SELECT COUNT(*) AS n FROM files WHERE status = 'failed'"),
    };
    const chunks = {
      done: count("SELECT COUNT(*) AS n FROM chunks WHERE status = 'done'"),
      pending: count("SELECT COUNT(*) AS n FROM chunks WHERE status = 'pending'"),
      failed: count("SELECT COUNT(*) AS n FROM chunks WHERE status = 'failed'"),
    };
    const audio = this.db.prepare("SELECT COALESCE(SUM(duration_ms), 0) AS n FROM files WHERE status = 'done'").get() as { n: number };
    const failures = this.db
      .prepare("SELECT path, error_code AS code, error, updated_at AS updatedAt FROM files WHERE status = 'failed' ORDER BY path")
      .all() as StatusSummary["failures"];
    const rows = this.db
      .prepare(
        `SELECT id, started_at AS startedAt, ended_at AS endedAt, status, files_total AS files, files_done AS done,
         files_skipped AS skipped, files_failed AS failed, audio_ms AS audioMs FROM runs ORDER BY id DESC LIMIT 20`,
      )
      .all() as Omit<RunInfo, "elapsedMs" | "realtimeFactor">[];
    const runs = rows.map((r): RunInfo => {
      const elapsedMs = r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : null;
      return { ...r, elapsedMs, realtimeFactor: elapsedMs && r.audioMs ? Math.round((r.audioMs / elapsedMs) * 100) / 100 : null };
    });
    return { db: this.path, files, chunks, audioMsDone: audio.n, failures, lastRun: runs[0] ?? null, runs };
  }
}
