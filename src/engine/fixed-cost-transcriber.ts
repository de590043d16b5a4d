import type { ChunkJob, ChunkResult, ChunkTranscriber, EngineUsage, TranscriberCapabilities } from "./chunk-transcriber.js";

/** The text every stand-in chunk gets: nobody can mistake it for a transcript. */
export const STAND_IN_TEXT = "[fixed-cost stand-in, not a transcription]";

/**
 * A fixed-cost stand-in for whisper.cpp, reachable only through SPEECHFLOW_FAULT_FIXED_COST_MS on
 * `speechflow worker`: each chunk takes exactly `costMs` and gives one placeholder segment. It lets
 * the queue benchmark and the queue-scale tests measure what the queue path itself costs (blob,
 * Redis, BullMQ, commit) with a known engine cost, on a machine with few cores.
 */
export class FixedCostTranscriber implements ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;

  constructor(
    private readonly costMs: number,
    slots = 1,
  ) {
    this.capabilities = { backend: "stand-in", devices: `fixed-cost stand-in (${costMs} ms per chunk)`, workers: 1, slots, threads: 0 };
  }

  async start(): Promise<{ loadMs: number }> {
    return { loadMs: 0 };
  }

  async transcribe(job: ChunkJob): Promise<ChunkResult> {
    const started = performance.now();
    if (this.costMs > 0) await new Promise((resolve) => setTimeout(resolve, this.costMs));
    return {
      segments: [{ from: 0, to: Math.round(job.pcm.length / 16), text: STAND_IN_TEXT }],
      elapsedMs: performance.now() - started,
      backend: this.capabilities.backend,
      worker: "stand-in",
    };
  }

  async waitForCapacity(): Promise<void> {}

  async close(): Promise<void> {}

  usage(): EngineUsage {
    return {};
  }
}
