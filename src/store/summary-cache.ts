import type Database from "better-sqlite3";
import { nowIso as now } from "./tracked-file.js";

/** LLM summaries by (transcript, endpoints, prompt version, options): a re-run does not pay twice. */
export class SummaryCache {
  constructor(private readonly db: Database.Database) {}

  get<T>(key: string): T | undefined {
    const row = this.db.prepare("SELECT record FROM summaries WHERE key = ?").get(key) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as T) : undefined;
  }

  put(key: string, record: unknown): void {
    this.db.prepare("INSERT OR REPLACE INTO summaries (key, record, created_at) VALUES (?, ?, ?)").run(key, JSON.stringify(record), now());
  }
}
