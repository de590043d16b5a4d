import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import PQueue from "p-queue";
import { collectGarbage } from "../core/collect-garbage.js";
import type { Emit } from "../core/events.js";
import type { FaultPlan } from "../core/fault-plan.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { deviceEnv, deviceLabel, type WorkerSlot } from "./devices.js";
import type { EngineParams, FromWorker, RawSegment, ToWorker } from "./worker-protocol.js";

export interface PoolOptions {
  modelPath: string;
  slots: WorkerSlot[];
  jobsPerWorker: number;
  emit: Emit;
  env?: NodeJS.ProcessEnv;
  /** fault injection, forwarded to each worker with its load message */
  faults?: FaultPlan;
}

export interface EngineJob {
  /** shown in errors and used by fault injection: "<file>#<chunk>" */
  label: string;
  pcm: Float32Array;
  params: EngineParams;
}

export interface EngineResult {
  segments: RawSegment[];
  elapsedMs: number;
  /** threads whisper.cpp used (more than asked for the last chunk of a run: chooseTailThreads) */
  threads: number;
  /** "<device>/<worker number>" */
  worker: string;
}

interface Pending {
  resolve: (r: Omit<EngineResult, "worker">) => void;
  reject: (e: Error) => void;
  /** the worker has taken it out of its queue and runs it */
  started: boolean;
}

/**
 * Chunks sent to a worker beyond the ones it runs: the next chunk waits inside the worker process,
 * so whisper.cpp starts it the moment a slot frees. Without it the slot idled while the result went
 * to this process and the next chunk came back, and longer whenever this thread was busy planning
 * (Silero): 0.3-0.4 s per 30 s chunk on 2 cores, ~6% of a dense batch (docs/BENCHMARKS.md).
 */
const PREFETCH = 1;

// Workers run compiled JS. When this module itself is loaded from TypeScript sources (vitest),
// the compiled entry is the one in dist/.
const WORKER_ENTRY = fileURLToPath(
  import.meta.url.endsWith(".ts") ? new URL("../../dist/engine/worker-main.js", import.meta.url) : new URL("./worker-main.js", import.meta.url),
);

/**
 * A worker process died with the chunk on board; `shared`: other chunks were running in it too;
 * `ran`: whisper.cpp had started it (a chunk still waiting in the worker's queue cannot be the cause).
 */
class WorkerCrash extends SpeechflowError {
  constructor(
    reason: string,
    readonly shared: boolean,
    readonly ran = true,
  ) {
    super("WORKER_CRASHED", `worker crashed (${reason})`, { retryable: true });
  }
}

class WorkerHandle {
  child: ChildProcess | undefined;
  ready: Promise<number> | undefined;
  inFlight = new Map<number, Pending>();
  alive = false;
  stderrTail = "";
  closing = false;
  /** running a chunk on its own, after a crash that took several chunks down (see dispatch) */
  solo = false;
  /** how often whisper.cpp loaded the model in this process (it says so on stderr): 1 when all is well */
  modelLoads = 0;
  /** how many whisper_states (KV caches, compute buffers) it set up: one per concurrent chunk, reused after */
  stateInits = 0;
  /** the pipeline will send no more chunks (a replacement worker is told at start) */
  inputEnded = false;

  constructor(
    readonly id: number,
    readonly slot: WorkerSlot,
    private readonly options: PoolOptions,
  ) {}

  start(): Promise<number> {
    const child = fork(WORKER_ENTRY, [], {
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: {
        // whisper.cpp's big buffers (states, mel, per-chunk results) should not end up on the heap:
        // with glibc's dynamic mmap threshold they fragment it, so a long run's RSS creeps up. A
        // fixed 1 MiB threshold gives them back to the OS (measured: -150 MB, same speed).
        MALLOC_MMAP_THRESHOLD_: "1048576",
        // each running chunk holds one of libuv's threads (smart-whisper runs whisper_full there);
        // the default pool of 4 would cap a worker at 4 concurrent chunks
        UV_THREADPOOL_SIZE: String(Math.max(4, this.options.jobsPerWorker + 1)),
        ...(this.options.env ?? process.env),
        ...deviceEnv(this.slot.device),
      },
    });
    this.child = child;
    // without a listener a failed IPC write would throw in this process; the exit handler below deals with the worker
    child.on("error", () => undefined);
    this.alive = true;
    this.stderrTail = "";
    this.modelLoads = 0;
    this.stateInits = 0;
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      this.modelLoads += text.match(/loading model from/g)?.length ?? 0;
      this.stateInits += text.match(/whisper_init_state: kv self size/g)?.length ?? 0;
      this.stderrTail = (this.stderrTail + text).slice(-4000);
    });
    this.ready = new Promise<number>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === "ready") resolve(message.loadMs);
        else if (message.type === "started") {
          const pending = this.inFlight.get(message.id);
          if (pending) pending.started = true;
        } else if (message.type === "load-error") {
          reject(new SpeechflowError("MODEL_INVALID", `whisper.cpp could not load ${this.options.modelPath}: ${this.lastLogLine() || message.message}`));
        } else if (message.type === "result" || message.type === "error") {
          const pending = this.inFlight.get(message.id);
          if (!pending) return;
          this.inFlight.delete(message.id);
          if (message.type === "result") pending.resolve({ segments: message.segments, elapsedMs: message.elapsedMs, threads: message.threads });
          else pending.reject(new SpeechflowError("CHUNK_FAILED", `whisper.cpp failed: ${message.message}`, { retryable: true }));
        }
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) => {
        this.alive = false;
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        reject(new SpeechflowError("MODEL_INVALID", `worker ${reason} while loading ${this.options.modelPath}: ${this.lastLogLine()}`));
        const lost = [...this.inFlight.values()];
        this.inFlight.clear();
        const ran = lost.filter((p) => p.started).length;
        if (!this.closing) this.options.emit({ type: "worker-exit", worker: this.id, reason, inFlight: ran, waiting: lost.length - ran });
        for (const pending of lost) pending.reject(new WorkerCrash(reason, ran > 1, pending.started));
      });
    });
    // a failed load is reported through `ready`; this keeps it from being an unhandled rejection
    this.ready.catch(() => undefined);
    this.send({
      type: "load",
      modelPath: this.options.modelPath,
      gpu: this.slot.device.kind !== "cpu",
      faults: this.options.faults ?? {},
      concurrency: this.options.jobsPerWorker,
    });
    if (this.inputEnded) this.send({ type: "input-ended" });
    return this.ready;
  }

  lastLogLine(): string {
    const lines = this.stderrTail
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    return lines.filter((l) => /error|failed|invalid|abort/i.test(l)).pop() ?? lines.pop() ?? "";
  }

  send(message: ToWorker): void {
    // a worker that has just died may still look connected: the write then fails (EPIPE) and its
    // exit, which follows, fails or re-sends whatever was on board
    if (!this.child?.connected) return;
    const audio = message.type === "transcribe";
    this.child.send(message, () => {
      // the chunk's audio was serialized into one buffer and copied into another for the pipe: both
      // are garbage once written (an error or not), the pipe's copy once the write request lets go
      // of it, after this callback
      if (audio) setImmediate(() => collectGarbage("minor"));
    });
  }
}

/**
 * A pool of worker processes, each holding one copy of the model and running up to
 * `jobsPerWorker` transcriptions at a time; p-queue schedules jobs onto free slots. A crashed
 * worker fails only its in-flight jobs (as retryable errors) and is replaced on next use.
 */
export class WorkerPool {
  private readonly workers: WorkerHandle[];
  private readonly queue: PQueue;
  private soloWaiting = 0;
  private nextJobId = 1;
  private waiters: (() => void)[] = [];
  private ending = false;
  private closed = false;
  /** chunks taken from the queue and not yet sent to a worker */
  private unsent = 0;

  constructor(private readonly options: PoolOptions) {
    this.workers = options.slots.map((slot, i) => new WorkerHandle(i + 1, slot, options));
    this.queue = new PQueue({ concurrency: options.slots.length * (options.jobsPerWorker + PREFETCH) });
  }

  get size(): number {
    return this.workers.length;
  }

  get devices(): string {
    return [...new Set(this.workers.map((w) => deviceLabel(w.slot.device)))].join(",");
  }

  /** model loads per worker process so far (whisper.cpp's own log lines); a worker that reloads its model per chunk shows it */
  get modelLoads(): number[] {
    return this.workers.map((w) => w.modelLoads);
  }

  /** whisper_states set up per worker process so far: at most its concurrent chunks when states are reused */
  get stateInits(): number[] {
    return this.workers.map((w) => w.stateInits);
  }

  /** jobs queued or running */
  get backlog(): number {
    return this.queue.size + this.queue.pending;
  }

  /** Starts every worker and waits for the models to load; fails if none can load. */
  async start(): Promise<number> {
    const results = await Promise.allSettled(this.workers.map((w) => w.start()));
    const failure = results.find((r) => r.status === "rejected");
    if (failure && failure.status === "rejected") {
      await this.close();
      throw failure.reason;
    }
    return Math.max(...results.map((r) => (r.status === "fulfilled" ? r.value : 0)));
  }

  run(job: EngineJob, signal?: AbortSignal): Promise<EngineResult> {
    // p-queue keeps up to 100 already-dequeued task closures until it compacts its array; the
    // closure must not pin the job's audio (1.9 MB per chunk) after the job has started
    let queued: EngineJob | undefined = job;
    const task = () => {
      const started = queued!;
      queued = undefined;
      return this.dispatch(started);
    };
    return this.queue.add(task, signal ? { signal } : {}) as Promise<EngineResult>;
  }

  /** No more chunks will come (retries apart): each worker may give its last chunk every thread. */
  inputEnded(): void {
    this.ending = true;
    this.tellInputEnded();
  }

  /** Workers hear of the end once every chunk has been sent to one: a worker's "last chunk" is the run's. */
  private tellInputEnded(): void {
    if (!this.ending || this.queue.size > 0 || this.unsent > 0) return;
    for (const worker of this.workers) {
      if (worker.inputEnded) continue;
      worker.inputEnded = true;
      if (worker.alive) worker.send({ type: "input-ended" });
    }
  }

  /** Resolves when the backlog is at most `limit`: lets producers pace decoding to the engine. */
  async waitForBacklogBelow(limit: number): Promise<void> {
    while (this.backlog > limit) await this.queue.onSizeLessThan(Math.max(1, limit - this.queue.pending + 1));
  }

  /** a worker with room for one more chunk (`solo`: an idle one, kept to this chunk alone) */
  private free(solo: boolean): WorkerHandle | undefined {
    if (solo) return this.workers.find((w) => w.inFlight.size === 0 && !w.solo && (w.alive || !w.closing));
    if (this.soloWaiting > 0) return undefined;
    // the least busy first: a chunk waits in a busy worker only when no worker has a slot free
    const open = this.workers.filter((w) => w.inFlight.size < this.options.jobsPerWorker + PREFETCH && !w.solo && (w.alive || !w.closing));
    return open.sort((a, b) => a.inFlight.size - b.inFlight.size)[0];
  }

  private async acquire(solo: boolean): Promise<WorkerHandle> {
    if (solo) this.soloWaiting++;
    try {
      for (;;) {
        const free = this.free(solo);
        if (free) {
          if (!free.alive) await free.start();
          else await free.ready;
          if (free.alive && !free.solo && free.inFlight.size < (solo ? 1 : this.options.jobsPerWorker + PREFETCH)) {
            free.solo = solo;
            return free;
          }
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      if (solo) this.soloWaiting--;
    }
  }

  /**
   * Runs a chunk on a worker. When a worker dies with several chunks on board, nobody knows which
   * one killed it: each of them runs again alone on a worker (`solo`) before the crash counts
   * against it, so a chunk that crashes whisper.cpp costs the chunks beside it time, never attempts.
   */
  private async dispatch(job: EngineJob, solo = false): Promise<EngineResult> {
    this.unsent++;
    let worker: WorkerHandle;
    try {
      worker = await this.acquire(solo);
    } catch (error) {
      this.unsent--;
      throw error;
    }
    const id = this.nextJobId++;
    try {
      const result = await new Promise<Omit<EngineResult, "worker">>((resolve, reject) => {
        worker.inFlight.set(id, { resolve, reject, started: false });
        worker.send({ type: "transcribe", id, label: job.label, pcm: job.pcm, params: job.params });
        this.unsent--;
        this.tellInputEnded();
      });
      return { ...result, worker: `${deviceLabel(worker.slot.device)}/${worker.id}` };
    } catch (error) {
      // it never ran: send it again as it was, it costs no attempt (not while closing: no worker would take it)
      if (error instanceof WorkerCrash && !error.ran && !this.closed) {
        this.release(worker, solo);
        return this.dispatch(job, solo);
      }
      if (error instanceof WorkerCrash && error.shared && !solo && !this.closed) {
        this.release(worker, solo);
        return this.dispatch(job, true);
      }
      throw error;
    } finally {
      this.release(worker, solo);
    }
  }

  private release(worker: WorkerHandle, solo: boolean): void {
    if (solo) worker.solo = false;
    // conditions differ between waiters (solo or not), so each looks again
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Asks workers to exit and waits a little; stragglers are killed. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    this.queue.clear();
    await Promise.all(
      this.workers.map(async (w) => {
        w.closing = true;
        const child = w.child;
        if (!child || !w.alive) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        w.send({ type: "shutdown" });
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
