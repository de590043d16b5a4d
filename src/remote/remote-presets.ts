/**
 * The services speechflow knows by name. A preset fills in what the user left empty (base URL,
 * model, key variable, upload limit, rate limit); prices are list prices per hour of audio as the
 * services published them (checked 2026-11), used only for the cost estimate printed after a run.
 */
export interface RemotePreset {
  name: RemotePresetName;
  baseUrl: string;
  model: string;
  /** environment variable that holds the key; "" = the service takes no key */
  apiKeyEnv: string;
  maxUploadMiB: number;
  /** requests per minute the service allows on its entry tier; 0 = no client-side limit */
  rpm: number;
  /** USD per hour of audio; 0 = self-hosted */
  pricePerHourUsd: number;
  /** the service bills at least this many seconds per request (Groq: 10 s) */
  minBilledSeconds: number;
}

import type { REMOTE_PRESET_NAMES } from "../config/config-schema.js";

export type RemotePresetName = (typeof REMOTE_PRESET_NAMES)[number];

export const REMOTE_PRESETS: Record<RemotePresetName, RemotePreset> = {
  groq: {
    name: "groq",
    baseUrl: "https://api.groq.com/openai/v1",
    model: "whisper-large-v3-turbo",
    apiKeyEnv: "GROQ_API_KEY",
    maxUploadMiB: 25,
    rpm: 20,
    pricePerHourUsd: 0.04,
    minBilledSeconds: 10,
  },
  openai: {
    name: "openai",
    baseUrl: "https://api.openai.com/v1",
    model: "whisper-1",
    apiKeyEnv: "OPENAI_API_KEY",
    maxUploadMiB: 25,
    rpm: 0,
    pricePerHourUsd: 0.36,
    minBilledSeconds: 0,
  },
  "whisper-server": {
    name: "whisper-server",
    baseUrl: "http://127.0.0.1:8080/v1",
    model: "whisper-1",
    apiKeyEnv: "",
    maxUploadMiB: 25,
    rpm: 0,
    pricePerHourUsd: 0,
    minBilledSeconds: 0,
  },
  speaches: {
    name: "speaches",
    baseUrl: "http://127.0.0.1:8000/v1",
    model: "Systran/faster-whisper-large-v3",
    apiKeyEnv: "",
    maxUploadMiB: 25,
    rpm: 0,
    pricePerHourUsd: 0,
    minBilledSeconds: 0,
  },
  vllm: {
    name: "vllm",
    baseUrl: "http://127.0.0.1:8000/v1",
    model: "openai/whisper-large-v3",
    apiKeyEnv: "",
    maxUploadMiB: 25,
    rpm: 0,
    pricePerHourUsd: 0,
    minBilledSeconds: 0,
  },
};
