/** Domain types of the state database; the snake_case rows never leave src/store. */
export type FileStatus = "pending" | "processing" | "done" | "failed";

/** One input as the state database knows it. */
export interface TrackedFile {
  id: number;
  /** absolute path, or the URL without credentials */
  path: string;
  relPath: string;
  outputStem: string;
  size: number;
  mtimeMs: number;
  /** SHA-256 of the content; "" when the file could never be read */
  contentHash: string;
  fingerprint: string;
  status: FileStatus;
  durationMs: number | null;
  chunkCount: number | null;
  language: string | null;
  /** absolute paths of the transcripts written for it */
  outputs: string[];
  errorCode: string | null;
  error: string | null;
  lastRunId: number | null;
  updatedAt: string;
}

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

export function toTrackedFile(row: FileRow): TrackedFile {
  return {
    id: row.id,
    path: row.path,
    relPath: row.rel_path,
    outputStem: row.output_stem,
    size: row.size,
    mtimeMs: row.mtime_ms,
    contentHash: row.content_hash,
    fingerprint: row.fingerprint,
    status: row.status,
    durationMs: row.duration_ms,
    chunkCount: row.chunk_count,
    language: row.language,
    outputs: row.outputs ? (JSON.parse(row.outputs) as string[]) : [],
    errorCode: row.error_code,
    error: row.error,
    lastRunId: row.last_run_id,
    updatedAt: row.updated_at,
  };
}

export const nowIso = () => new Date().toISOString();
