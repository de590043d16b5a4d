import { createHash } from "node:crypto";
import type { SpeechflowConfig } from "../config/config-schema.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { channelLevels, decodePcm } from "../media/ffmpeg-gateway.js";
import { type DiarizationModelFile, findDiarizationModel, requireDiarizationModel } from "./diarization-models.js";
import { labelTurns, type RawTurn, type SpeakerTurn } from "./speaker-turns.js";
import { channelsDiffer, stereoTurns } from "./stereo-activity.js";

/** Runs the model engine (sherpa-onnx in a child process) on 16 kHz mono samples; turns in seconds. */
export type ModelRunner = (
  pcm: Float32Array,
  options: {
    segmentationModel: string;
    embeddingModel: string;
    numSpeakers?: number;
    clusterThreshold?: number;
    minDurationOn: number;
    minDurationOff: number;
  },
  signal?: AbortSignal,
  onProgress?: (progress: { done: number; total: number }) => void,
) => Promise<{ start: number; end: number; speaker: number }[]>;

export interface DiarizeDeps {
  config: SpeechflowConfig;
  ffmpegPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  runModel?: ModelRunner;
  /** the model engine's progress (speaker embeddings computed so far) */
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface Diarization {
  engine: "stereo" | "model";
  turns: SpeakerTurn[];
}

/**
 * What makes a diarization: engine choice, its settings and the models' identity. Names are not in
 * it (they only relabel); undefined when diarization is off.
 */
export function diarizationFingerprint(config: SpeechflowConfig, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  if (config.diarize === "off") return undefined;
  const model = (value: string) => findDiarizationModel(value, cwd, env)?.identity ?? null;
  const settings = {
    mode: config.diarize,
    numSpeakers: config.numSpeakers,
    clusterThreshold: config.clusterThreshold,
    minOn: config.diarizeMinOnSeconds,
    minOff: config.diarizeMinOffSeconds,
    threshold: config.silenceThresholdDb,
    ...(config.diarize === "stereo" ? {} : { segmentation: model(config.diarizationSegmentationModel), embedding: model(config.diarizationEmbeddingModel) }),
  };
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 32);
}

async function monoPcm(deps: DiarizeDeps, file: string): Promise<Float32Array> {
  const blocks: Float32Array[] = [];
  let length = 0;
  for await (const block of decodePcm(deps.ffmpegPath, file, deps.signal ? { signal: deps.signal } : {})) {
    blocks.push(block);
    length += block.length;
  }
  const pcm = new Float32Array(length);
  let at = 0;
  for (const b of blocks) {
    pcm.set(b, at);
    at += b.length;
  }
  return pcm;
}

async function viaModel(deps: DiarizeDeps, file: string, models: { segmentation: DiarizationModelFile; embedding: DiarizationModelFile }): Promise<RawTurn[]> {
  if (!deps.runModel) throw new SpeechflowError("ENGINE_UNAVAILABLE", "the model diarization engine is not available in this build");
  const { config } = deps;
  const turns = await deps.runModel(
    await monoPcm(deps, file),
    {
      segmentationModel: models.segmentation.path,
      embeddingModel: models.embedding.path,
      ...(config.numSpeakers > 0 ? { numSpeakers: config.numSpeakers } : { clusterThreshold: config.clusterThreshold }),
      minDurationOn: config.diarizeMinOnSeconds,
      minDurationOff: config.diarizeMinOffSeconds,
    },
    deps.signal,
    deps.onProgress,
  );
  return turns.map((t) => ({ start: Math.round(t.start * 1000), end: Math.round(t.end * 1000), speaker: t.speaker }));
}

/**
 * Speaker turns for one file. `stereo` reads each channel's speech activity; `model` runs the
 * segmentation + embedding models; `auto` takes stereo when the channels really differ, else the
 * model when it is registered, else says how to register it.
 */
export async function diarizeFile(file: string, deps: DiarizeDeps): Promise<Diarization> {
  const { config } = deps;
  const activity = { thresholdDb: config.silenceThresholdDb, minOnMs: config.diarizeMinOnSeconds * 1000, minOffMs: config.diarizeMinOffSeconds * 1000 };
  const modelFiles = () => ({
    segmentation: requireDiarizationModel(config.diarizationSegmentationModel, "segmentation", deps.cwd, deps.env),
    embedding: requireDiarizationModel(config.diarizationEmbeddingModel, "speaker-embedding", deps.cwd, deps.env),
  });
  if (config.diarize === "model") return { engine: "model", turns: labelTurns(await viaModel(deps, file, modelFiles())) };
  const levels = await channelLevels(deps.ffmpegPath, file, deps.signal);
  if (config.diarize === "stereo" || channelsDiffer(levels)) return { engine: "stereo", turns: labelTurns(stereoTurns(levels, activity)) };
  return { engine: "model", turns: labelTurns(await viaModel(deps, file, modelFiles())) };
}
