/**
 * Typed lifecycle events. The core never prints; reporters (progress bars, plain lines, NDJSON,
 * silent) turn these into output. The NDJSON reporter writes them unchanged, so every field here
 * is part of the `--json` contract.
 */
export interface FailureInfo {
  file: string;
  code: string;
  message: string;
}

export type SpeechflowEvent =
  | { type: "run-start"; runId: number; inputs: number; model: string; workers: number; threads: number; db: string; output: string }
  | { type: "model-download-start"; name: string; url: string; sizeMiB: number }
  | { type: "model-download-progress"; name: string; receivedBytes: number; totalBytes: number | null }
  | { type: "model-download-done"; name: string; path: string; bytes: number; resumed: boolean }
  | { type: "engine-ready"; workers: number; loadMs: number; device: string }
  | { type: "file-start"; file: string; relPath: string; resumedChunks: number }
  | { type: "file-duration"; file: string; durationMs: number }
  | { type: "file-skipped"; file: string; reason: "unchanged" }
  | { type: "chunk-done"; file: string; index: number; audioMs: number; elapsedMs: number }
  | { type: "chunk-retry"; file: string; index: number; attempt: number; message: string }
  | { type: "file-done"; file: string; durationMs: number; chunks: number; outputs: string[]; elapsedMs: number }
  | { type: "file-failed"; file: string; code: string; message: string }
  | { type: "worker-exit"; worker: number; reason: string; inFlight: number }
  | { type: "warning"; message: string; file?: string }
  | {
      type: "run-end";
      status: "completed" | "interrupted" | "failed";
      files: number;
      done: number;
      skipped: number;
      failed: number;
      audioMs: number;
      elapsedMs: number;
      failures: FailureInfo[];
    };

export type EventType = SpeechflowEvent["type"];
export type Emit = (event: SpeechflowEvent) => void;
