import type { DecodingParams, RawSegment } from "./worker-protocol.js";

/** One chunk of a file's audio, ready for an engine: 16 kHz mono samples and decoding settings. */
export interface ChunkJob {
  /** "<file>#<chunk>": shown in errors, matched by fault injection */
  label: string;
  pcm: Float32Array;
  params: DecodingParams;
  /** the end of the previous window's text, for backends that condition on it (see `chainsWindows`) */
  previousText?: string;
  /**
   * Stable id of this chunk's work: the same file content, chunk and settings always give the same
   * id, so a backend that keeps work outside the process (a queue) finds it again after a crash.
   */
  id?: string;
}

/** What an engine gives back for a chunk: segments in chunk time, and who did it. */
export interface ChunkResult {
  segments: RawSegment[];
  elapsedMs: number;
  /** the backend that transcribed it ("whisper.cpp", later "queue", "remote:<provider>") */
  backend: string;
  /** which worker or device inside the backend, for logs and metrics */
  worker: string;
  /** for chunks a remote service transcribed: what to record (request ids, billed seconds) */
  remote?: { provider: string; model: string; requestIds: string[]; billedSeconds: number; granularity: "segment" | "text" };
}

/** What a remote backend sent and what it will cost: shown after the run. */
export interface RemoteUsage {
  provider: string;
  model: string;
  requests: number;
  audioSeconds: number;
  billedSeconds: number;
  estimatedCostUsd: number;
}

export interface EngineUsage {
  remote?: RemoteUsage;
}

export interface TranscriberCapabilities {
  backend: string;
  /** devices in use, e.g. "cpu" or "cuda:0,cuda:1" */
  devices: string;
  /** worker processes (or remote connections) */
  workers: number;
  /** chunks that can run at the same time over all workers */
  slots: number;
  /** threads each chunk uses (local engines) */
  threads: number;
  /** how the layout was chosen, for the run-start line (local engines) */
  layout?: string;
  /**
   * Part of the settings fingerprint when this backend's transcripts differ from the local
   * whisper.cpp engine's with the same model (a remote service); undefined for the local engine,
   * so existing state databases keep their fingerprints.
   */
  fingerprint?: string;
  /**
   * Remote APIs: a file's windows go one after another, each prompted with the previous window's
   * text, and none is shorter than `minWindowSeconds` unless the file is. Local engines keep chunks
   * independent (whisper.cpp's no_context) and run a file's chunks side by side.
   */
  chainsWindows?: { minWindowSeconds: number };
}

/**
 * The seam between the pipeline and wherever chunks are transcribed: local worker processes today,
 * a queue of remote workers or an HTTP transcription API tomorrow. The pipeline only calls these
 * methods and never learns where a chunk ran.
 */
export interface ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;
  /** loads models / connects; resolves with how long that took */
  start(): Promise<{ loadMs: number }>;
  /** transcribes one chunk; rejects with a SpeechflowError (retryable when another attempt may work) */
  transcribe(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult>;
  /** resolves when the engine has room for more work: producers pace decoding to it */
  waitForCapacity(): Promise<void>;
  /**
   * Called once every input is decoded and planned: no chunk will come but retries. A local engine
   * gives the last chunk the cores the others leave free.
   */
  inputEnded?(): void;
  /** finishes or abandons in-flight work and releases everything */
  close(): Promise<void>;
  /** what the run used of paid or shared resources (remote requests); empty for local engines */
  usage(): EngineUsage;
  /**
   * Called once the chunk's result is committed to the state database: a backend that holds work
   * outside the process (queue jobs, blobs) may let go of it now, never earlier.
   */
  committed?(job: ChunkJob): Promise<void>;
}
