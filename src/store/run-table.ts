import type Database from "better-sqlite3";
import { nowIso as now } from "./tracked-file.js";

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

export interface RunTotals {
  files: number;
  done: number;
  skipped: number;
  failed: number;
  audioMs: number;
}

/** The `runs` table: one row per run, for `status` and for finding runs that were killed. */
export class RunTable {
  constructor(private readonly db: Database.Database) {}

  begin(toolVersion: string, settings: unknown): number {
    const info = this.db
      .prepare("INSERT INTO runs (started_at, pid, tool_version, settings) VALUES (?, ?, ?, ?)")
      .run(now(), process.pid, toolVersion, JSON.stringify(settings));
    this.db.prepare("UPDATE runs SET status = 'killed' WHERE status = 'running' AND id <> ?").run(info.lastInsertRowid);
    return Number(info.lastInsertRowid);
  }

  end(runId: number, status: string, totals: RunTotals): void {
    this.db
      .prepare("UPDATE runs SET ended_at = ?, status = ?, files_total = ?, files_done = ?, files_skipped = ?, files_failed = ?, audio_ms = ? WHERE id = ?")
      .run(now(), status, totals.files, totals.done, totals.skipped, totals.failed, totals.audioMs, runId);
  }

  /** The most recent runs, newest first. */
  recent(limit = 20): RunInfo[] {
    const rows = this.db
      .prepare(
        `SELECT id, started_at AS startedAt, ended_at AS endedAt, status, files_total AS files, files_done AS done,
         files_skipped AS skipped, files_failed AS failed, audio_ms AS audioMs FROM runs ORDER BY id DESC LIMIT ?`,
      )
      .all(limit) as Omit<RunInfo, "elapsedMs" | "realtimeFactor">[];
    return rows.map((r): RunInfo => {
      const elapsedMs = r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : null;
      return { ...r, elapsedMs, realtimeFactor: elapsedMs && r.audioMs ? Math.round((r.audioMs / elapsedMs) * 100) / 100 : null };
    });
  }
}
