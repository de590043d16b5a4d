import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
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

/**
 * The file's SHA-256, read through one buffer: a read stream's fresh 1 MiB per read left up to
 * ~29 MB of buffers waiting for the collector at the start of a 1-hour WAV (measured).
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(path, "r");
  let failed = false;
  try {
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, (await file.stat()).size)));
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // a failing close must not hide the read's own error
    await file.close().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
  return hash.digest("hex");
}
