import { hostname } from "node:os";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { BlobStore } from "../blob/blob-store.js";
import { openBlobStore } from "../blob/open-blob-store.js";
import type { ChunkTranscriber } from "../engine/chunk-transcriber.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type ChunkJobData, type ChunkJobResult, chunkJobData, decodeSamples, POISON_PREFIX } from "./chunk-payload.js";
import { serveMetrics, WorkerMetrics } from "./queue-metrics.js";
import { KEY_PREFIX, type QueueMeta, workerServes } from "./queue-names.js";
import { heartbeat, listQueues, removeWorker, type WorkerInfo } from "./queue-registry.js";
import { connectRedis } from "./redis-checks.js";
import { redisConnectionOptions } from "./redis-options.js";

/** What a worker tells its command (printed as lines on stderr; the core never prints). */
export type WorkerNote =
  | { type: "serving"; queue: string; modelName: string }
  | { type: "chunk-start"; queue: string; label: string }
  | { type: "chunk-done"; queue: string; label: string; elapsedMs: number }
  | { type: "chunk-failed"; queue: string; label: string; message: string }
  | { type: "holding"; label: string }
  | { type: "metrics"; port: number };

export interface QueueWorkerOptions {
  queueUrl: string;
  blobUrl: string;
  model: { name: string; identity: string };
  buildClass: string;
  /** the local engine (whisper.cpp in worker processes) that transcribes the chunks */
  engine: ChunkTranscriber;
  /** chunks taken at once; 0 = the engine's slots */
  concurrency: number;
  /** how long a taken chunk stays locked without renewal: how soon a killed worker's chunk goes to another */
  lockMs: number;
  /** `--metrics`: PORT or HOST:PORT; "" = off */
  metrics: string;
  note: (note: WorkerNote) => void;
  /** fault injection: hold the first chunk whose label contains this, never finishing it */
  holdMark?: string | undefined;
}

const DISCOVER_MS = 2000;
const HEARTBEAT_MS = 5000;
const FORGET_AFTER_ROUNDS = 5;

/**
 * `speechflow worker`: finds the queues whose model it holds (coordinators register them), takes
 * their chunks with BullMQ and transcribes them with the local engine. whisper.cpp runs in child
 * processes, so this process's event loop stays free to renew its locks however long a chunk takes.
 */
export class QueueWorker {
  readonly id = `${hostname()}-${process.pid}`;
  private redis: Redis | undefined;
  private readonly blobs: BlobStore;
  private readonly workers = new Map<string, Worker<ChunkJobData, ChunkJobResult>>();
  /** discovery rounds each consumed queue has been missing from the registry */
  private readonly missingRounds = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly metrics = new WorkerMetrics();
  private metricsServer: { close: () => Promise<void> } | undefined;
  private processed = 0;
  private held = false;
  private stopping = false;

  constructor(private readonly options: QueueWorkerOptions) {
    this.blobs = openBlobStore(options.blobUrl);
  }

  get concurrency(): number {
    return this.options.concurrency > 0 ? this.options.concurrency : this.options.engine.capabilities.slots;
  }

  async start(): Promise<void> {
    this.redis = await connectRedis(this.options.queueUrl);
    await this.options.engine.start();
    if (this.options.metrics) {
      const server = await serveMetrics(this.metrics.registry, this.options.metrics);
      this.metricsServer = server;
      this.options.note({ type: "metrics", port: server.port });
    }
    await this.beat();
    await this.discover();
    // one discovery at a time: closing a forgotten queue's worker waits for its chunks in hand
    let discovering = false;
    const rediscover = () => {
      if (discovering) return;
      discovering = true;
      void this.discover()
        .catch(() => undefined)
        .finally(() => (discovering = false));
    };
    this.timers.push(setInterval(rediscover, DISCOVER_MS));
    this.timers.push(setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS));
  }

  /** Finishes the chunks in hand (SIGTERM), then lets go of everything. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await this.options.engine.close();
    await this.metricsServer?.close();
    if (this.redis) await removeWorker(this.redis, this.id).catch(() => undefined);
    this.redis?.disconnect();
    await this.blobs.close();
  }

  private info(): WorkerInfo {
    const { model, buildClass, engine } = this.options;
    return {
      ...{ id: this.id, host: hostname(), pid: process.pid, modelName: model.name, modelIdentity: model.identity, buildClass },
      ...{ devices: engine.capabilities.devices, concurrency: this.concurrency, queues: [...this.workers.keys()], processed: this.processed },
    };
  }

  private async beat(): Promise<void> {
    if (this.redis && !this.stopping) await heartbeat(this.redis, this.info(), Math.ceil((HEARTBEAT_MS * 3) / 1000));
  }

  /** Starts consuming every registered queue this worker's model and build can serve (and only those). */
  private async discover(): Promise<void> {
    if (!this.redis || this.stopping) return;
    const { model, buildClass } = this.options;
    const registered = await listQueues(this.redis);
    await this.dropForgotten(new Set(registered.map((m) => m.name)));
    for (const meta of registered) {
      if (this.workers.has(meta.name) || !workerServes(meta, { modelIdentity: model.identity, buildClass })) continue;
      this.workers.set(meta.name, this.consume(meta));
      this.options.note({ type: "serving", queue: meta.name, modelName: meta.modelName });
    }
  }

  /**
   * Stops listening to queues `queue clean` forgot (empty) once they stay unregistered for a few
   * rounds: a Redis restarted without AOF forgets them too, until their coordinator registers again.
   */
  private async dropForgotten(registered: Set<string>): Promise<void> {
    for (const [name, worker] of this.workers) {
      const missing = registered.has(name) ? 0 : (this.missingRounds.get(name) ?? 0) + 1;
      this.missingRounds.set(name, missing);
      if (missing < FORGET_AFTER_ROUNDS) continue;
      this.workers.delete(name);
      this.missingRounds.delete(name);
      await worker.close();
    }
  }

  private consume(meta: QueueMeta): Worker<ChunkJobData, ChunkJobResult> {
    const worker = new Worker<ChunkJobData, ChunkJobResult>(meta.name, (job) => this.process(meta.name, job), {
      connection: redisConnectionOptions(this.options.queueUrl),
      prefix: KEY_PREFIX,
      name: this.id,
      concurrency: this.concurrency,
      lockDuration: this.options.lockMs,
      stalledInterval: Math.max(1000, Math.floor(this.options.lockMs / 2)),
      // a chunk whose worker died twice is failed to the coordinator, which decides about more attempts
      maxStalledCount: 2,
      // finished jobs are kept (BullMQ's default): the coordinator removes each after committing it
    });
    // Redis going away is survived (ioredis reconnects); an unhandled 'error' would end the process
    worker.on("error", () => undefined);
    worker.on("stalled", () => this.metrics.stalls.inc());
    return worker;
  }

  private async process(queue: string, job: Job<ChunkJobData, ChunkJobResult>): Promise<ChunkJobResult> {
    const parsed = chunkJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`${POISON_PREFIX}job ${job.id} carries unusable data: ${parsed.error.message}`);
    const data = parsed.data;
    this.options.note({ type: "chunk-start", queue, label: data.label });
    const started = Date.now();
    try {
      const pcm = await this.samples(data);
      await this.maybeHold(data.label);
      const result = await this.options.engine.transcribe({ label: data.label, pcm, params: data.params });
      const device = result.worker.split("/")[0] ?? "cpu";
      this.metrics.chunks.inc({ device });
      this.metrics.busy.inc({ device }, result.elapsedMs / 1000);
      this.metrics.audio.inc(data.samples / 16000);
      this.metrics.latency.observe((Date.now() - started) / 1000);
      this.processed++;
      this.options.note({ type: "chunk-done", queue, label: data.label, elapsedMs: result.elapsedMs });
      return { segments: result.segments, elapsedMs: result.elapsedMs, worker: `${hostname()}/${process.pid}/${result.worker}` };
    } catch (error) {
      this.metrics.failures.inc();
      this.options.note({ type: "chunk-failed", queue, label: data.label, message: (error as Error).message });
      throw error;
    }
  }

  /** The chunk's samples from the blob store, checked against the job: a mismatch can never succeed. */
  private async samples(data: ChunkJobData): Promise<Float32Array> {
    let bytes: Uint8Array;
    try {
      bytes = await this.blobs.get(data.blob);
    } catch (error) {
      if (error instanceof SpeechflowError && error.code === "BLOB_NOT_FOUND") {
        // retryable: the coordinator writes the blob again before it retries the job
        throw new Error(`${data.label}: audio ${data.blob} is not in ${this.blobs.url} (is --blob the coordinator's store?)`);
      }
      throw error;
    }
    const decoded = decodeSamples(bytes, data);
    if ("problem" in decoded) throw new UnrecoverableError(`${POISON_PREFIX}${data.label}: ${decoded.problem}`);
    return decoded.pcm;
  }

  private async maybeHold(label: string): Promise<void> {
    const mark = this.options.holdMark;
    if (!mark || this.held || !label.includes(mark)) return;
    this.held = true;
    this.options.note({ type: "holding", label });
    await new Promise(() => undefined);
  }
}
