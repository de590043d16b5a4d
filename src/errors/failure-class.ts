import { type ErrorCode, SpeechflowError } from "./speechflow-error.js";

/**
 * Where a failure stops, decided in one place:
 * - `run`: nothing more can be done or saved in this run (the model does not load, the state
 *   database is unusable or refuses writes, the --queue Redis is unusable): the run stops and exits 1.
 * - `file`: this input failed; the run goes on with the others.
 * - `interrupted`: Ctrl-C/SIGTERM; the input is left pending for the next run.
 */
export type FailureScope = "run" | "file" | "interrupted";

const RUN_FATAL: ReadonlySet<ErrorCode> = new Set(["MODEL_INVALID", "STATE_DB_INVALID", "STATE_DB_WRITE_FAILED", "QUEUE_UNAVAILABLE"]);

/** failures that come from the file's bytes: trying the same bytes again cannot help */
const PERMANENT: ReadonlySet<ErrorCode> = new Set(["MEDIA_UNREADABLE", "MEDIA_EMPTY", "MEDIA_NO_AUDIO"]);

export function failureScope(error: SpeechflowError, aborted = false): FailureScope {
  if (error.code === "INTERRUPTED" || aborted) return "interrupted";
  return RUN_FATAL.has(error.code) ? "run" : "file";
}

/** A file that failed this way and has not changed since is reported again without decoding it again. */
export function isPermanentFileFailure(code: string | null | undefined): code is ErrorCode {
  return code !== null && code !== undefined && PERMANENT.has(code as ErrorCode);
}

/** Whether one more attempt at a chunk can help: engine errors and worker crashes can, fatal ones stop the run. */
export function chunkFailureAction(error: SpeechflowError, attemptsSoFar: number, maxAttempts: number): "stop-run" | "give-up" | "retry" {
  if (RUN_FATAL.has(error.code)) return "stop-run";
  return !error.retryable || attemptsSoFar + 1 >= maxAttempts ? "give-up" : "retry";
}

/** An fs error while reading an input, as the user should read it. */
export function fileReadError(error: unknown, file: string): SpeechflowError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new SpeechflowError("INPUT_NOT_FOUND", "file disappeared before it was read", { file });
  if (code === "EACCES" || code === "EPERM") return new SpeechflowError("MEDIA_UNREADABLE", "permission denied", { file });
  if (code === "EISDIR") return new SpeechflowError("MEDIA_UNREADABLE", "is a directory, not a file", { file });
  if (code === "INTERRUPTED" || (error as SpeechflowError).code === "INTERRUPTED" || (error as Error).name === "AbortError") {
    return new SpeechflowError("INTERRUPTED", "interrupted", { file });
  }
  return new SpeechflowError("MEDIA_UNREADABLE", `cannot read the file (${code ?? (error as Error).message})`, { file, retryable: true });
}
