import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { type DatasetLayout, loadDataset } from "../eval/load-dataset.js";
import { type EvalScores, scoreDataset, trnLines, werMarkdown } from "../eval/score-dataset.js";
import { writeOutputFile } from "../outputs/write-outputs.js";
import { type RunSummary, runTranscribe } from "./run-transcribe.js";

export interface EvalRequest {
  dataset: string;
  normalize: boolean;
  /** also write sclite's ref.trn / hyp.trn */
  trn: boolean;
  allowModelDownload?: boolean;
}

export interface EvalResult {
  run: RunSummary;
  /** undefined when the run was interrupted: nothing is scored from half a dataset */
  scores?: EvalScores;
  layout: DatasetLayout;
  reports: string[];
}

/**
 * eval: load a dataset, transcribe it like `transcribe` (same state DB, so it resumes), then score
 * every utterance's `<output>/<relative path>.txt` against its reference.
 */
export async function runEval(request: EvalRequest, ctx: RunContext): Promise<EvalResult> {
  const { outputDir } = resolvePaths(ctx.config, ctx.cwd);
  const dataset = await loadDataset(resolve(ctx.cwd, request.dataset), { skipDirs: [outputDir] });
  const config = ctx.config.formats.includes("txt") ? ctx.config : { ...ctx.config, formats: [...ctx.config.formats, "txt" as const] };
  const stemOf = (rel: string) => rel.replace(/\.[^./]*$/, "");
  const run = await runTranscribe(
    {
      inputs: [],
      ...(request.allowModelDownload === undefined ? {} : { allowModelDownload: request.allowModelDownload }),
      media: {
        media: dataset.utterances.map((u) => ({ path: u.audio, relPath: u.relPath, outputStem: stemOf(u.relPath) })),
        problems: dataset.problems.map((p) => ({ input: p.item, code: "INPUT_NOT_FOUND" as const, message: p.message })),
      },
    },
    { ...ctx, config },
  );
  if (run.status === "interrupted") return { run, layout: dataset.layout, reports: [] };

  const failed = new Set(run.failures.map((f) => f.file));
  const scores = scoreDataset(
    dataset.utterances.map((u) => {
      const txt = join(outputDir, `${stemOf(u.relPath)}.txt`);
      const hypothesis = !failed.has(u.audio) && existsSync(txt) ? readFileSync(txt, "utf8") : null;
      return { id: u.id, audio: u.relPath, reference: u.reference, hypothesis };
    }),
    { normalize: request.normalize },
  );
  const model = config.model;
  const reports = [
    writeOutputFile(
      outputDir,
      "wer.json",
      JSON.stringify({ tool: { name: TOOL_NAME, version: TOOL_VERSION }, dataset: dataset.root, layout: dataset.layout, model, ...scores }, null, 2) + "\n",
    ),
    writeOutputFile(outputDir, "wer.md", werMarkdown(scores, { dataset: dataset.root, model })),
  ];
  if (request.trn) {
    reports.push(writeOutputFile(outputDir, "ref.trn", trnLines(scores, "reference")));
    reports.push(writeOutputFile(outputDir, "hyp.trn", trnLines(scores, "hypothesis")));
  }
  ctx.emit({
    type: "eval-end",
    layout: dataset.layout,
    utterances: scores.utterances,
    missing: scores.missing,
    wer: scores.wer,
    cer: scores.cer,
    words: scores.words,
    normalized: scores.normalized,
    reports,
  });
  return { run, scores, layout: dataset.layout, reports };
}
