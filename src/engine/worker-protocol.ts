import type { FaultPlan } from "../core/fault-plan.js";

/** Messages between the pool (parent) and a worker process, over Node's IPC channel. */
/** Decoding settings: the same for every chunk of a run, whichever engine runs it. */
export interface DecodingParams {
  language: string;
  translate: boolean;
  prompt: string;
  beamSize: number;
  temperatureFallback: boolean;
  wordTimestamps: boolean;
}

/** What a local worker needs on top: how many threads whisper.cpp may use for the chunk. */
export interface EngineParams extends DecodingParams {
  threads: number;
}

export interface RawToken {
  text: string;
  id: number;
  p: number;
  from?: number;
  to?: number;
}

/** A whisper segment in chunk time (ms from the start of the chunk's audio). */
export interface RawSegment {
  from: number;
  to: number;
  text: string;
  lang?: string;
  confidence?: number;
  tokens?: RawToken[];
}

export type ToWorker =
  /** `concurrency`: chunks run at once; the pool may send one more, which waits in the worker (see WorkerPool.dispatch) */
  | { type: "load"; modelPath: string; gpu: boolean; faults: FaultPlan; concurrency: number }
  | { type: "transcribe"; id: number; label: string; pcm: Float32Array; params: EngineParams }
  /** no more chunks will come, apart from retries: the last one may take every thread (chooseTailThreads) */
  | { type: "input-ended" }
  | { type: "shutdown" };

export type FromWorker =
  | { type: "ready"; loadMs: number }
  /** the chunk left the worker's queue and whisper.cpp has it now */
  | { type: "started"; id: number }
  | { type: "load-error"; message: string }
  | { type: "result"; id: number; segments: RawSegment[]; elapsedMs: number; threads: number }
  | { type: "error"; id: number; message: string };
