import type { Emit } from "../core/events.js";
import type { TestSeams } from "../core/run-context.js";
import { FixedCostTranscriber } from "../engine/fixed-cost-transcriber.js";
import { LocalWorkerTranscriber } from "../engine/local-worker-transcriber.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { resolveModel } from "../models/resolve-model.js";
import { resolveLayout } from "../pipeline/create-transcriber.js";
import { engineBuildClass } from "../queue/queue-registry.js";
import { QueueWorker, type WorkerNote } from "../queue/queue-worker.js";
import type { CommandContext } from "./command-context.js";

export interface WorkerCommandOptions {
  /** chunks taken at once; 0 = the local engine's slots (workers x jobs per worker) */
  concurrency: number;
  /** seconds a taken chunk stays locked without renewal */
  lockSeconds: number;
  note: (note: WorkerNote) => void;
  /** engine events (a crashed whisper.cpp process) */
  emit: Emit;
  seams?: TestSeams | undefined;
}

/**
 * `speechflow worker`: takes chunks from the queues whose model this machine holds and
 * transcribes them with the local engine (the same worker processes a local run uses). Resolves
 * with the running worker; the caller stops it on SIGTERM.
 */
export async function startWorkerCommand(options: WorkerCommandOptions, ctx: CommandContext): Promise<QueueWorker> {
  const { config } = ctx;
  if (!config.queue) throw new SpeechflowError("USAGE", "worker needs --queue redis://host:6379/0 (the coordinator's Redis)");
  if (!config.blob) throw new SpeechflowError("USAGE", "worker needs --blob: the folder or bucket the coordinator writes chunk audio to");
  if (!Number.isInteger(options.concurrency) || options.concurrency < 0)
    throw new SpeechflowError("USAGE", "--concurrency takes a whole number (0 = automatic)");
  if (!(options.lockSeconds >= 1)) throw new SpeechflowError("USAGE", "--lock-seconds takes a number of seconds, at least 1");
  const model = resolveModel(config.model, ctx.cwd, ctx.env);
  const faults = options.seams?.faults;
  // the benchmarks' fixed-cost stand-in (SPEECHFLOW_FAULT_FIXED_COST_MS only); otherwise whisper.cpp
  const engine =
    faults?.fixedCostMs !== undefined
      ? new FixedCostTranscriber(faults.fixedCostMs)
      : new LocalWorkerTranscriber({
          ...{ modelPath: model.path, device: config.device, layout: resolveLayout(config, model.path) },
          ...{ emit: options.emit, env: ctx.env, ...(faults ? { faults } : {}) },
        });
  const worker = new QueueWorker({
    ...{ queueUrl: config.queue, blobUrl: config.blob, model: { name: model.name, identity: model.identity }, buildClass: engineBuildClass(), engine },
    ...{ concurrency: options.concurrency, lockMs: Math.round(options.lockSeconds * 1000), metrics: config.metrics, note: options.note },
    holdMark: faults?.holdMark,
  });
  await worker.start();
  return worker;
}
