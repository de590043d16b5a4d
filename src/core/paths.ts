import { dirname, join, resolve } from "node:path";

/** Where a run keeps its files, worked out in this one place from `output` and `db`. */
export interface RunPaths {
  outputDir: string;
  dbPath: string;
  /** folder beside the database: downloads and other run state */
  stateDir: string;
  downloadsDir: string;
}

export function resolvePaths(config: { output: string; db: string }, cwd: string): RunPaths {
  const outputDir = resolve(cwd, config.output);
  const dbPath = config.db ? resolve(cwd, config.db) : join(outputDir, ".speechflow", "state.sqlite");
  const stateDir = dirname(dbPath);
  return { outputDir, dbPath, stateDir, downloadsDir: join(stateDir, "downloads") };
}
