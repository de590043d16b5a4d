import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import Database from "better-sqlite3";

/** Every file under `dir` (relative path -> content), skipping the state folder and the run manifest. */
export function tree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      // the state folder and the per-run manifest (a report of that run) are not transcripts
      if (e.name === ".speechflow" || e.name === "manifest.jsonl") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return files;
}

/** pids of live processes whose environment carries `marker` (our workers inherit it) */
export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").includes(marker)) pids.push(Number(name));
    } catch {
      // exited meanwhile, or not ours
    }
  }
  return pids;
}

export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** integrity_check and the highest number of commits of any chunk (1 = nothing committed twice) */
export function dbHealth(path: string): { integrity: string; maxCommits: number; doneChunks: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma("integrity_check", { simple: true }));
    const row = db.prepare("SELECT COALESCE(MAX(commits), 0) AS m, COALESCE(SUM(status = 'done'), 0) AS d FROM chunks").get() as { m: number; d: number };
    return { integrity, maxCommits: row.m, doneChunks: row.d };
  } finally {
    db.close();
  }
}

/** A small tmpfs at `dir`, when this machine lets us mount one (root in CI); false otherwise. */
export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function remount(dir: string, mode: "ro" | "rw"): void {
  execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: "ignore" });
}

export function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "ignore" });
  } catch {
    // already gone
  }
}

/** A seeded generator: the kill schedule is the same on every run, and a failure names its seed. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}
