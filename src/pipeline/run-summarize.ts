import { resolve } from "node:path";
import type { RunContext } from "../core/run-context.js";
import { resolveModel } from "../models/resolve-model.js";
import { RunLock } from "../store/run-lock.js";
import { StateStore } from "../store/state-store.js";
import { defaultDbPath } from "./run-transcribe.js";
import { SummaryStage, type SummaryTotals } from "./summary-stage.js";

export interface SummarizeRunResult {
  status: "completed" | "interrupted";
  files: number;
  summaries: SummaryTotals;
  report?: string;
}

/** `speechflow summarize`: the summary stage alone, over every finished file in the state database. */
export async function runSummarize(request: { cwd: string; env: NodeJS.ProcessEnv; force: boolean }, ctx: RunContext): Promise<SummarizeRunResult> {
  const { config, emit, signal } = ctx;
  const outputDir = resolve(request.cwd, config.output);
  const dbPath = config.db ? resolve(request.cwd, config.db) : defaultDbPath(outputDir);
  const lock = RunLock.acquire(dbPath);
  try {
    const store = StateStore.open(dbPath);
    try {
      let modelName = config.model;
      try {
        modelName = resolveModel(config.model, request.cwd, request.env).name;
      } catch {
        // the model file may be gone; its name is only printed in the PDF
      }
      const stage = new SummaryStage(config, store, outputDir, emit, signal, request.env, modelName);
      const rows = store.filesWithStatus("done");
      await Promise.all(rows.map((row) => stage.process(row, request.force)));
      const report = signal.aborted
        ? undefined
        : await stage.writeBatchReport(
            store.allFiles().map((r) => ({ path: r.path, status: r.status, durationMs: r.duration_ms, error: r.error })),
          );
      return { status: signal.aborted ? "interrupted" : "completed", files: rows.length, summaries: stage.totals, ...(report ? { report } : {}) };
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
