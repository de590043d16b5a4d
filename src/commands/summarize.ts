import { existsSync } from "node:fs";
import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { runSummarize, type SummarizeRunResult } from "../pipeline/run-summarize.js";

/** `speechflow summarize`: summaries and PDFs for transcripts already in the output folder. */
export async function summarizeCommand(options: { force: boolean }, ctx: RunContext): Promise<SummarizeRunResult> {
  const { dbPath } = resolvePaths(ctx.config, ctx.cwd);
  if (!existsSync(dbPath)) throw new SpeechflowError("USAGE", `no state database at ${dbPath}: transcribe into that output folder first (or pass --db)`);
  return runSummarize({ force: options.force }, ctx);
}
