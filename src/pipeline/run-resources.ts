import { mkdirSync } from "node:fs";
import type { RunPaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { RunLock } from "../store/run-lock.js";
import { StateStore } from "../store/state-store.js";
import { SummaryStage } from "./summary-stage.js";

export interface RunResources {
  store: StateStore;
  summaries: SummaryStage;
  /** closes the database and releases the lock, in that order */
  close(): void;
}

/** Takes the run lock, opens the state database and the summary stage; whatever fails undoes the rest. */
export function openRunResources(paths: RunPaths, ctx: RunContext, modelName: string): RunResources {
  mkdirSync(paths.stateDir, { recursive: true });
  const lock = RunLock.acquire(paths.dbPath);
  const undo: (() => void)[] = [() => lock.release()];
  const unwind = () => {
    for (const step of undo.reverse()) step();
  };
  try {
    const failCommitsAfter = ctx.seams?.faults?.dbFullAfter;
    const store = StateStore.open(paths.dbPath, failCommitsAfter === undefined ? {} : { failCommitsAfter });
    undo.push(() => store.close());
    const summaries = new SummaryStage(ctx.config, store, paths.outputDir, ctx.emit, ctx.signal, ctx.env, modelName, ctx.seams?.retryBaseDelayMs);
    return { store, summaries, close: unwind };
  } catch (error) {
    unwind();
    throw error;
  }
}
