import { statSync } from "node:fs";
import { availableParallelism, freemem } from "node:os";
import type { SpeechflowConfig } from "../config/config-schema.js";
import type { RunContext } from "../core/run-context.js";
import { chooseLayout, type Layout } from "../engine/choose-layout.js";
import type { ChunkTranscriber } from "../engine/chunk-transcriber.js";
import { parseDevices } from "../engine/devices.js";
import { FallbackTranscriber } from "../engine/fallback-transcriber.js";
import { LocalWorkerTranscriber } from "../engine/local-worker-transcriber.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { ResolvedModel } from "../models/resolve-model.js";
import { engineBuildClass } from "../queue/queue-registry.js";
import { resolveRemoteSettings } from "../remote/remote-settings.js";
import { decodingSettings } from "./settings-fingerprint.js";

type EngineContext = Pick<RunContext, "config" | "emit" | "env" | "seams">;

/** This machine's layout for a model: its cores, its free memory (or the cgroup's limit, if lower) and the model's size. */
export function resolveLayout(config: Pick<SpeechflowConfig, "device" | "workers" | "jobsPerWorker" | "threads">, modelPath: string): Layout {
  let modelBytes = 0;
  try {
    modelBytes = statSync(modelPath).size;
  } catch {
    // the worker reports a missing model with its own error
  }
  const constrained = process.constrainedMemory?.() ?? 0;
  const availableBytes = constrained > 0 ? Math.min(freemem(), constrained) : freemem();
  const { workers, jobsPerWorker, threads } = config;
  return chooseLayout({ devices: parseDevices(config.device), workers, jobsPerWorker, threads, cores: availableParallelism(), availableBytes, modelBytes });
}

function localEngine(modelPath: string, ctx: EngineContext): ChunkTranscriber {
  const { config } = ctx;
  return new LocalWorkerTranscriber({
    modelPath,
    device: config.device,
    layout: resolveLayout(config, modelPath),
    emit: ctx.emit,
    env: ctx.env,
    ...(ctx.seams?.faults ? { faults: ctx.seams.faults } : {}),
  });
}

// The queue and remote engines are imported when a run asks for them: BullMQ, ioredis and the OpenAI
// SDK take ~0.7 s to load, which every local run (and `speechflow --help`) would otherwise pay.
async function remoteEngine(ffmpegPath: string, ctx: EngineContext): Promise<ChunkTranscriber> {
  const settings = resolveRemoteSettings(ctx.config, ctx.env);
  const { RemoteTranscriber } = await import("../remote/remote-transcriber.js");
  return new RemoteTranscriber({ settings, ffmpegPath, emit: ctx.emit, attempts: ctx.config.maxAttempts, retryBaseDelayMs: ctx.seams?.retryBaseDelayMs });
}

/** --queue: chunks go to `speechflow worker` processes through Redis; this process keeps everything else. */
async function queueEngine(model: ResolvedModel, ctx: EngineContext): Promise<ChunkTranscriber> {
  const { config } = ctx;
  if (config.engine === "remote" || config.remoteFallback)
    throw new SpeechflowError("USAGE", "--queue cannot be combined with --engine remote or --remote-fallback");
  if (!config.blob) throw new SpeechflowError("USAGE", "--queue needs --blob: a folder or bucket the workers can read chunk audio from");
  const { QueueTranscriber } = await import("../queue/queue-transcriber.js");
  return new QueueTranscriber({
    ...{ queueUrl: config.queue, blobUrl: config.blob, model: { name: model.name, identity: model.identity }, buildClass: engineBuildClass() },
    ...{ params: decodingSettings(config), emit: ctx.emit, metrics: config.metrics },
  });
}

/**
 * Picks the ChunkTranscriber for a run from its settings: local whisper.cpp workers (default), a
 * remote OpenAI-compatible API (--engine remote), local with the remote API as fallback
 * (--remote-fallback), or workers on a Redis queue (--queue). Nothing is uploaded unless one of
 * the last three is asked for.
 */
export async function createTranscriber(engine: { model: ResolvedModel; ffmpegPath: string }, ctx: EngineContext): Promise<ChunkTranscriber> {
  const { config } = ctx;
  if (config.queue) return queueEngine(engine.model, ctx);
  if (config.engine === "remote") return remoteEngine(engine.ffmpegPath, ctx);
  if (!config.remoteFallback) return localEngine(engine.model.path, ctx);
  const remote = await remoteEngine(engine.ffmpegPath, ctx);
  return new FallbackTranscriber(localEngine(engine.model.path, ctx), remote, {
    maxAttempts: config.maxAttempts,
    whenSlowerThan: config.remoteWhenSlowerThan,
    emit: ctx.emit,
  });
}
