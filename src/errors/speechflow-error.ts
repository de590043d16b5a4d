/** Exit codes are part of the CLI contract (README, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  fatal: 1,
  usage: 2,
  someInputsFailed: 3,
  /** eval: overall WER above --max-wer */
  werAboveMax: 4,
  /** another run holds the state database (EX_TEMPFAIL: try again later) */
  locked: 75,
  /** stopped by Ctrl-C (SIGINT): run the same command again to resume */
  interrupted: 130,
  /** stopped by SIGTERM (128 + 15), as service managers expect */
  terminated: 143,
} as const;

export type ErrorCode =
  | "USAGE"
  | "CONFIG_INVALID"
  | "FFMPEG_NOT_FOUND"
  | "FFMPEG_FAILED"
  | "MEDIA_EMPTY"
  | "MEDIA_UNREADABLE"
  | "MEDIA_NO_AUDIO"
  | "INPUT_NOT_FOUND"
  | "MODEL_NOT_FOUND"
  | "MODEL_INVALID"
  | "ENGINE_UNAVAILABLE"
  | "WORKER_CRASHED"
  | "CHUNK_FAILED"
  | "STATE_DB_INVALID"
  | "LOCKED"
  | "OUTPUT_WRITE_FAILED"
  | "INTERRUPTED"
  | "DOWNLOAD_FAILED"
  | "INPUT_CHANGED"
  | "STATE_DB_WRITE_FAILED"
  | "LLM_FAILED"
  | "SUMMARY_INVALID"
  /** a remote transcription service failed or answered with something unusable */
  | "REMOTE_FAILED"
  /** the remote service refused the key (401/403): remote use stops for the run */
  | "REMOTE_AUTH"
  /** speaker diarization failed for a file (its transcript is kept; the next run tries again) */
  | "DIARIZATION_FAILED"
  /** a chunk's audio is missing from the blob store (deleted, or another store than the coordinator's) */
  | "BLOB_NOT_FOUND"
  /** the blob store refused or could not be reached (credentials, missing bucket, outage) */
  | "BLOB_STORE_FAILED"
  /** the Redis queue (--queue) cannot be reached or is unusable (version, eviction policy) */
  | "QUEUE_UNAVAILABLE"
  /** --vad silero, and Silero's model or sherpa-onnx's addon does not load */
  | "VAD_UNAVAILABLE"
  | "INTERNAL";

export interface SpeechflowErrorOptions {
  exitCode?: number;
  retryable?: boolean;
  /** the input file the error is about, so reporters can name it */
  file?: string;
  cause?: unknown;
}

export class SpeechflowError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly retryable: boolean;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: SpeechflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SpeechflowError";
    this.code = code;
    this.exitCode = options.exitCode ?? (code === "USAGE" || code === "CONFIG_INVALID" ? ExitCode.usage : ExitCode.fatal);
    this.retryable = options.retryable ?? false;
    this.file = options.file;
  }
}

export function toSpeechflowError(error: unknown): SpeechflowError {
  if (error instanceof SpeechflowError) return error;
  const sqliteCode = (error as { code?: unknown }).code;
  if (typeof sqliteCode === "string" && sqliteCode.startsWith("SQLITE_")) {
    // the state database refuses writes (disk full, read-only, I/O error): nothing more can be saved
    const hint = sqliteCode === "SQLITE_FULL" ? "free some space" : sqliteCode.startsWith("SQLITE_READONLY") ? "make it writable" : "check the disk";
    return new SpeechflowError(
      "STATE_DB_WRITE_FAILED",
      `the state database cannot be written (${(error as Error).message}); ${hint} and run again: finished chunks are saved`,
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SpeechflowError("INTERNAL", message, { cause: error });
}
