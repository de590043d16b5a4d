import type { SpeechflowConfig } from "../config/config-schema.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { REMOTE_PRESETS, type RemotePreset } from "./remote-presets.js";

/** Everything the remote backend needs, with the preset's values where the user gave none. */
export interface RemoteSettings {
  /** preset name, or the base URL's host for a custom endpoint */
  provider: string;
  baseUrl: string;
  model: string;
  /** the key itself: held in memory only, never stored, printed or put in an error */
  apiKey: string;
  apiKeyEnv: string;
  maxUploadBytes: number;
  rpm: number;
  concurrency: number;
  timeoutMs: number;
  pricePerHourUsd: number;
  minBilledSeconds: number;
  /** json-only models (gpt-4o-transcribe): one segment per window, no timestamps inside it */
  textOnly: boolean;
  words: boolean;
  language: string;
  prompt: string;
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** Merges preset and config, and checks what can be checked before the first request. */
export function resolveRemoteSettings(config: SpeechflowConfig, env: NodeJS.ProcessEnv): RemoteSettings {
  const preset: Partial<RemotePreset> = config.remotePreset ? REMOTE_PRESETS[config.remotePreset] : {};
  const baseUrl = config.remoteBaseUrl || preset.baseUrl || "";
  const model = config.remoteModel || preset.model || "";
  if (!baseUrl)
    throw new SpeechflowError("USAGE", "remote transcription needs --remote-base-url (or --remote-preset groq|openai|whisper-server|speaches|vllm)");
  if (!model) throw new SpeechflowError("USAGE", "remote transcription needs --remote-model (the model name at the service, e.g. whisper-1)");
  const apiKeyEnv = config.remoteApiKeyEnv || preset.apiKeyEnv || "";
  const apiKey = apiKeyEnv ? (env[apiKeyEnv] ?? "") : "";
  if (apiKeyEnv && !apiKey) throw new SpeechflowError("USAGE", `remote transcription: the environment variable ${apiKeyEnv} (--remote-api-key-env) is not set`);
  return {
    provider: config.remotePreset || hostOf(baseUrl),
    baseUrl: baseUrl.replace(/\/+$/, ""),
    model,
    apiKey,
    apiKeyEnv,
    maxUploadBytes: Math.floor((config.remoteMaxUploadMiB || preset.maxUploadMiB || 25) * 1048576),
    rpm: config.remoteRpm || preset.rpm || 0,
    concurrency: config.remoteConcurrency,
    timeoutMs: config.remoteTimeoutSeconds * 1000,
    pricePerHourUsd: preset.pricePerHourUsd ?? 0,
    minBilledSeconds: preset.minBilledSeconds ?? 0,
    textOnly: /^gpt-4o/.test(model),
    words: config.wordTimestamps,
    language: config.language,
    prompt: config.prompt,
  };
}
