import type { RunContext } from "../core/run-context.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type EvalResult, runEval } from "../pipeline/run-eval.js";

export interface EvalOptions {
  dataset: string;
  /** --max-wer as given on the command line (a rate such as "0.15") */
  maxWer?: string | undefined;
  normalize: boolean;
  trn: boolean;
  allowModelDownload: boolean;
}

export interface EvalCommandResult extends EvalResult {
  maxWer: number | undefined;
  /** the overall WER is above --max-wer */
  aboveMaxWer: boolean;
}

function parseMaxWer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (value.trim() === "" || Number.isNaN(rate) || rate < 0) throw new SpeechflowError("USAGE", `--max-wer expects a rate such as 0.15, not "${value}"`);
  return rate;
}

/** `speechflow eval`: transcribe a dataset resumably, then score WER/CER against its references. */
export async function evalCommand(options: EvalOptions, ctx: RunContext): Promise<EvalCommandResult> {
  const maxWer = parseMaxWer(options.maxWer);
  const result = await runEval(
    { dataset: options.dataset, normalize: options.normalize, trn: options.trn, allowModelDownload: options.allowModelDownload },
    ctx,
  );
  const aboveMaxWer = maxWer !== undefined && result.scores !== undefined && result.scores.wer > maxWer;
  return { ...result, maxWer, aboveMaxWer };
}
