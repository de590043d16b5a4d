import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type FromDiarizeWorker, NATIVE_FAILURE_EXIT_CODE, type SherpaDiarizationConfig, type SpeakerTurn, type ToDiarizeWorker } from "./diarize-protocol.js";
import { checkEmbeddingModel, checkSegmentationModel } from "./onnx-metadata.js";

export type { SpeakerTurn } from "./diarize-protocol.js";

/** The rate of the samples `diarize` takes (and of speechflow's decoded audio). */
const DIARIZATION_SAMPLE_RATE = 16_000;

export interface ModelDiarizerOptions {
  /** pyannote segmentation ONNX model (segmentation-3.0 as exported by sherpa-onnx) */
  segmentationModel: string;
  /** speaker-embedding ONNX model (WeSpeaker, 3D-Speaker or NeMo, with sherpa-onnx's metadata) */
  embeddingModel: string;
  /** the number of speakers when known; takes precedence over clusterThreshold */
  numSpeakers?: number;
  /** cosine distance at which speaker clusters stop merging (sherpa's default 0.5); larger: fewer speakers */
  clusterThreshold?: number;
  /** turns this short (seconds) are dropped (sherpa's default 0.3) */
  minDurationOn?: number;
  /** gaps this short (seconds) within one speaker's speech are closed (sherpa's default 0.5) */
  minDurationOff?: number;
  /** onnxruntime threads for each of the two models (default 1) */
  threads?: number;
}

export interface DiarizeProgress {
  /** speaker embeddings computed so far; sherpa reports none while segmentation runs */
  done: number;
  total: number;
}

// Workers run compiled JS. When this module itself is loaded from TypeScript sources (vitest),
// the compiled entry is the one in dist/.
const WORKER_ENTRY = fileURLToPath(
  import.meta.url.endsWith(".ts") ? new URL("../../dist/diarization/diarize-worker.js", import.meta.url) : new URL("./diarize-worker.js", import.meta.url),
);

const DEFAULTS = { clusterThreshold: 0.5, minDurationOn: 0.3, minDurationOff: 0.5, threads: 1 };
// sherpa's C API reads 0 as "not set" and substitutes its default; this is as good as 0 there
const NEARLY_ZERO = 1e-6;

function positive(name: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new SpeechflowError("CONFIG_INVALID", `diarization: ${name} must be a positive ${integer ? "whole number" : "number"}, not ${value}`);
  }
  return value;
}

function duration(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new SpeechflowError("CONFIG_INVALID", `diarization: ${name} must be 0 or more seconds, not ${value}`);
  return Math.max(value, NEARLY_ZERO);
}

/** The sherpa-onnx config for these options; throws CONFIG_INVALID for values sherpa would misread. */
function toSherpaConfig(options: ModelDiarizerOptions): SherpaDiarizationConfig {
  const threads = positive("threads", options.threads ?? DEFAULTS.threads, true);
  return {
    segmentation: { pyannote: { model: options.segmentationModel }, numThreads: threads },
    embedding: { model: options.embeddingModel, numThreads: threads },
    clustering: {
      numClusters: options.numSpeakers === undefined ? -1 : positive("numSpeakers", options.numSpeakers, true),
      threshold: positive("clusterThreshold", options.clusterThreshold ?? DEFAULTS.clusterThreshold, false),
    },
    minDurationOn: duration("minDurationOn", options.minDurationOn ?? DEFAULTS.minDurationOn),
    minDurationOff: duration("minDurationOff", options.minDurationOff ?? DEFAULTS.minDurationOff),
  };
}

/** Last meaningful line of the worker's stderr (sherpa and onnxruntime log there), without colour codes. */
function lastLogLine(stderrTail: string): string {
  const lines = stripVTControlCharacters(stderrTail)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => /error|fail|invalid|abort|exception|what\(\)|does not exist|status/i.test(l)).pop() ?? lines.pop() ?? "";
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `was killed by ${signal}`;
  if (code === NATIVE_FAILURE_EXIT_CODE) return "stopped after a native sherpa-onnx failure";
  return `exited with code ${code}`;
}

interface Job {
  id: number;
  resolve: (turns: SpeakerTurn[]) => void;
  reject: (error: Error) => void;
  onProgress: ((progress: DiarizeProgress) => void) | undefined;
  /** the latest progress reported, so the end can be reported even when sherpa's last call comes late */
  last?: DiarizeProgress;
}

/** Numbers speakers in order of first appearance, so speaker 0 is whoever speaks first. */
function renumberSpeakers(turns: SpeakerTurn[]): SpeakerTurn[] {
  const order = new Map<number, number>();
  const round = (t: number) => Math.round(t * 1e6) / 1e6; // sherpa's times are float32
  return [...turns]
    .sort((a, b) => a.start - b.start || a.speaker - b.speaker)
    .map((t) => {
      if (!order.has(t.speaker)) order.set(t.speaker, order.size);
      return { start: round(t.start), end: round(t.end), speaker: order.get(t.speaker)! };
    });
}

/**
 * sherpa-onnx offline speaker diarization (pyannote segmentation + speaker embeddings +
 * agglomerative clustering) in a child process: a model that crashes onnxruntime or sherpa ends
 * the child, and the caller gets a SpeechflowError (MODEL_INVALID while loading, WORKER_CRASHED
 * while diarizing). One diarization runs at a time; the next call after a crash starts a new child.
 */
export class ModelDiarizer {
  private child: ChildProcess | undefined;
  private stderrTail = "";
  private job: Job | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: ModelDiarizerOptions,
    private readonly config: SherpaDiarizationConfig,
  ) {}

  /** Checks both models' metadata (MODEL_INVALID names the file and key), then loads them in a worker. */
  static async open(options: ModelDiarizerOptions): Promise<ModelDiarizer> {
    const config = toSherpaConfig(options);
    checkSegmentationModel(options.segmentationModel, DIARIZATION_SAMPLE_RATE);
    checkEmbeddingModel(options.embeddingModel);
    const diarizer = new ModelDiarizer(options, config);
    await diarizer.start();
    return diarizer;
  }

  /** Speaker turns of 16 kHz mono audio, sorted by start; `onProgress` follows the embedding step. */
  diarize(samples: Float32Array, onProgress?: (progress: DiarizeProgress) => void): Promise<SpeakerTurn[]> {
    const run = async () => {
      if (!this.child) await this.start();
      return renumberSpeakers(await this.send(samples, onProgress));
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Asks the worker to exit and waits a little; a straggler is killed. */
  async close(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.post({ type: "shutdown" });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  private start(): Promise<void> {
    const child = fork(WORKER_ENTRY, [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
    this.child = child;
    this.stderrTail = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on("message", (message: FromDiarizeWorker) => {
        if (message.type === "ready") resolve();
        else if (message.type === "load-error") reject(this.loadError(message.message));
        else this.onJobMessage(message);
      });
      // 'close', not 'exit': by then the stderr pipe is drained, so the log names the cause
      child.once("close", (code, signal) => {
        this.child = undefined;
        reject(this.loadError(`the worker ${exitReason(code, signal)}`));
        this.failJob(
          new SpeechflowError("WORKER_CRASHED", `diarization worker ${exitReason(code, signal)}: ${lastLogLine(this.stderrTail)}`, { retryable: true }),
        );
      });
    });
    this.post({ type: "load", config: this.config });
    return ready.catch(async (error: unknown) => {
      await this.close();
      throw error;
    });
  }

  private loadError(reason: string): SpeechflowError {
    const { segmentationModel, embeddingModel } = this.options;
    const detail = [reason, lastLogLine(this.stderrTail)].filter(Boolean).join(": ");
    return new SpeechflowError("MODEL_INVALID", `sherpa-onnx could not load ${segmentationModel} and ${embeddingModel} (${detail})`);
  }

  private send(samples: Float32Array, onProgress: Job["onProgress"]): Promise<SpeakerTurn[]> {
    return new Promise<SpeakerTurn[]>((resolve, reject) => {
      const id = this.nextId++;
      this.job = { id, resolve, reject, onProgress };
      this.post({ type: "diarize", id, samples });
    });
  }

  private onJobMessage(message: FromDiarizeWorker): void {
    const job = this.job;
    if (!job || !("id" in message) || message.id !== job.id) return;
    if (message.type === "progress") {
      job.last = { done: message.done, total: message.total };
      job.onProgress?.(job.last);
    } else if (message.type === "result") {
      this.job = undefined;
      // sherpa's last progress call can reach the worker's event loop after the result: report the end anyway
      if (job.last && job.last.done < job.last.total) job.onProgress?.({ done: job.last.total, total: job.last.total });
      job.resolve(message.turns);
    } else if (message.type === "error") this.failJob(new SpeechflowError("INTERNAL", `diarization failed: ${message.message}`));
  }

  private failJob(error: SpeechflowError): void {
    const job = this.job;
    this.job = undefined;
    job?.reject(error);
  }

  private post(message: ToDiarizeWorker): void {
    if (this.child?.connected) this.child.send(message);
  }
}

/** One-shot: opens a ModelDiarizer, diarizes `samples`, and closes it. */
export async function diarizeWithModels(
  samples: Float32Array,
  options: ModelDiarizerOptions,
  onProgress?: (progress: DiarizeProgress) => void,
): Promise<SpeakerTurn[]> {
  const diarizer = await ModelDiarizer.open(options);
  try {
    return await diarizer.diarize(samples, onProgress);
  } finally {
    await diarizer.close();
  }
}
