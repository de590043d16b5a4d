import type { RunContext } from "../core/run-context.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { EvalScores } from "../eval/score-dataset.js";
import type { DiarizationSetScore } from "../eval/score-diarization.js";
import { runDiarizationEval } from "../pipeline/run-diarization-eval.js";
import { runEval } from "../pipeline/run-eval.js";
import type { RunSummary } from "../pipeline/run-transcribe.js";

export interface EvalOptions {
  dataset: string;
  /** --max-wer as given on the command line (a rate such as "0.15") */
  maxWer?: string | undefined;
  normalize: boolean;
  trn: boolean;
  allowModelDownload: boolean;
  /** --diarization: score speaker turns (DER/JER) against reference RTTM instead of words */
  diarization?: boolean | undefined;
  /** --collar in seconds, as given */
  collar?: string | undefined;
  skipOverlap?: boolean | undefined;
}

export interface EvalCommandResult {
  run: RunSummary;
  /** WER/CER (word eval); undefined when interrupted or scoring speakers */
  scores?: EvalScores | undefined;
  /** DER/JER (--diarization); undefined when interrupted or scoring words */
  der?: DiarizationSetScore | undefined;
  reports: string[];
  maxWer: number | undefined;
  /** the overall WER is above --max-wer */
  aboveMaxWer: boolean;
}

function parseRate(flag: string, value: string | undefined, example: string): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (value.trim() === "" || Number.isNaN(rate) || rate < 0) throw new SpeechflowError("USAGE", `${flag} expects ${example}, not "${value}"`);
  return rate;
}

/** `speechflow eval`: transcribe (or diarize) a dataset resumably, then score it against its references. */
export async function evalCommand(options: EvalOptions, ctx: RunContext): Promise<EvalCommandResult> {
  const maxWer = parseRate("--max-wer", options.maxWer, "a rate such as 0.15");
  if (options.diarization) {
    const collar = parseRate("--collar", options.collar, "seconds such as 0.25") ?? 0.25;
    const result = await runDiarizationEval(
      { dataset: options.dataset, options: { collar, skipOverlap: options.skipOverlap === true }, allowModelDownload: options.allowModelDownload },
      ctx,
    );
    return { ...result, maxWer, aboveMaxWer: false };
  }
  const result = await runEval(
    { dataset: options.dataset, normalize: options.normalize, trn: options.trn, allowModelDownload: options.allowModelDownload },
    ctx,
  );
  const aboveMaxWer = maxWer !== undefined && result.scores !== undefined && result.scores.wer > maxWer;
  return { ...result, maxWer, aboveMaxWer };
}
