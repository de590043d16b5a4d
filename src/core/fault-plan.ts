/**
 * Fault injection for the reliability suites, parsed once at the CLI boundary and handed down
 * through the run context, so product modules never read test variables from the environment.
 * Every field is off unless a test sets its SPEECHFLOW_FAULT_* variable.
 */
export interface FaultPlan {
  /** a worker aborts on the Nth chunk it receives */
  abortNth?: number;
  /** with abortNth: only once over all workers (the first to create this flag file) */
  onceFile?: string;
  /** a worker aborts on every chunk whose label ("<file>#<chunk>") contains this */
  abortMark?: string;
  /** output writes fail with this errno code after `after` successful ones */
  writeError?: { code: string; after: number };
  /** chunk commits fail as "database or disk is full" after this many */
  dbFullAfter?: number;
  /** a queue worker takes the first chunk whose label contains this and never finishes it (a worker to kill mid-chunk) */
  holdMark?: string;
  /**
   * Benchmarks and queue-scale tests only: a queue worker "transcribes" each chunk by waiting this
   * many milliseconds (a fixed-cost stand-in for whisper.cpp) and returns a placeholder segment
   */
  fixedCostMs?: number;
}

export function parseFaultPlan(env: NodeJS.ProcessEnv): FaultPlan {
  const plan: FaultPlan = {};
  const num = (name: string) => (env[name] !== undefined && env[name] !== "" ? Number(env[name]) : undefined);
  const abortNth = num("SPEECHFLOW_FAULT_ABORT_NTH");
  if (abortNth) plan.abortNth = abortNth;
  if (env.SPEECHFLOW_FAULT_ONCE_FILE) plan.onceFile = env.SPEECHFLOW_FAULT_ONCE_FILE;
  if (env.SPEECHFLOW_FAULT_ABORT_MARK) plan.abortMark = env.SPEECHFLOW_FAULT_ABORT_MARK;
  if (env.SPEECHFLOW_FAULT_WRITE_ERROR) plan.writeError = { code: env.SPEECHFLOW_FAULT_WRITE_ERROR, after: num("SPEECHFLOW_FAULT_WRITE_AFTER") ?? 0 };
  if (env.SPEECHFLOW_FAULT_HOLD_MARK) plan.holdMark = env.SPEECHFLOW_FAULT_HOLD_MARK;
  const fixedCostMs = num("SPEECHFLOW_FAULT_FIXED_COST_MS");
  if (fixedCostMs !== undefined && Number.isFinite(fixedCostMs) && fixedCostMs >= 0) plan.fixedCostMs = fixedCostMs;
  const dbFullAfter = num("SPEECHFLOW_FAULT_DB_FULL_AFTER");
  if (dbFullAfter !== undefined) plan.dbFullAfter = dbFullAfter;
  return plan;
}
