import { type Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { BlobStore } from "../blob/blob-store.js";
import { openBlobStore } from "../blob/open-blob-store.js";
import type { Emit } from "../core/events.js";
import type { ChunkJob, ChunkResult, ChunkTranscriber, EngineUsage, TranscriberCapabilities } from "../engine/chunk-transcriber.js";
import type { DecodingParams } from "../engine/worker-protocol.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type ChunkJobData, type ChunkJobResult, chunkJobResult, encodeSamples, failureIsRetryable } from "./chunk-payload.js";
import { CoordinatorMetrics, serveMetrics } from "./queue-metrics.js";
import { adHocJobId, blobKeyFor, KEY_PREFIX, type QueueMeta, queueNameFor } from "./queue-names.js";
import { registerQueue } from "./queue-registry.js";
import { connectRedis, readRedisFacts, redisFindings } from "./redis-checks.js";
import { redactRedisUrl, redisConnectionOptions } from "./redis-options.js";

export interface QueueEngineOptions {
  queueUrl: string;
  blobUrl: string;
  model: { name: string; identity: string };
  buildClass: string;
  /** the run's decoding settings: part of the queue's name */
  params: DecodingParams;
  emit: Emit;
  /** `--metrics`: PORT or HOST:PORT to serve Prometheus text on; "" = off */
  metrics: string;
  /** chunks handed to the queue at once (decoded audio waits in memory until its result is in) */
  slots?: number;
  /** per-chunk timings of the queue's own work (benchmarks: the overhead per chunk) */
  onTiming?: (timing: ChunkTiming) => void;
}

/** Where a chunk's time went on the coordinator, in milliseconds. */
export interface ChunkTiming {
  id: string;
  label: string;
  /** writing the samples to the blob store */
  putMs: number;
  /** adding the job to Redis */
  addMs: number;
  /** from added (or found) to the result being in: queueing + the worker's work + the way back */
  waitMs: number;
  /** the job was already on the queue (a restarted coordinator, a retry) */
  adopted: boolean;
}

interface Waiter {
  resolve: (result: ChunkJobResult) => void;
  reject: (error: Error) => void;
  /** adds the job again (with its blob) when Redis lost it */
  resubmit: () => Promise<void>;
  since: number;
}

/** How often jobs in flight are checked directly, in case an event was missed (Redis restart). */
const SWEEP_MS = 2000;
const DEFAULT_SLOTS = 16;

const interrupted = () => new SpeechflowError("INTERRUPTED", "interrupted");

/**
 * The coordinator's side of the queue backend: each chunk's samples go to the blob store
 * (one blob per job, named by job id and checksum), a job with the reference goes to the run's BullMQ queue under a
 * deterministic id, and the result comes back with the finished job. The job (and its blob) stay
 * until the pipeline has committed the chunk (`committed`), so a coordinator killed at any point
 * finds them again with the same ids: completed -> its result is taken, failed -> retried,
 * waiting/active -> waited for.
 */
export class QueueTranscriber implements ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;
  readonly queueName: string;
  private redis: Redis | undefined;
  private queue: Queue<ChunkJobData, ChunkJobResult> | undefined;
  private events: QueueEvents | undefined;
  private readonly blobs: BlobStore;
  private readonly waiters = new Map<string, Waiter>();
  private readonly pending = new Map<string, Promise<ChunkJobResult>>();
  /** blob key -> ids of jobs of this run that still need it (two chunks with the same audio share one blob) */
  /** job id -> its blob, deleted once the chunk is committed */
  private readonly blobOf = new Map<string, string>();
  private inFlight = 0;
  private capacityWaiters: (() => void)[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private metricsServer: { close: () => Promise<void> } | undefined;
  private meta: QueueMeta | undefined;
  readonly metrics: CoordinatorMetrics;

  constructor(private readonly options: QueueEngineOptions) {
    this.queueName = queueNameFor({ modelIdentity: options.model.identity, buildClass: options.buildClass, params: options.params });
    this.blobs = openBlobStore(options.blobUrl);
    const slots = options.slots ?? DEFAULT_SLOTS;
    const where = `queue ${this.queueName} at ${redactRedisUrl(options.queueUrl)}`;
    // threads 0: the chunks run on remote workers, whatever their layout (the run-start line says so)
    this.capabilities = { backend: "queue", devices: where, workers: 1, slots, threads: 0, layout: `${where}: remote workers` };
    this.metrics = new CoordinatorMetrics(async () => (this.queue ? ((await this.queue.getJobCounts()) as Record<string, number>) : {}));
  }

  async start(): Promise<{ loadMs: number }> {
    const started = Date.now();
    const { queueUrl, model, buildClass, params } = this.options;
    this.redis = await connectRedis(queueUrl);
    const fatal = redisFindings(await readRedisFacts(this.redis)).filter((f) => f.level === "error");
    if (fatal.length > 0) throw new SpeechflowError("QUEUE_UNAVAILABLE", `Redis at ${redactRedisUrl(queueUrl)}: ${fatal.map((f) => f.message).join("; ")}`);
    this.meta = { name: this.queueName, modelName: model.name, modelIdentity: model.identity, buildClass, params };
    await registerQueue(this.redis, this.meta);
    const connection = redisConnectionOptions(queueUrl);
    this.queue = new Queue<ChunkJobData, ChunkJobResult>(this.queueName, { connection, prefix: KEY_PREFIX });
    this.queue.on("error", () => undefined);
    this.events = new QueueEvents(this.queueName, { connection, prefix: KEY_PREFIX });
    this.events.on("error", () => undefined);
    this.events.on("completed", ({ jobId, returnvalue }) => this.settle(jobId, { returnvalue }));
    this.events.on("failed", ({ jobId, failedReason }) => void this.onFailedEvent(jobId, failedReason));
    this.events.on("stalled", () => this.metrics.stalls.inc());
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_MS);
    if (this.options.metrics) this.metricsServer = await serveMetrics(this.metrics.registry, this.options.metrics);
    return { loadMs: Date.now() - started };
  }

  async transcribe(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult> {
    if (signal?.aborted) throw interrupted();
    const id = job.id ?? adHocJobId(job.label, encodeSamples(job.pcm).sha256);
    this.inFlight++;
    try {
      const started = Date.now();
      // two inputs with the same content give the same ids: the second waits for the first's job
      let pending = this.pending.get(id);
      if (!pending) {
        pending = this.submitAndWait(job, id, signal).finally(() => this.pending.delete(id));
        this.pending.set(id, pending);
      }
      const result = await pending;
      this.metrics.latency.observe((Date.now() - started) / 1000);
      return { segments: result.segments, elapsedMs: result.elapsedMs, backend: this.capabilities.backend, worker: result.worker };
    } finally {
      this.inFlight--;
      this.capacityWaiters.shift()?.();
    }
  }

  /** The pipeline committed the chunk: its job and its blob go. */
  async committed(job: ChunkJob): Promise<void> {
    this.metrics.chunkCommitted(job.pcm.length / 16000);
    if (!this.queue) return;
    const id = job.id ?? adHocJobId(job.label, encodeSamples(job.pcm).sha256);
    await this.queue.remove(id);
    const blob = this.blobOf.get(id);
    this.blobOf.delete(id);
    if (blob) await this.blobs.delete(blob);
  }

  async waitForCapacity(): Promise<void> {
    while (this.inFlight >= this.capabilities.slots * 2) await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const waiter of this.waiters.values()) waiter.reject(interrupted());
    this.waiters.clear();
    for (const wake of this.capacityWaiters.splice(0)) wake();
    await this.metricsServer?.close();
    await this.events?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
    this.redis?.disconnect();
    await this.blobs.close();
  }

  usage(): EngineUsage {
    return {};
  }

  /** Adds the job, or finds the one a crashed run added, and waits for its result. */
  private async submitAndWait(job: ChunkJob, id: string, signal?: AbortSignal): Promise<ChunkJobResult> {
    const queue = this.queue!;
    const { bytes, sha256 } = encodeSamples(job.pcm);
    const data: ChunkJobData = { label: job.label, blob: blobKeyFor(id, sha256), sha256, samples: job.pcm.length, params: job.params };
    this.blobOf.set(id, data.blob);
    const timing: ChunkTiming = { id, label: job.label, putMs: 0, addMs: 0, waitMs: 0, adopted: false };
    const add = async () => {
      const t0 = performance.now();
      await this.blobs.put(data.blob, bytes);
      const t1 = performance.now();
      await queue.add("chunk", data, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
      timing.putMs += t1 - t0;
      timing.addMs += performance.now() - t1;
    };
    const result = new Promise<ChunkJobResult>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, resubmit: add, since: Date.now() });
    });
    // awaited below; this keeps a rejection that comes before then (close) from being unhandled
    result.catch(() => undefined);
    const onAbort = () => this.settle(id, { error: interrupted() });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const existing = (await queue.getJob(id)) as Job<ChunkJobData, ChunkJobResult> | undefined;
      if (!existing) await add();
      else {
        timing.adopted = true;
        await this.adopt(existing, data, bytes);
      }
      const waitStart = performance.now();
      const done = await result;
      timing.waitMs = performance.now() - waitStart;
      this.options.onTiming?.(timing);
      return done;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.waiters.delete(id);
    }
  }

  /** A job with this id is already on the queue (a restarted coordinator, or a retry): use it. */
  private async adopt(existing: Job<ChunkJobData, ChunkJobResult>, data: ChunkJobData, bytes: Uint8Array): Promise<void> {
    const id = existing.id!;
    const state = await existing.getState();
    if (state === "completed") {
      this.metrics.duplicates.inc();
      this.settle(id, { returnvalue: existing.returnvalue });
    } else if (state === "failed") {
      // its blob may be gone (deleted by hand, or another run shared it): write it again first
      await this.blobs.put(data.blob, bytes);
      this.metrics.retries.inc();
      await existing.retry("failed");
    } else {
      this.metrics.duplicates.inc();
    }
  }

  private async onFailedEvent(jobId: string, failedReason: string): Promise<void> {
    // a failed event of an earlier attempt may arrive after the job was retried: trust the job's state
    const state = await this.queue?.getJobState(jobId).catch(() => "unknown");
    if (state === "failed") this.settle(jobId, { failedReason });
  }

  private settle(jobId: string, outcome: { returnvalue?: unknown; failedReason?: string; error?: Error }): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return;
    this.waiters.delete(jobId);
    if (outcome.error) waiter.reject(outcome.error);
    else if (outcome.failedReason !== undefined) {
      const retryable = failureIsRetryable(outcome.failedReason);
      waiter.reject(new SpeechflowError("CHUNK_FAILED", `queue worker failed: ${outcome.failedReason}`, { retryable }));
    } else {
      const raw = typeof outcome.returnvalue === "string" ? (JSON.parse(outcome.returnvalue) as unknown) : outcome.returnvalue;
      const parsed = chunkJobResult.safeParse(raw);
      if (parsed.success) waiter.resolve(parsed.data);
      else waiter.reject(new SpeechflowError("CHUNK_FAILED", `a queue worker returned an unusable result: ${parsed.error.message}`, { retryable: true }));
    }
  }

  /** Checks jobs in flight directly: catches results whose events were missed and jobs Redis lost. */
  private sweeping = false;

  /** One sweep at a time: while Redis is down a sweep hangs, and overlapping ones would resubmit the same jobs on reconnect. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sweepOnce();
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepOnce(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    // a Redis restarted without AOF forgot the registration too: new workers would not find the queue
    if (this.redis && this.meta) await registerQueue(this.redis, this.meta).catch(() => undefined);
    const due = [...this.waiters.entries()].filter(([, w]) => Date.now() - w.since >= SWEEP_MS);
    for (const [id, waiter] of due) {
      try {
        const state = await queue.getJobState(id);
        if (state === "completed" || state === "failed") {
          const job = (await queue.getJob(id)) as Job<ChunkJobData, ChunkJobResult> | undefined;
          if (job) this.settle(id, state === "completed" ? { returnvalue: job.returnvalue } : { failedReason: job.failedReason });
        } else if (state === "unknown" && this.waiters.get(id) === waiter) {
          this.options.emit({ type: "warning", message: `chunk job ${id} is gone from the queue (Redis restarted without AOF, or drained); queued again` });
          this.metrics.requeued.inc();
          waiter.since = Date.now();
          await waiter.resubmit();
        }
      } catch {
        // Redis unreachable for now: the next sweep tries again
      }
    }
  }
}
