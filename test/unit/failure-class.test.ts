import { describe, expect, it } from "vitest";
import { chunkFailureAction, failureScope, fileReadError, isPermanentFileFailure } from "../../src/errors/failure-class.js";
import { ExitCode, SpeechflowError } from "../../src/errors/speechflow-error.js";

const err = (code: ConstructorParameters<typeof SpeechflowError>[0], retryable = false) => new SpeechflowError(code, "x", { retryable });

describe("failure classification (one place)", () => {
  it("model, database and database-write failures stop the run; file failures do not", () => {
    expect(failureScope(err("MODEL_INVALID"))).toBe("run");
    expect(failureScope(err("STATE_DB_INVALID"))).toBe("run");
    expect(failureScope(err("STATE_DB_WRITE_FAILED"))).toBe("run");
    expect(failureScope(err("QUEUE_UNAVAILABLE"))).toBe("run");
    expect(failureScope(err("MEDIA_UNREADABLE"))).toBe("file");
    expect(failureScope(err("OUTPUT_WRITE_FAILED"))).toBe("file");
    expect(failureScope(err("CHUNK_FAILED"))).toBe("file");
  });

  it("an interruption wins over everything once the run is stopping", () => {
    expect(failureScope(err("INTERRUPTED"))).toBe("interrupted");
    expect(failureScope(err("MODEL_INVALID"), true)).toBe("interrupted");
  });

  it("only failures of the file's own bytes are permanent", () => {
    expect(["MEDIA_UNREADABLE", "MEDIA_EMPTY", "MEDIA_NO_AUDIO"].every(isPermanentFileFailure)).toBe(true);
    expect(["CHUNK_FAILED", "INPUT_CHANGED", "WORKER_CRASHED", null, undefined].some(isPermanentFileFailure)).toBe(false);
  });

  it("chunks: retry while attempts remain and the error allows it", () => {
    expect(chunkFailureAction(err("WORKER_CRASHED", true), 0, 3)).toBe("retry");
    expect(chunkFailureAction(err("WORKER_CRASHED", true), 2, 3)).toBe("give-up");
    expect(chunkFailureAction(err("CHUNK_FAILED", false), 0, 3)).toBe("give-up");
    expect(chunkFailureAction(err("MODEL_INVALID", true), 0, 3)).toBe("stop-run");
  });

  it("fs errors read as a user would say them, naming the file", () => {
    const e = fileReadError(Object.assign(new Error("x"), { code: "EACCES" }), "/in/a.wav");
    expect([e.code, e.message, e.file]).toEqual(["MEDIA_UNREADABLE", "permission denied", "/in/a.wav"]);
    expect(fileReadError(Object.assign(new Error("x"), { code: "ENOENT" }), "/a").code).toBe("INPUT_NOT_FOUND");
    expect(fileReadError(Object.assign(new Error("aborted"), { name: "AbortError" }), "/a").code).toBe("INTERRUPTED");
  });

  it("SIGTERM has its own exit code in the table", () => {
    expect(ExitCode.terminated).toBe(143);
    expect(ExitCode.interrupted).toBe(130);
  });
});
