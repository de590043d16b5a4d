import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { isUrl } from "../inputs/download-url.js";
import type { MediaInput } from "../inputs/scan-inputs.js";
import { type RunSummary, runTranscribe } from "../pipeline/run-transcribe.js";
import { StateStore } from "../store/state-store.js";

export type RetryResult = { retried: false; dbPath: string } | { retried: true; run: RunSummary };

function failedInputs(dbPath: string): MediaInput[] {
  const store = StateStore.open(dbPath);
  try {
    return store.files
      .withStatus("failed")
      .map((f) => ({ path: f.path, relPath: f.relPath, outputStem: f.outputStem, ...(isUrl(f.path) ? { url: f.path } : {}) }));
  } finally {
    store.close();
  }
}

/** `speechflow retry`: only the files that failed in earlier runs, with the same output paths. */
export async function retryCommand(options: { allowModelDownload: boolean }, ctx: RunContext): Promise<RetryResult> {
  const { dbPath } = resolvePaths(ctx.config, ctx.cwd);
  const media = failedInputs(dbPath);
  if (media.length === 0) return { retried: false, dbPath };
  const run = await runTranscribe({ inputs: [], allowModelDownload: options.allowModelDownload, retryFailed: true, media: { media, problems: [] } }, ctx);
  return { retried: true, run };
}
