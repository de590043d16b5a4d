import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { PLANNER_VERSION } from "../chunking/chunk-planner.js";
import type { VadChoice } from "../chunking/resolve-vad.js";
import type { SpeechflowConfig } from "../config/config-schema.js";
import type { ResolvedModel } from "../models/resolve-model.js";

/**
 * The settings that change what a file's transcript says. A file finished under another
 * fingerprint is transcribed again; output-only settings (formats, line width) are not part of it
 * because outputs are rendered again from the stored chunks.
 */
/** the decoding settings handed to every engine job */
export function decodingSettings(config: SpeechflowConfig) {
  const { language, translate, prompt, beamSize, temperatureFallback, wordTimestamps } = config;
  return { language, translate, prompt, beamSize, temperatureFallback, wordTimestamps };
}

/**
 * `backend`: the transcriber's fingerprint when it is not the local whisper.cpp engine (absent = local, as before);
 * `vad`: the VAD that runs (auto resolves to one of them, and each plans other chunks)
 */
export function transcriptionSettings(config: SpeechflowConfig, model: ResolvedModel, backend: string | undefined, vad: VadKind) {
  return {
    model: model.identity,
    ...(backend === undefined ? {} : { backend }),
    ...decodingSettings(config),
    maxChunkSeconds: config.maxChunkSeconds,
    skipSilenceSeconds: config.skipSilenceSeconds,
    silenceThresholdDb: config.silenceThresholdDb,
    vad,
    planner: PLANNER_VERSION,
  };
}

type VadKind = VadChoice["kind"];

export function settingsFingerprint(settings: ReturnType<typeof transcriptionSettings>): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 32);
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
