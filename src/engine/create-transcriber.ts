import type { RunContext } from "../core/run-context.js";
import type { ChunkTranscriber } from "./chunk-transcriber.js";
import { LocalWorkerTranscriber } from "./local-worker-transcriber.js";

/**
 * Picks the ChunkTranscriber for a run from its settings. Only local whisper.cpp workers exist
 * today; a queue of remote workers and HTTP transcription APIs plug in here.
 */
export function createTranscriber(modelPath: string, ctx: Pick<RunContext, "config" | "emit" | "env" | "seams">): ChunkTranscriber {
  const { config } = ctx;
  return new LocalWorkerTranscriber({
    modelPath,
    device: config.device,
    workers: config.workers,
    jobsPerWorker: config.jobsPerWorker,
    threads: config.threads,
    emit: ctx.emit,
    env: ctx.env,
    ...(ctx.seams?.faults ? { faults: ctx.seams.faults } : {}),
  });
}
