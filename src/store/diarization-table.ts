import type Database from "better-sqlite3";
import { nowIso as now } from "./tracked-file.js";

export interface StoredDiarization {
  fingerprint: string;
  /** the engine that ran: stereo or model */
  engine: string;
  turns: { start: number; end: number; speaker: string }[];
}

/** The `diarizations` table: one result per file, so a re-run or a re-render never diarizes twice. */
export class DiarizationTable {
  constructor(private readonly db: Database.Database) {}

  get(fileId: number): StoredDiarization | undefined {
    const row = this.db.prepare("SELECT fingerprint, engine, turns FROM diarizations WHERE file_id = ?").get(fileId) as
      | { fingerprint: string; engine: string; turns: string }
      | undefined;
    return row ? { fingerprint: row.fingerprint, engine: row.engine, turns: JSON.parse(row.turns) as StoredDiarization["turns"] } : undefined;
  }

  put(fileId: number, result: StoredDiarization): void {
    this.db
      .prepare(
        `INSERT INTO diarizations (file_id, fingerprint, engine, turns, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (file_id) DO UPDATE SET fingerprint = excluded.fingerprint, engine = excluded.engine, turns = excluded.turns, created_at = excluded.created_at`,
      )
      .run(fileId, result.fingerprint, result.engine, JSON.stringify(result.turns), now());
  }
}
