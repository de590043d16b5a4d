import type { SpeechflowConfig } from "../config/config-schema.js";
import type { Emit } from "./events.js";
import type { FaultPlan } from "./fault-plan.js";

/** What every pipeline stage receives next to its input: `(input, ctx) -> output`. */
export interface RunContext {
  config: SpeechflowConfig;
  emit: Emit;
  /** aborted on the first Ctrl-C: stop scheduling, finish or abandon in-flight work, flush */
  signal: AbortSignal;
  /** the folder relative paths in the config are resolved against */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** test seams (fault injection, shorter backoff); empty in normal runs */
  seams?: TestSeams;
}

export interface TestSeams {
  faults?: FaultPlan;
  /** base of every retry backoff (SPEECHFLOW_RETRY_BASE_MS): tests shorten the waits */
  retryBaseDelayMs?: number;
}
