import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { ExitCode, SpeechflowError } from "../errors/speechflow-error.js";

interface LockOwner {
  pid: number;
  host: string;
  /** the process's start time (Linux /proc), so a reused pid is not taken for the owner */
  procStart: string | null;
  startedAt: string;
}

function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell for another machine: assume it runs
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = procStart(owner.pid);
  return owner.procStart === null || now === null || now === owner.procStart;
}

/**
 * One transcribe run per state database: `<db>.lock` holds the owner's pid. A second run exits at
 * once (exit code 75, "try again later"); a lock left by a killed run is detected (its process is
 * gone) and taken over.
 */
export class RunLock {
  private constructor(private readonly path: string) {}

  static acquire(dbPath: string): RunLock {
    const path = `${dbPath}.lock`;
    const me: LockOwner = { pid: process.pid, host: hostname(), procStart: procStart(process.pid), startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, JSON.stringify(me), { flag: "wx" });
        return new RunLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      let owner: LockOwner | undefined;
      try {
        owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
      } catch {
        owner = undefined; // unreadable or half-written: a crashed writer, so stale
      }
      if (owner && isAlive(owner)) {
        throw new SpeechflowError(
          "LOCKED",
          `another speechflow run (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}) is using ${dbPath}; ` +
            `wait for it, or remove ${path} if that run is gone`,
          { exitCode: ExitCode.locked },
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
    throw new SpeechflowError("LOCKED", `could not take the lock ${path}: another run took it at the same moment`, { exitCode: ExitCode.locked });
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}
