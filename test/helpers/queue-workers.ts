import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./paths.js";

/** A real `speechflow worker` process, with its stderr lines kept for assertions. */
export interface SpawnedWorker {
  child: ChildProcess;
  /** stderr so far */
  log(): string;
  /** resolves when a stderr line matches */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** chunks it finished ("done <label>" lines) */
  done(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(options: { queue: string; blob: string; model: string; cwd: string; env: NodeJS.ProcessEnv; args?: string[] }): SpawnedWorker {
  const args = ["worker", "--queue", options.queue, "--blob", options.blob, "-m", options.model, "--threads", "1", ...(options.args ?? [])];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = stderr.split("\n").find((l) => pattern.test(l));
        if (line === undefined) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`worker never printed ${pattern}; stderr:\n${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      void exited.then(() => {
        if (listeners.has(check)) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`worker exited before printing ${pattern}; stderr:\n${stderr}`));
        }
      });
      check();
    });
  const done = () =>
    stderr
      .split("\n")
      .map((l) => / done (.+) in \d+ ms$/.exec(l)?.[1])
      .filter((l): l is string => l !== undefined);
  return { child, log: () => stderr, waitFor, done, exited };
}

/** SIGTERM (or SIGKILL) and wait for the exit. */
export async function stopWorker(worker: SpawnedWorker, signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
  return worker.exited;
}
