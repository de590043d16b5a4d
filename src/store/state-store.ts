import type Database from "better-sqlite3";
import { ChunkTable } from "./chunk-table.js";
import { DiarizationTable } from "./diarization-table.js";
import { FileTable } from "./file-table.js";
import { type RunInfo, RunTable } from "./run-table.js";
import { openStateDb } from "./state-db.js";
import { SummaryCache } from "./summary-cache.js";

export { SCHEMA_VERSION } from "./state-db.js";

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

export interface StoreOptions {
  /** fault injection: chunk commits fail as "disk full" after this many */
  failCommitsAfter?: number;
}

/**
 * The run's state in one SQLite file (WAL), split by concern over one connection: files, chunks,
 * runs and the summary cache. Every finished chunk is committed on its own, so a process killed at
 * any point loses at most the chunks in flight.
 */
export class StateStore {
  readonly files: FileTable;
  readonly chunks: ChunkTable;
  readonly runs: RunTable;
  readonly summaries: SummaryCache;
  readonly diarizations: DiarizationTable;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    options: StoreOptions,
  ) {
    this.files = new FileTable(db);
    this.chunks = new ChunkTable(db, options.failCommitsAfter);
    this.runs = new RunTable(db);
    this.summaries = new SummaryCache(db);
    this.diarizations = new DiarizationTable(db);
  }

  static open(path: string, options: StoreOptions = {}): StateStore {
    return new StateStore(path, openStateDb(path), options);
  }

  close(): void {
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // another process may hold the WAL; checkpointing is only tidiness
    }
    this.db.close();
  }

  /** A new run; files a killed run left 'processing' become pending work again. */
  beginRun(toolVersion: string, settings: unknown): number {
    const runId = this.runs.begin(toolVersion, settings);
    this.files.releaseAbandoned();
    return runId;
  }

  /** Everything `speechflow status` shows; the counts come from one query. */
  status(): StatusSummary {
    const c = this.db
      .prepare(
        `SELECT
           (SELECT COUNT(*) FROM files) AS total,
           (SELECT COUNT(*) FROM files WHERE status = 'done') AS done,
           (SELECT COUNT(*) FROM files WHERE status = 'pending') AS pending,
           (SELECT COUNT(*) FROM files WHERE status = 'processing') AS processing,
           (SELECT COUNT(*) FROM files WHERE status = 'failed') AS failed,
           (SELECT COUNT(*) FROM chunks WHERE status = 'done') AS chunksDone,
           (SELECT COUNT(*) FROM chunks WHERE status = 'pending') AS chunksPending,
           (SELECT COUNT(*) FROM chunks WHERE status = 'failed') AS chunksFailed,
           (SELECT COALESCE(SUM(duration_ms), 0) FROM files WHERE status = 'done') AS audioMsDone`,
      )
      .get() as Record<string, number>;
    const failures = this.db
      .prepare("SELECT path, error_code AS code, error, updated_at AS updatedAt FROM files WHERE status = 'failed' ORDER BY path")
      .all() as StatusSummary["failures"];
    const runs = this.runs.recent();
    return {
      db: this.path,
      files: { total: c.total!, done: c.done!, pending: c.pending!, processing: c.processing!, failed: c.failed! },
      chunks: { done: c.chunksDone!, pending: c.chunksPending!, failed: c.chunksFailed! },
      audioMsDone: c.audioMsDone!,
      failures,
      lastRun: runs[0] ?? null,
      runs,
    };
  }
}
