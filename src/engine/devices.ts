import { availableParallelism } from "node:os";

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

/** Threads per transcription when the user leaves it at 0: the cores shared by all slots. */
export function threadsPerJob(configured: number, slots: number, cores = availableParallelism()): number {
  if (configured > 0) return configured;
  return Math.max(1, Math.floor(cores / Math.max(1, slots)));
}
