import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./paths.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment, as cron gives: PATH and HOME, nothing inherited by accident. */
export function minimalEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CACHE_HOME: `${home}/.cache`, ...extra };
}

export function startCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; input?: string }): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin!.end(options.input ?? "");
  const done = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; input?: string }): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Resolves once `predicate` holds for the NDJSON events printed so far on stdout. */
export function waitForEvents(child: ChildProcess, predicate: (events: { type: string }[]) => boolean, timeoutMs = 60000): Promise<void> {
  return new Promise((resolve, reject) => {
    const events: { type: string }[] = [];
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting; saw ${events.map((e) => e.type).join(",")}`)), timeoutMs);
    child.stdout!.on("data", (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) events.push(JSON.parse(line) as { type: string });
      }
      if (predicate(events)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`exited before the condition; saw ${events.map((e) => e.type).join(",")}`));
    });
  });
}

export function parseEvents(stdout: string): { type: string; [k: string]: unknown }[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { type: string });
}
