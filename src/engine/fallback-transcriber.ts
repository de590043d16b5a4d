import type { Emit } from "../core/events.js";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import type { ChunkJob, ChunkResult, ChunkTranscriber, EngineUsage, TranscriberCapabilities } from "./chunk-transcriber.js";

export interface FallbackOptions {
  /** local attempts per chunk before it goes to the remote backend */
  maxAttempts: number;
  /** realtime factor below which every remaining chunk goes remote; 0 = never */
  whenSlowerThan: number;
  emit: Emit;
  now?: () => number;
}

/** Chunks measured locally before the speed rule may move the rest of the run to the remote backend. */
const MEASURE_CHUNKS = 3;

/**
 * The speed rule: after a few local chunks, is local transcription slower than `threshold` x
 * realtime (audio per wall-clock time since the first local chunk started)? 0 = never switch.
 */
export function localTooSlow(local: { audioMs: number; chunks: number; wallMs: number }, threshold: number): boolean {
  if (threshold <= 0 || local.chunks < MEASURE_CHUNKS) return false;
  return local.audioMs / Math.max(1, local.wallMs) < threshold;
}

/**
 * Local first, remote when local cannot: a chunk that fails locally after its attempts, or every
 * chunk once local transcription runs slower than `whenSlowerThan` x realtime, goes to the remote
 * backend. Local results keep the local fingerprint; each chunk records which backend made it.
 */
export class FallbackTranscriber implements ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;
  private readonly now: () => number;
  private localAudioMs = 0;
  private localChunks = 0;
  private firstLocalStart: number | undefined;
  private allRemote = false;
  private remoteOff: string | undefined;

  constructor(
    private readonly local: ChunkTranscriber,
    private readonly remote: ChunkTranscriber,
    private readonly options: FallbackOptions,
  ) {
    this.now = options.now ?? Date.now;
    // local chunks stay independent (and the local fingerprint holds); remote windows come in as chunks
    const { fingerprint: _ignored, chainsWindows: _local, ...caps } = local.capabilities;
    this.capabilities = { ...caps, backend: `${local.capabilities.backend}+${remote.capabilities.backend}` };
  }

  async start(): Promise<{ loadMs: number }> {
    const [local] = await Promise.all([this.local.start(), this.remote.start()]);
    return local;
  }

  async transcribe(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult> {
    if (this.allRemote && !this.remoteOff) return this.viaRemote(job, signal, undefined);
    let lastError: SpeechflowError | undefined;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      try {
        this.firstLocalStart ??= this.now();
        const result = await this.local.transcribe(job, signal);
        this.measure(job);
        return result;
      } catch (raw) {
        lastError = toSpeechflowError(raw);
        if (signal?.aborted || !lastError.retryable) break;
        if (attempt < this.options.maxAttempts)
          this.options.emit({ type: "warning", message: `${job.label}: local attempt ${attempt} failed (${lastError.message}); trying again` });
      }
    }
    if (signal?.aborted || this.remoteOff) throw lastError;
    return this.viaRemote(job, signal, lastError);
  }

  /** After a few chunks: is local keeping up? If not, the rest of the run goes remote. */
  private measure(job: ChunkJob): void {
    this.localAudioMs += (job.pcm.length / 16000) * 1000;
    this.localChunks++;
    if (this.allRemote || this.firstLocalStart === undefined) return;
    const wallMs = this.now() - this.firstLocalStart;
    if (localTooSlow({ audioMs: this.localAudioMs, chunks: this.localChunks, wallMs }, this.options.whenSlowerThan)) {
      this.allRemote = true;
      const factor = (this.localAudioMs / Math.max(1, wallMs)).toFixed(2);
      this.options.emit({
        type: "warning",
        message: `local transcription runs at ${factor}x realtime (< ${this.options.whenSlowerThan}x): the remaining chunks go to ${this.remote.capabilities.backend}`,
      });
    }
  }

  private async viaRemote(job: ChunkJob, signal: AbortSignal | undefined, localError: SpeechflowError | undefined): Promise<ChunkResult> {
    try {
      return await this.remote.transcribe(job, signal);
    } catch (raw) {
      const error = toSpeechflowError(raw);
      if (error.code === "REMOTE_AUTH") this.remoteOff = error.message;
      const local = localError ? `locally: ${localError.message}; ` : "";
      // the chunk has had its local attempts and its remote ones: another round cannot help
      throw new SpeechflowError(error.code, `${local}remotely: ${error.message}`, { retryable: false });
    }
  }

  waitForCapacity(): Promise<void> {
    return this.allRemote ? this.remote.waitForCapacity() : this.local.waitForCapacity();
  }

  inputEnded(): void {
    this.local.inputEnded?.();
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.remote.close()]);
  }

  usage(): EngineUsage {
    return { ...this.local.usage(), ...this.remote.usage() };
  }
}
