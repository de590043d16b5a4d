import type { Emit } from "../core/events.js";
import type { FaultPlan } from "../core/fault-plan.js";
import type { Layout } from "./choose-layout.js";
import type { ChunkJob, ChunkResult, ChunkTranscriber, EngineUsage, TranscriberCapabilities } from "./chunk-transcriber.js";
import { planWorkers } from "./devices.js";
import { WorkerPool } from "./worker-pool.js";

export interface LocalEngineOptions {
  modelPath: string;
  /** "cpu" or "cuda:0,cuda:1" */
  device: string;
  /** worker processes, chunks per worker, threads per chunk (see chooseLayout) */
  layout: Layout;
  emit: Emit;
  env: NodeJS.ProcessEnv;
  faults?: FaultPlan;
}

/** whisper.cpp in local worker processes (CPU or one per GPU): the first ChunkTranscriber. */
export class LocalWorkerTranscriber implements ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;
  private readonly pool: WorkerPool;

  constructor(options: LocalEngineOptions) {
    const { layout } = options;
    const slots = planWorkers(options.device, layout.workers);
    this.pool = new WorkerPool({
      modelPath: options.modelPath,
      slots,
      jobsPerWorker: layout.jobsPerWorker,
      emit: options.emit,
      env: options.env,
      faults: options.faults ?? {},
    });
    this.capabilities = {
      backend: "whisper.cpp",
      devices: this.pool.devices,
      workers: slots.length,
      slots: slots.length * layout.jobsPerWorker,
      threads: layout.threads,
      layout: layout.reason,
    };
  }

  async start(): Promise<{ loadMs: number }> {
    return { loadMs: await this.pool.start() };
  }

  async transcribe(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult> {
    const result = await this.pool.run({ ...job, params: { ...job.params, threads: this.capabilities.threads } }, signal);
    return { segments: result.segments, elapsedMs: result.elapsedMs, backend: this.capabilities.backend, worker: result.worker };
  }

  /** never more than a couple of chunks waiting per slot: decoded audio does not pile up in memory */
  waitForCapacity(): Promise<void> {
    return this.pool.waitForBacklogBelow(this.capabilities.slots * 2);
  }

  inputEnded(): void {
    this.pool.inputEnded();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  usage(): EngineUsage {
    return {};
  }
}
