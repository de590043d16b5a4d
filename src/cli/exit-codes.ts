import { CommanderError } from "commander";
import type { DoctorResult } from "../commands/doctor.js";
import type { EvalCommandResult } from "../commands/eval.js";
import { ExitCode, toSpeechflowError } from "../errors/speechflow-error.js";

/** The one place that turns what a command returned, or threw, into the process's exit code. */
interface RunOutcome {
  status: "completed" | "interrupted";
  failed?: number;
  summaries?: { failed: number } | undefined;
}

/** How a run that was stopped by a signal exits: 130 for Ctrl-C, 143 for SIGTERM. */
export function stoppedExitCode(signal: NodeJS.Signals | undefined): number {
  return signal === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted;
}

export function runExitCode(run: RunOutcome, signal: NodeJS.Signals | undefined): number {
  if (run.status === "interrupted") return stoppedExitCode(signal);
  if ((run.failed ?? 0) > 0 || (run.summaries?.failed ?? 0) > 0) return ExitCode.someInputsFailed;
  return ExitCode.ok;
}

export function evalExitCode(result: EvalCommandResult, signal: NodeJS.Signals | undefined): number {
  const code = runExitCode({ status: result.run.status, failed: result.run.failed }, signal);
  if (code !== ExitCode.ok) return code;
  return result.aboveMaxWer ? ExitCode.werAboveMax : ExitCode.ok;
}

export function doctorExitCode(result: DoctorResult): number {
  return result.ok ? ExitCode.ok : ExitCode.fatal;
}

/** Errors: commander's own (help, version, usage), then speechflow's typed errors; the line printed names the file. */
export function errorExitCode(error: unknown, stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return ExitCode.ok;
    return ExitCode.usage;
  }
  const e = toSpeechflowError(error);
  stderr.write(`speechflow: error: ${e.file ? `${e.file}: ` : ""}${e.message}\n`);
  if (e.code === "INTERNAL" && env.SPEECHFLOW_DEBUG) stderr.write(`${(error as Error).stack}\n`);
  return e.exitCode;
}
