import type { RunPaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import type { EngineUsage } from "../engine/chunk-transcriber.js";
import { toSpeechflowError } from "../errors/speechflow-error.js";
import { type ManifestEntry, manifestJsonl } from "../outputs/manifest-jsonl.js";
import { notifyWebhook } from "../outputs/notify-webhook.js";
import { writeOutputFile } from "../outputs/write-outputs.js";
import type { StateStore } from "../store/state-store.js";
import type { RunLedger } from "./run-ledger.js";
import type { RunSummary } from "./run-summary.js";
import type { SummaryStage } from "./summary-stage.js";

export interface FinishRunInput {
  paths: RunPaths;
  store: StateStore;
  summaries: SummaryStage;
  ledger: RunLedger;
  runId: number;
  /** every input of the run, in input order */
  inputOrder: string[];
  startedAt: number;
  /** the error that stopped the run, if one did */
  fatal: unknown;
  /** remote requests and their cost, from the engine */
  usage: EngineUsage;
}

/** Tries an optional output; a failure is a warning, never the run's failure. */
async function optional<T>(ctx: RunContext, write: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    ctx.emit({ type: "warning", message: toSpeechflowError(error).message });
    return undefined;
  }
}

/**
 * The end of every run, also one stopped by a fatal error: manifest.jsonl, report.pdf, the run's
 * row in the database; then run-end and the webhook (or the fatal error is thrown).
 */
export async function finishRun(input: FinishRunInput, ctx: RunContext): Promise<RunSummary> {
  const { ledger, summaries, paths, signal } = { ...input, signal: ctx.signal };
  const entries = ledger.entries([...new Set(input.inputOrder)]);
  const manifest = await optional(ctx, () => writeOutputFile(paths.outputDir, "manifest.jsonl", manifestJsonl(entries, paths.outputDir)));
  const report = signal.aborted ? undefined : await optional(ctx, () => summaries.writeBatchReport(entries.map(reportRow)));
  const summary: RunSummary = {
    status: signal.aborted || ledger.counts.interrupted > 0 ? "interrupted" : "completed",
    files: input.inputOrder.length,
    done: ledger.counts.done,
    skipped: ledger.counts.skipped,
    failed: ledger.counts.failed,
    audioMs: ledger.audioMs,
    elapsedMs: Date.now() - input.startedAt,
    failures: ledger.failures,
    ...(manifest ? { manifest } : {}),
    ...(report ? { report } : {}),
    ...(summaries.wanted ? { summaries: { ...summaries.totals } } : {}),
    ...(input.usage.remote ? { remote: input.usage.remote } : {}),
  };
  try {
    input.store.runs.end(input.runId, input.fatal !== undefined ? "failed" : summary.status, summary);
  } catch {
    // a full disk may refuse even this; the files and chunks are what matters, and they are saved
  }
  if (input.fatal !== undefined) throw input.fatal;
  ctx.emit({ type: "run-end", ...summary });
  await notify(summary, ctx);
  return summary;
}

const reportRow = (e: ManifestEntry) => ({ path: e.path, status: e.status, durationMs: e.durationMs, error: e.error?.message ?? null });

async function notify(summary: RunSummary, ctx: RunContext): Promise<void> {
  if (!ctx.config.notifyUrl) return;
  const base = ctx.seams?.retryBaseDelayMs;
  const sent = await notifyWebhook(ctx.config.notifyUrl, { type: "run-end", ...summary }, base === undefined ? {} : { baseDelayMs: base });
  if (!sent.ok) ctx.emit({ type: "warning", message: `run-end notification not delivered after ${sent.attempts} attempt(s): ${sent.message}` });
}
