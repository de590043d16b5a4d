import { existsSync, rmSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { resolvePaths } from "../core/paths.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { isUrl } from "../inputs/download-url.js";
import { RunLock } from "../store/run-lock.js";
import { StateStore } from "../store/state-store.js";
import type { CommandContext } from "./command-context.js";

export interface CleanOptions {
  /** also delete the transcripts written for forgotten files */
  outputs: boolean;
  dryRun: boolean;
}

export interface CleanResult {
  dryRun: boolean;
  /** forgotten inputs, each with the transcripts deleted (or that would be) */
  removed: { path: string; transcripts: string[] }[];
  remaining: number;
}

const isInside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
};

/** `speechflow clean`: forget files that no longer exist; never deletes outside the output folder. */
export function cleanCommand(options: CleanOptions, ctx: CommandContext): CleanResult {
  const { outputDir, dbPath } = resolvePaths(ctx.config, ctx.cwd);
  if (!existsSync(dbPath)) throw new SpeechflowError("USAGE", `no state database at ${dbPath} (pass -o or --db)`);
  const lock = RunLock.acquire(dbPath);
  try {
    const store = StateStore.open(dbPath);
    try {
      const gone = store.files.all().filter((f) => !isUrl(f.path) && !existsSync(f.path));
      const removed = gone.map((file) => {
        // only ever delete inside the output folder, whatever the database says
        const transcripts = options.outputs ? file.outputs.filter((o) => isInside(outputDir, o)) : [];
        if (!options.dryRun) {
          for (const o of transcripts) rmSync(o, { force: true });
          store.files.forget(file.id);
        }
        return { path: file.path, transcripts };
      });
      const remaining = store.files.all().length - (options.dryRun ? gone.length : 0);
      return { dryRun: options.dryRun, removed, remaining };
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
