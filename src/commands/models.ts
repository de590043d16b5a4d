import { resolve } from "node:path";
import { DIARIZATION_MODELS } from "../diarization/diarization-catalog.js";
import { addDiarizationModel } from "../diarization/diarization-models.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { MODEL_CATALOG } from "../models/model-catalog.js";
import { addModel, listModels, type ModelListing, managedModelsDir, removeModel } from "../models/model-store.js";
import { pullModel } from "../models/pull-model.js";
import { resolveModel } from "../models/resolve-model.js";
import type { CommandContext } from "./command-context.js";

export interface ModelsListResult {
  dir: string;
  models: ModelListing[];
}

export function modelsListCommand(ctx: CommandContext): ModelsListResult {
  return { dir: managedModelsDir(ctx.env), models: listModels(ctx.cwd, ctx.env) };
}

export interface PullOptions {
  name: string;
  /** expected SHA-1 for a model outside the built-in list */
  sha1?: string | undefined;
  signal: AbortSignal;
  /** test seam: base of the retry backoff */
  retryDelayMs?: number | undefined;
  onProgress: (progress: { receivedBytes: number; totalBytes?: number | undefined }) => void;
}

/** Which catalogue entry to download; a name outside the catalogue needs its SHA-1. */
function pullEntry(name: string, sha1: string | undefined): { name: string; sha1: string; sizeMiB: number } {
  const entry = MODEL_CATALOG.get(name) ?? (sha1 ? { name, sha1: sha1.toLowerCase(), sizeMiB: 0 } : undefined);
  if (!entry) throw new SpeechflowError("USAGE", `unknown model "${name}" (see speechflow models list); pass --sha1 to download another file from the mirror`);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new SpeechflowError("USAGE", `model name "${name}" may only use letters, digits, ".", "_" and "-"`);
  return entry;
}

export async function modelsPullCommand(options: PullOptions, ctx: CommandContext) {
  const entry = pullEntry(options.name, options.sha1);
  if (ctx.config.offline) throw new SpeechflowError("USAGE", `offline mode is on (--offline, SPEECHFLOW_OFFLINE or config): not downloading ${options.name}`);
  return pullModel(entry, {
    baseUrl: ctx.config.modelBaseUrl,
    dir: managedModelsDir(ctx.env),
    signal: options.signal,
    onProgress: options.onProgress,
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
  });
}

/** ggml files are whisper models; .onnx files are diarization models (their metadata checked first). */
export function modelsAddCommand(options: { file: string; name?: string | undefined }, ctx: CommandContext): string {
  const file = resolve(ctx.cwd, options.file);
  if (file.endsWith(".onnx")) return addDiarizationModel(file, options.name, ctx.env);
  return addModel(file, options.name, ctx.env);
}

export interface PullDiarizationOptions {
  signal: AbortSignal;
  /** fetch `<mirror>/<name>.onnx` instead of the published URLs */
  mirror?: string | undefined;
  retryDelayMs?: number | undefined;
  onProgress: (progress: { name: string; receivedBytes: number; totalBytes?: number | undefined }) => void;
}

/** `models pull-diarization`: the segmentation and embedding models, SHA-256 checked, into the models folder. */
export async function modelsPullDiarizationCommand(options: PullDiarizationOptions, ctx: CommandContext) {
  if (ctx.config.offline)
    throw new SpeechflowError("USAGE", "offline mode is on (--offline, SPEECHFLOW_OFFLINE or config): not downloading the diarization models");
  const pulled = [];
  for (const entry of DIARIZATION_MODELS) {
    const url = options.mirror ? `${options.mirror.replace(/\/+$/, "")}/${entry.fileName}` : entry.url;
    const result = await pullModel(
      { ...entry, ...(url ? { url } : {}) },
      {
        baseUrl: "",
        dir: managedModelsDir(ctx.env),
        signal: options.signal,
        onProgress: options.onProgress,
        ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      },
    );
    pulled.push({ ...result, name: entry.name, role: entry.role, licence: entry.licence });
  }
  return pulled;
}

export function modelsRemoveCommand(name: string, ctx: CommandContext): string {
  return removeModel(name, ctx.env);
}

export function modelsPathCommand(name: string, ctx: CommandContext): string {
  return resolveModel(name, ctx.cwd, ctx.env).path;
}
