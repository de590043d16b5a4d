import type { RunContext } from "../core/run-context.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { readListFile } from "../inputs/scan-inputs.js";
import { type RunSummary, runTranscribe } from "../pipeline/run-transcribe.js";

export interface TranscribeOptions {
  /** files, folders, globs and URLs */
  inputs: string[];
  /** --from-list: a file with one input per line ("-" = stdin) */
  fromList?: string | undefined;
  allowModelDownload: boolean;
}

/** `speechflow transcribe`: every input to transcripts; resumes where an earlier run stopped. */
export async function transcribeCommand(options: TranscribeOptions, ctx: RunContext): Promise<RunSummary> {
  const listEntries = options.fromList ? await readListFile(options.fromList, ctx.cwd) : [];
  if (options.inputs.length === 0 && !options.fromList) {
    throw new SpeechflowError("USAGE", "no inputs: give files, folders, globs or URLs, or --from-list FILE");
  }
  return runTranscribe({ inputs: options.inputs, listEntries, allowModelDownload: options.allowModelDownload }, ctx);
}
