import { existsSync } from "node:fs";
import { resolvePaths } from "../core/paths.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { StateStore, type StatusSummary } from "../store/state-store.js";
import type { CommandContext } from "./command-context.js";

/** `speechflow status`: what is done, pending and failed in the state database of the configured output. */
export function statusCommand(ctx: CommandContext): StatusSummary {
  const { dbPath } = resolvePaths(ctx.config, ctx.cwd);
  if (!existsSync(dbPath))
    throw new SpeechflowError("USAGE", `no state database at ${dbPath}: nothing has been transcribed into that output folder yet (or pass --db)`);
  const store = StateStore.open(dbPath);
  try {
    return store.status();
  } finally {
    store.close();
  }
}
