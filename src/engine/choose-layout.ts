import type { Device } from "./devices.js";

/** A layout setting as configured: a number, or "auto" (0 threads also means auto, as before). */
export type LayoutSetting = number | "auto";

export interface LayoutInput {
  devices: Device[];
  workers: LayoutSetting;
  jobsPerWorker: LayoutSetting;
  threads: LayoutSetting;
  /** CPU cores the run may use */
  cores: number;
  /** memory the run may fill (free memory now) */
  availableBytes: number;
  /** the model file's size: each worker process holds one copy */
  modelBytes: number;
}

export interface Layout {
  /** worker processes */
  workers: number;
  /** chunks each worker transcribes at once, each on its own whisper_state */
  jobsPerWorker: number;
  /** threads per chunk */
  threads: number;
  /** one line for doctor and the run-start line: what was chosen and why */
  reason: string;
}

const MB = 1024 * 1024;
/** what a process needs besides the model and its states (Node, the addon, buffers) */
const PROCESS_OVERHEAD_BYTES = 150 * MB;
/** memory left to everything else on the machine */
const HEADROOM_BYTES = 300 * MB;

/**
 * A whisper_state's size for a model (KV caches plus compute buffers), on the safe side. whisper.cpp
 * prints them: 175 MB allocated for tiny (77 MB file) since the encoder computes its attention a few
 * heads at a time (220 MB before), of which about 110 MB are touched; the caches grow with the model's
 * width and layers, roughly with its file size.
 */
export function stateBytes(modelBytes: number): number {
  return 200 * MB + Math.round(0.25 * modelBytes);
}

/** chunks in flight per GPU by default */
const GPU_CHUNKS = 4;

const isAuto = (s: LayoutSetting) => s === "auto" || s === 0;

/**
 * The default layout (measured on CPU: two chunks x 1 thread beat one chunk x 2 threads, because
 * token-by-token decoding barely scales with threads while independent chunks do):
 * - CPU: one worker process, so the weights are in memory once, running one chunk per core (up to
 *   4 cores; beyond that 2 threads per chunk, which keeps per-chunk latency and state memory in
 *   check), each chunk on its own reused whisper_state. A crashed worker costs only its chunks:
 *   they are retried on a fresh one.
 * - fewer chunks when their states would not fit in free memory.
 * - GPU: one worker per GPU with 4 chunks at a time (one chunk at a time left an H200 mostly idle;
 *   8 ran 20 files in 2.5 s, docs/BENCHMARKS.md), the cores shared among them.
 * Anything set explicitly is kept; only "auto" settings are filled in.
 */
export function chooseLayout(input: LayoutInput): Layout {
  const gpus = input.devices.filter((d) => d.kind === "cuda").length;
  const cores = Math.max(1, input.cores);
  if (gpus > 0) {
    const jobsPerWorker = isAuto(input.jobsPerWorker) ? GPU_CHUNKS : (input.jobsPerWorker as number);
    const threads = isAuto(input.threads) ? Math.max(1, Math.floor(cores / (gpus * jobsPerWorker))) : (input.threads as number);
    const configured = !isAuto(input.jobsPerWorker) && !isAuto(input.threads);
    const reason = configured
      ? "as configured (one worker per GPU)"
      : `auto: one worker per GPU (${gpus}), ${jobsPerWorker} chunks each, ${cores} cores shared`;
    return { workers: gpus, jobsPerWorker, threads, reason };
  }
  if (!isAuto(input.workers) && !isAuto(input.jobsPerWorker)) {
    const slots = (input.workers as number) * (input.jobsPerWorker as number);
    const threads = isAuto(input.threads) ? Math.max(1, Math.floor(cores / slots)) : (input.threads as number);
    return { workers: input.workers as number, jobsPerWorker: input.jobsPerWorker as number, threads, reason: "as configured" };
  }
  const threads = isAuto(input.threads) ? (cores <= 4 ? 1 : 2) : (input.threads as number);
  const wantedSlots = Math.max(1, Math.floor(cores / threads));
  const workers = isAuto(input.workers) ? 1 : (input.workers as number);
  const perState = stateBytes(input.modelBytes);
  const spare = input.availableBytes - HEADROOM_BYTES - workers * (input.modelBytes + PROCESS_OVERHEAD_BYTES);
  const fitSlots = Math.max(workers, Math.floor(spare / perState));
  let jobsPerWorker: number;
  if (isAuto(input.jobsPerWorker)) jobsPerWorker = Math.max(1, Math.floor(Math.min(wantedSlots, fitSlots) / workers));
  else jobsPerWorker = input.jobsPerWorker as number;
  const slots = workers * jobsPerWorker;
  const limitedByMemory = isAuto(input.jobsPerWorker) && fitSlots < wantedSlots;
  const why = limitedByMemory
    ? `${cores} cores, but free memory (${Math.round(input.availableBytes / MB)} MB) holds ${slots} whisper states of ~${Math.round(perState / MB)} MB`
    : `${cores} cores, ${threads === 1 ? "one chunk per core" : `${threads} threads per chunk`}`;
  return {
    workers,
    jobsPerWorker,
    threads,
    reason: `auto: ${why}; ${workers === 1 ? "one copy of the model" : `${workers} copies of the model`}, ${slots} chunk(s) at once`,
  };
}

/**
 * "1 worker(s) x 2 chunk(s) x 1 thread(s) (auto: 2 cores, ...)": the run-start line and doctor. A
 * backend whose chunks run elsewhere (threads 0: a queue's remote workers) is named by its layout alone.
 */
export function layoutText(layout: { workers: number; slots: number; threads: number; layout?: string | undefined }): string {
  if (layout.threads === 0 && layout.layout) return layout.layout;
  const perWorker = Math.max(1, Math.round(layout.slots / Math.max(1, layout.workers)));
  const text = `${layout.workers} worker(s) x ${perWorker} chunk(s) x ${layout.threads} thread(s)`;
  return layout.layout ? `${text} (${layout.layout})` : text;
}
