import type { SpeechflowConfig } from "../config/config-schema.js";
import type { Emit } from "./events.js";

/** What every pipeline stage receives next to its input: `(input, ctx) -> output`. */
export interface RunContext {
  config: SpeechflowConfig;
  emit: Emit;
  /** aborted on the first Ctrl-C: stop scheduling, finish or abandon in-flight work, flush */
  signal: AbortSignal;
}
