import type { FailureInfo } from "../core/events.js";
import type { SpeechflowError } from "../errors/speechflow-error.js";
import type { ManifestEntry } from "../outputs/manifest-jsonl.js";
import type { TrackedFile } from "../store/tracked-file.js";

export type FileOutcome = "done" | "skipped" | "failed" | "interrupted";

const knownFacts = (file: TrackedFile | undefined) => ({
  hash: file?.contentHash || null,
  durationMs: file?.durationMs ?? null,
  outputs: file?.outputs ?? [],
});

/**
 * A run's bookkeeping: outcome counts, failures and one manifest entry per input. Recording an
 * outcome is the only way to change it, so counts and manifest always agree.
 */
export class RunLedger {
  readonly counts: Record<FileOutcome, number> = { done: 0, skipped: 0, failed: 0, interrupted: 0 };
  readonly failures: FailureInfo[] = [];
  /** audio transcribed in this run (not counting files skipped as unchanged) */
  audioMs = 0;
  private readonly manifest = new Map<string, ManifestEntry>();

  done(path: string, entry: { hash: string | null; durationMs: number | null; outputs: string[] }, transcribed: boolean): void {
    this.counts.done++;
    if (transcribed) this.audioMs += entry.durationMs ?? 0;
    this.manifest.set(path, { path, ...entry, status: "done", error: null });
  }

  skipped(path: string, file: TrackedFile): void {
    this.counts.skipped++;
    this.manifest.set(path, { path, ...knownFacts(file), status: "unchanged", error: null });
  }

  failed(path: string, error: SpeechflowError, file: TrackedFile | undefined): FailureInfo {
    this.counts.failed++;
    const info = { file: path, code: error.code, message: error.message };
    this.failures.push(info);
    this.manifest.set(path, { path, ...knownFacts(file), outputs: [], status: "failed", error: { code: error.code, message: error.message } });
    return info;
  }

  interrupted(path: string, file: TrackedFile | undefined): void {
    this.counts.interrupted++;
    this.manifest.set(path, { path, ...knownFacts(file), status: "interrupted", error: null });
  }

  /** One entry per input in input order (the same inputs give the same lines every night); inputs never reached are "interrupted". */
  entries(inputOrder: string[]): ManifestEntry[] {
    return inputOrder.map(
      (path) => this.manifest.get(path) ?? { path, hash: null, durationMs: null, outputs: [], status: "interrupted" as const, error: null },
    );
  }
}
