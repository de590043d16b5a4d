import { execFileSync } from "node:child_process";
import { SpeechflowError } from "../errors/speechflow-error.js";

/**
 * Where a worker process runs. `cpu` today; `cuda:N` starts one worker per GPU with
 * CUDA_VISIBLE_DEVICES=N, which needs smart-whisper linked against a CUDA build of whisper.cpp
 * (SPEECHFLOW_ENGINE_BUILD=cuda npm rebuild smart-whisper, see README).
 */
export type Device = { kind: "cpu" } | { kind: "cuda"; index: number };

export function parseDevices(spec: string): Device[] {
  if (spec === "cpu") return [{ kind: "cpu" }];
  return spec.split(",").map((part) => ({ kind: "cuda", index: Number(part.slice("cuda:".length)) }));
}

export function deviceLabel(device: Device): string {
  return device.kind === "cpu" ? "cpu" : `cuda:${device.index}`;
}

export function deviceEnv(device: Device): Record<string, string> {
  return device.kind === "cuda" ? { CUDA_VISIBLE_DEVICES: String(device.index) } : {};
}

export interface WorkerSlot {
  device: Device;
}

/** CPU: `workers` processes; GPU: one process per listed device. */
export function planWorkers(spec: string, workers: number): WorkerSlot[] {
  const devices = parseDevices(spec);
  if (devices.length === 1 && devices[0]!.kind === "cpu") return Array.from({ length: workers }, () => ({ device: devices[0]! }));
  return devices.map((device) => ({ device }));
}

/** GPU indices as nvidia-smi lists them; empty when there is no nvidia-smi or no GPU. */
function detectGpus(): number[] {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], {
      encoding: "utf8",
      timeout: 10000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  } catch {
    return [];
  }
}

/** `--gpus all` or `--gpus N` -> the device spec "cuda:0,cuda:1,..." */
export function gpusToDeviceSpec(gpus: string, detected: () => number[] = detectGpus): string {
  const found = detected();
  let indices: number[];
  if (gpus === "all") indices = found;
  else if (/^\d+$/.test(gpus) && Number(gpus) > 0) indices = found.slice(0, Number(gpus));
  else throw new SpeechflowError("USAGE", `--gpus takes "all" or a count, not "${gpus}"`);
  if (indices.length === 0) throw new SpeechflowError("USAGE", "--gpus: no NVIDIA GPU found (nvidia-smi lists none); use --device cpu");
  if (gpus !== "all" && indices.length < Number(gpus)) {
    throw new SpeechflowError("USAGE", `--gpus ${gpus}: only ${indices.length} GPU(s) found`);
  }
  return indices.map((i) => `cuda:${i}`).join(",");
}
