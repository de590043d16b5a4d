import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { SpeechflowError } from "../errors/speechflow-error.js";

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
  // which backend made each chunk, and for remote ones the provider, model, request ids and billed seconds
  `
  ALTER TABLE chunks ADD COLUMN backend TEXT;
  ALTER TABLE chunks ADD COLUMN remote TEXT;
  `,
  // speaker turns per file, under the diarization settings that made them (re-diarized when those change)
  `
  CREATE TABLE diarizations (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    engine TEXT NOT NULL,
    turns TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

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

/** Identity and integrity are checked read-only: even switching to WAL would write to a foreign file. */
function verifyExisting(path: string): void {
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
    if (check !== "ok")
      throw new SpeechflowError("STATE_DB_INVALID", `state database ${path} failed its integrity check (${String(check)}); it was left untouched`);
  } catch (error) {
    if (error instanceof SpeechflowError) throw error;
    throw new SpeechflowError(
      "STATE_DB_INVALID",
      `state database ${path} is damaged (${(error as Error).message}); it was left untouched: move it away to start afresh`,
    );
  } finally {
    db.close();
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new SpeechflowError("STATE_DB_INVALID", `${path} was written by a newer speechflow (schema ${version} > ${SCHEMA_VERSION}); upgrade speechflow`);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Opens (creating or migrating) the one SQLite connection (WAL) that every table class shares. */
export function openStateDb(path: string): Database.Database {
  const existed = existsSync(path) && statSync(path).size > 0;
  if (existed && !isSqliteFile(path)) {
    throw new SpeechflowError("STATE_DB_INVALID", `${path} is not a speechflow state database (not an SQLite file); move it away or pass --db`);
  }
  if (existed) verifyExisting(path);
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
  try {
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error instanceof SpeechflowError
      ? error
      : new SpeechflowError("STATE_DB_INVALID", `state database ${path} is damaged: ${(error as Error).message}; move it away to start afresh`);
  }
  return db;
}
