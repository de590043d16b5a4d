import { isPermanentFileFailure } from "../errors/failure-class.js";
import type { ErrorCode } from "../errors/speechflow-error.js";
import type { TrackedFile } from "../store/tracked-file.js";

/** What is known about an input now. `contentHash` is absent until hashing was worth its cost. */
export interface FileFacts {
  size: number;
  mtimeMs: number;
  outputStem: string;
  /** every requested output format exists for `outputStem` */
  outputsPresent: boolean;
  /** diarization is off, or the stored speaker turns were made with the current diarization settings */
  diarizationCurrent: boolean;
  contentHash?: string;
}

export interface DecisionSettings {
  fingerprint: string;
  /** `speechflow retry`: try files that failed for good again even when unchanged */
  retryFailed: boolean;
}

export type FileAction =
  /** failed for good before and not changed since: reported again without decoding it again */
  | { kind: "report-failure-again"; code: ErrorCode; message: string }
  /** done under the same settings and every output is there */
  | { kind: "skip-unchanged" }
  /** size/mtime cannot tell: hash the content, then decide again */
  | { kind: "hash" }
  /** transcribed before with this content and settings; only output files (or speaker turns) are missing or stale */
  | { kind: "render-outputs" }
  /** (re)transcribe; `resume` when chunks of this content and settings may already be stored */
  | { kind: "transcribe"; resume: boolean };

type Stored = Pick<TrackedFile, "status" | "fingerprint" | "size" | "mtimeMs" | "outputStem" | "contentHash" | "errorCode" | "error">;

/**
 * The rerun policy, as one pure function of (file facts, stored row, settings). Called once with
 * stat facts (cheap), and, when it answers `hash`, once more with the content hash.
 */
export function decideFileAction(facts: FileFacts, stored: Stored | undefined, settings: DecisionSettings): FileAction {
  const sameSettings = stored !== undefined && stored.fingerprint === settings.fingerprint;
  if (facts.contentHash === undefined) {
    const sameStat = sameSettings && stored.size === facts.size && stored.mtimeMs === facts.mtimeMs;
    if (sameStat && stored.status === "failed" && isPermanentFileFailure(stored.errorCode) && !settings.retryFailed) {
      // a corrupt file does not heal overnight
      return {
        kind: "report-failure-again",
        code: stored.errorCode,
        message: `${stored.error ?? "failed"} (unchanged since; fix the file, or run speechflow retry)`,
      };
    }
    const current = facts.outputsPresent && facts.diarizationCurrent;
    if (sameStat && stored.status === "done" && stored.outputStem === facts.outputStem && current) return { kind: "skip-unchanged" };
    return { kind: "hash" };
  }
  const sameContent = sameSettings && stored.contentHash === facts.contentHash;
  if (!sameContent) return { kind: "transcribe", resume: false };
  // new diarization settings re-diarize and re-render, never re-transcribe
  if (stored.status === "done") return facts.outputsPresent && facts.diarizationCurrent ? { kind: "skip-unchanged" } : { kind: "render-outputs" };
  return { kind: "transcribe", resume: true };
}
