import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { resolveModel } from "../models/resolve-model.js";
import { armWriteFault } from "../outputs/write-outputs.js";
import { RunLock } from "../store/run-lock.js";
import { StateStore } from "../store/state-store.js";
import { SummaryStage, type SummaryTotals } from "./summary-stage.js";

export interface SummarizeRunResult {
  status: "completed" | "interrupted";
  files: number;
  summaries: SummaryTotals;
  report?: string;
}

/** The model's name for the PDFs; the model file itself may be gone by now. */
function modelName(ctx: RunContext): string {
  try {
    return resolveModel(ctx.config.model, ctx.cwd, ctx.env).name;
  } catch {
    return ctx.config.model;
  }
}

/** `speechflow summarize`: the summary stage alone, over every finished file in the state database. */
export async function runSummarize(request: { force: boolean }, ctx: RunContext): Promise<SummarizeRunResult> {
  const { config, emit, signal } = ctx;
  const { outputDir, dbPath } = resolvePaths(config, ctx.cwd);
  armWriteFault(ctx.seams?.faults?.writeError);
  const lock = RunLock.acquire(dbPath);
  try {
    const store = StateStore.open(dbPath);
    try {
      const stage = new SummaryStage(config, store, outputDir, emit, signal, ctx.env, modelName(ctx), ctx.seams?.retryBaseDelayMs);
      const files = store.files.withStatus("done");
      await Promise.all(files.map((file) => stage.process(file, request.force)));
      const report = signal.aborted
        ? undefined
        : await stage.writeBatchReport(store.files.all().map((f) => ({ path: f.path, status: f.status, durationMs: f.durationMs, error: f.error })));
      return { status: signal.aborted ? "interrupted" : "completed", files: files.length, summaries: stage.totals, ...(report ? { report } : {}) };
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
