import type { SpeechflowConfig } from "../config/config-schema.js";
import { parseFaultPlan } from "../core/fault-plan.js";
import { retryBaseDelayMs } from "../core/retry.js";
import type { RunContext, TestSeams } from "../core/run-context.js";
import { JsonReporter } from "../reporters/json-reporter.js";
import { PlainReporter } from "../reporters/plain-reporter.js";
import { ProgressReporter } from "../reporters/progress-reporter.js";
import type { Reporter } from "../reporters/reporter.js";
import { SilentReporter } from "../reporters/silent-reporter.js";
import { terminalChalk } from "../reporters/terminal-style.js";
import { stoppedExitCode } from "./exit-codes.js";

function pickReporter(config: SpeechflowConfig, env: NodeJS.ProcessEnv): Reporter {
  const chalk = terminalChalk(process.stderr, env);
  const mode = config.reporter === "auto" ? (process.stderr.isTTY ? "progress" : "plain") : config.reporter;
  if (mode === "json") return new JsonReporter(process.stdout, process.stderr);
  if (mode === "silent") return new SilentReporter(process.stderr, chalk);
  if (mode === "progress") return new ProgressReporter(process.stderr, chalk);
  return new PlainReporter(process.stderr, chalk);
}

/** Test seams come from the environment here, at the boundary, and nowhere else. */
export function seamsFromEnv(env: NodeJS.ProcessEnv): TestSeams {
  const base = retryBaseDelayMs(env);
  return { faults: parseFaultPlan(env), ...(base === undefined ? {} : { retryBaseDelayMs: base }) };
}

export interface SessionResult<T> {
  result: T;
  /** the signal that stopped the run, if one did */
  signal: NodeJS.Signals | undefined;
}

/**
 * Runs a pipeline command with a reporter and signal handling: the first Ctrl-C (or SIGTERM) stops
 * after the chunks in flight, the second quits at once (finished chunks are already committed).
 */
export async function withRunSession<T>(
  config: SpeechflowConfig,
  base: { cwd: string; env: NodeJS.ProcessEnv },
  run: (ctx: RunContext, allowModelDownload: boolean) => Promise<T>,
): Promise<SessionResult<T>> {
  const reporter = pickReporter(config, base.env);
  const controller = new AbortController();
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (signalName) {
      reporter.close();
      process.stderr.write("speechflow: stopped at once; finished chunks are saved\n");
      // the only hard exit: the user asked twice, and everything finished is already committed
      process.exit(stoppedExitCode(name));
    }
    signalName = name;
    if (config.reporter !== "json") process.stderr.write(`\nspeechflow: stopping after the chunks in progress (${name} again to quit now)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // a missing model is downloaded when a person is watching (a terminal), never from cron
    const allowModelDownload = process.stderr.isTTY === true && config.reporter !== "json";
    const ctx: RunContext = {
      config,
      emit: (e) => reporter.onEvent(e),
      signal: controller.signal,
      cwd: base.cwd,
      env: base.env,
      seams: seamsFromEnv(base.env),
    };
    const result = await run(ctx, allowModelDownload);
    return { result, signal: signalName };
  } finally {
    reporter.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
