import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { loadDiarizationDataset } from "../eval/load-diarization-dataset.js";
import { parseRttm } from "../eval/rttm.js";
import { type DiarizationOptions, type DiarizationSetScore, derMarkdown, scoreDiarizationSet } from "../eval/score-diarization.js";
import { writeOutputFile } from "../outputs/write-outputs.js";
import { type RunSummary, runTranscribe } from "./run-transcribe.js";

export interface DiarizationEvalResult {
  run: RunSummary;
  /** undefined when the run was interrupted */
  der?: DiarizationSetScore;
  reports: string[];
}

const stemOf = (rel: string) => rel.replace(/\.[^./]*$/, "");

/** The hypothesis for one recording: the run's RTTM (none = nothing found) and its length from the JSON output. */
function hypothesisOf(outputDir: string, relPath: string): { turns: { start: number; end: number; speaker: string }[]; durationSec?: number } {
  const rttm = join(outputDir, `${stemOf(relPath)}.rttm`);
  const turns = existsSync(rttm)
    ? parseRttm(readFileSync(rttm, "utf8"), rttm).map((t) => ({ start: t.start, end: t.start + t.duration, speaker: t.speaker }))
    : [];
  const json = join(outputDir, `${stemOf(relPath)}.json`);
  const durationMs = existsSync(json) ? (JSON.parse(readFileSync(json, "utf8")) as { durationMs?: number }).durationMs : undefined;
  return { turns, ...(durationMs !== undefined ? { durationSec: durationMs / 1000 } : {}) };
}

/**
 * `eval --diarization`: diarize a dataset of recordings with reference RTTM (resumably, as
 * transcribe), then score DER and JER as NIST md-eval does, over the whole recording (speech the
 * system finds before or after the reference's first and last turns counts as false alarm).
 */
export async function runDiarizationEval(
  request: { dataset: string; options: DiarizationOptions; allowModelDownload?: boolean },
  ctx: RunContext,
): Promise<DiarizationEvalResult> {
  const { outputDir } = resolvePaths(ctx.config, ctx.cwd);
  const dataset = await loadDiarizationDataset(resolve(ctx.cwd, request.dataset), { skipDirs: [outputDir] });
  const formats = [...new Set([...ctx.config.formats, "json" as const])];
  const config = { ...ctx.config, formats, diarize: ctx.config.diarize === "off" ? ("auto" as const) : ctx.config.diarize };
  const media = dataset.items.map((i) => ({ path: i.audio, relPath: i.relPath, outputStem: stemOf(i.relPath) }));
  const problems = dataset.problems.map((p) => ({ input: p.item, code: "INPUT_NOT_FOUND" as const, message: p.message }));
  const download = request.allowModelDownload === undefined ? {} : { allowModelDownload: request.allowModelDownload };
  const run = await runTranscribe({ inputs: [], ...download, media: { media, problems } }, { ...ctx, config });
  if (run.status === "interrupted") return { run, reports: [] };
  const der = scoreDiarizationSet(
    dataset.items.map((item) => {
      const hypothesis = hypothesisOf(outputDir, item.relPath);
      const uem = hypothesis.durationSec !== undefined ? { uem: { start: 0, end: hypothesis.durationSec } } : {};
      return { id: item.id, reference: item.reference, hypothesis: hypothesis.turns, ...uem };
    }),
    request.options,
  );
  const meta = { tool: { name: TOOL_NAME, version: TOOL_VERSION }, dataset: dataset.root, diarize: config.diarize, ...request.options };
  const reports = [
    writeOutputFile(outputDir, "der.json", `${JSON.stringify({ ...meta, ...der }, null, 2)}\n`),
    writeOutputFile(outputDir, "der.md", derMarkdown(der, { dataset: dataset.root, options: request.options })),
  ];
  const o = der.overall;
  ctx.emit({
    type: "diarization-eval-end",
    files: o.files,
    der: o.der,
    jer: o.jer,
    missed: o.missed,
    falseAlarm: o.falseAlarm,
    confusion: o.confusion,
    scored: o.scored,
    ...request.options,
    reports,
  });
  return { run, der, reports };
}
