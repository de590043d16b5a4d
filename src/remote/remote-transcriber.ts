import OpenAI, { APIConnectionError, APIError, toFile } from "openai";
import PQueue from "p-queue";
import type { Emit } from "../core/events.js";
import { parseRetryAfter, withRetry } from "../core/retry.js";
import type { ChunkJob, ChunkResult, ChunkTranscriber, EngineUsage, RemoteUsage, TranscriberCapabilities } from "../engine/chunk-transcriber.js";
import type { RawSegment } from "../engine/worker-protocol.js";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { encodeFlac, SAMPLE_RATE } from "../media/ffmpeg-gateway.js";
import { parseTranscription } from "./parse-transcription.js";
import { RateLimiter } from "./rate-limiter.js";
import type { RemoteSettings } from "./remote-settings.js";

export interface RemoteEngineOptions {
  settings: RemoteSettings;
  ffmpegPath: string;
  emit: Emit;
  /** attempts per request on 429/5xx/timeouts/resets */
  attempts: number;
  retryBaseDelayMs?: number | undefined;
}

/** A window the service refused as too large (413): split, never sent again at this size. */
class WindowTooLarge extends Error {}

/** No window shorter than this unless the file is (Groq bills 10 s per request whatever is sent). */
const MIN_WINDOW_SECONDS = 10;
/** How much of the previous window's text goes in the prompt: about 224 tokens, the most OpenAI reads. */
const PROMPT_CHARS = 800;

/** Below this a window is not split further: a 413 for one second of FLAC is not a size problem. */
const MIN_SPLIT_MS = 2000;
const msOf = (samples: number) => Math.round((samples * 1000) / SAMPLE_RATE);

interface WindowResult {
  segments: RawSegment[];
  /** "text" when the service gave one text for the window (json-only models): no timestamps inside it */
  granularity: "segment" | "text";
  requestIds: string[];
  requests: number;
  billedSeconds: number;
}

/**
 * Chunks transcribed by an OpenAI-compatible audio API (POST /audio/transcriptions): each chunk is
 * one contiguous window of the file, uploaded as 16 kHz mono FLAC; segments come back in window
 * time, so the pipeline maps them onto the file like local results. Keys stay in memory.
 */
export class RemoteTranscriber implements ChunkTranscriber {
  readonly capabilities: TranscriberCapabilities;
  private readonly client: OpenAI;
  private readonly queue: PQueue;
  private readonly limiter: RateLimiter;
  private readonly settings: RemoteSettings;
  /** a 413 lowers this: no window of that size is ever sent again */
  private maxUploadBytes: number;
  private readonly dropped = new Set<"timestamp_granularities" | "prompt" | "language">();
  private disabled: string | undefined;
  private readonly totals: RemoteUsage;

  constructor(private readonly options: RemoteEngineOptions) {
    const s = options.settings;
    this.settings = s;
    this.maxUploadBytes = s.maxUploadBytes;
    this.client = new OpenAI({ baseURL: s.baseUrl, apiKey: s.apiKey || "no-key", maxRetries: 0, timeout: s.timeoutMs });
    this.queue = new PQueue({ concurrency: s.concurrency });
    this.limiter = new RateLimiter(s.rpm);
    this.capabilities = {
      backend: `remote:${s.provider}`,
      devices: s.provider,
      workers: 1,
      slots: s.concurrency,
      threads: 0,
      fingerprint: `remote:${s.provider}:${s.model}`,
      chainsWindows: { minWindowSeconds: MIN_WINDOW_SECONDS },
    };
    this.totals = { provider: s.provider, model: s.model, requests: 0, audioSeconds: 0, billedSeconds: 0, estimatedCostUsd: 0 };
  }

  async start(): Promise<{ loadMs: number }> {
    return { loadMs: 0 };
  }

  transcribe(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult> {
    return this.queue.add(() => this.run(job, signal), signal ? { signal } : {}) as Promise<ChunkResult>;
  }

  waitForCapacity(): Promise<void> {
    return this.queue.onSizeLessThan(this.capabilities.slots * 2);
  }

  async close(): Promise<void> {
    this.queue.clear();
    await this.queue.onIdle();
  }

  usage(): EngineUsage {
    return this.totals.requests > 0 ? { remote: { ...this.totals, estimatedCostUsd: Math.round(this.totals.estimatedCostUsd * 1e6) / 1e6 } } : {};
  }

  private async run(job: ChunkJob, signal?: AbortSignal): Promise<ChunkResult> {
    if (this.disabled) throw new SpeechflowError("REMOTE_AUTH", this.disabled, { retryable: false });
    const started = Date.now();
    const result = await this.window(job.pcm, 0, job, signal);
    return {
      segments: result.segments,
      elapsedMs: Date.now() - started,
      backend: this.capabilities.backend,
      worker: this.settings.provider,
      remote: {
        provider: this.settings.provider,
        model: this.settings.model,
        requestIds: result.requestIds,
        billedSeconds: result.billedSeconds,
        granularity: result.granularity,
      },
    };
  }

  /** One window (or, after a 413, its halves), segments shifted to the chunk's time. */
  private async window(pcm: Float32Array, offsetMs: number, job: ChunkJob, signal?: AbortSignal): Promise<WindowResult> {
    const flac = await encodeFlac(this.options.ffmpegPath, pcm, signal);
    try {
      if (flac.length > this.maxUploadBytes) throw new WindowTooLarge();
      const one = await this.request(flac, msOf(pcm.length), job, signal);
      return { ...one, segments: one.segments.map((s) => shift(s, offsetMs)) };
    } catch (error) {
      if (!(error instanceof WindowTooLarge)) throw error;
      this.maxUploadBytes = Math.min(this.maxUploadBytes, flac.length - 1);
      if (msOf(pcm.length) < MIN_SPLIT_MS * 2)
        throw new SpeechflowError("REMOTE_FAILED", `the service refuses even ${flac.length} bytes of audio (HTTP 413)`, { retryable: false });
      const half = Math.floor(pcm.length / 2);
      const first = await this.window(pcm.subarray(0, half), offsetMs, job, signal);
      const second = await this.window(pcm.subarray(half), offsetMs + msOf(half), job, signal);
      return {
        segments: [...first.segments, ...second.segments],
        requestIds: [...first.requestIds, ...second.requestIds],
        requests: first.requests + second.requests,
        granularity: first.granularity === "text" || second.granularity === "text" ? "text" : "segment",
        billedSeconds: first.billedSeconds + second.billedSeconds,
      };
    }
  }

  /** One upload with retries: 429 (Retry-After honoured), 5xx, timeouts and resets; 400 for an option: once more without it. */
  private async request(flac: Buffer, durationMs: number, job: ChunkJob, signal?: AbortSignal): Promise<WindowResult> {
    for (;;) {
      try {
        const body = await withRetry(() => this.post(flac, job, signal), {
          attempts: this.options.attempts,
          baseDelayMs: this.options.retryBaseDelayMs ?? 1000,
          ...(signal ? { signal } : {}),
          classify: (error) => this.classify(error),
          onRetry: ({ attempt, delayMs, error }) =>
            this.options.emit({
              type: "warning",
              message: `remote ${this.settings.provider}: ${describe(error)}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${this.options.attempts})`,
            }),
        });
        return this.account(body.data, body.requestId, durationMs);
      } catch (raw) {
        if (signal?.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted");
        const next = this.afterFailure(raw);
        if (next === "again") continue;
        throw next;
      }
    }
  }

  private async post(flac: Buffer, job: ChunkJob, signal?: AbortSignal): Promise<{ data: unknown; requestId: string | undefined }> {
    await this.limiter.wait(signal);
    const s = this.settings;
    const granularities: ("segment" | "word")[] = s.words ? ["segment", "word"] : ["segment"];
    // the user's prompt, then the end of the previous window (OpenAI reads about 224 tokens of it)
    const prompt = [s.prompt, job.previousText ?? ""]
      .filter((p) => p.length > 0)
      .join(" ")
      .slice(-PROMPT_CHARS);
    const params = {
      file: await toFile(flac, "window.flac", { type: "audio/flac" }),
      model: s.model,
      response_format: s.textOnly ? "json" : "verbose_json",
      ...(s.textOnly || this.dropped.has("timestamp_granularities") ? {} : { timestamp_granularities: granularities }),
      ...(s.language !== "auto" && !this.dropped.has("language") ? { language: s.language } : {}),
      ...(prompt && !this.dropped.has("prompt") ? { prompt } : {}),
      ...(job.params.temperatureFallback ? {} : { temperature: 0 }),
    } as OpenAI.Audio.TranscriptionCreateParamsNonStreaming;
    this.totals.requests++;
    const { data, response } = await this.client.audio.transcriptions.create(params, signal ? { signal } : {}).withResponse();
    return { data, requestId: response.headers.get("x-request-id") ?? undefined };
  }

  private classify(error: unknown): { retry: false } | { retry: true; delayMs?: number } {
    if (error instanceof APIError && error.status === 429) {
      const wait = parseRetryAfter(error.headers?.get("retry-after"));
      if (wait !== undefined) this.limiter.backOff(wait);
      return wait === undefined ? { retry: true } : { retry: true, delayMs: wait };
    }
    if (error instanceof APIError && error.status !== undefined && error.status >= 500) return { retry: true };
    if (error instanceof APIConnectionError) return { retry: true };
    return { retry: false };
  }

  /** What a request that still failed means for the window: split (413), retry without an option (400), stop remote use (401/403), or fail. */
  private afterFailure(raw: unknown): "again" | Error {
    if (raw instanceof WindowTooLarge) return raw;
    if (raw instanceof APIError && raw.status === 413) return new WindowTooLarge();
    if (raw instanceof APIError && (raw.status === 401 || raw.status === 403)) {
      // the explanation is printed once; each chunk that needed the service then fails with a short reason
      const key = this.settings.apiKeyEnv ? ` in ${this.settings.apiKeyEnv}` : "";
      this.options.emit({
        type: "warning",
        message: `the remote service ${this.settings.provider} refused the key${key} (HTTP ${raw.status}); remote transcription is off for the rest of this run`,
      });
      this.disabled = `remote transcription is off for this run (${this.settings.provider} refused the key)`;
      return new SpeechflowError("REMOTE_AUTH", this.disabled, { retryable: false });
    }
    if (raw instanceof APIError && raw.status === 400) {
      const option = (["timestamp_granularities", "prompt", "language"] as const).find((o) => !this.dropped.has(o) && describe(raw).includes(o));
      if (option) {
        this.dropped.add(option);
        this.options.emit({ type: "warning", message: `remote ${this.settings.provider} does not support ${option}; sending without it` });
        return "again";
      }
    }
    if (raw instanceof SpeechflowError) return raw;
    const retryable = raw instanceof APIConnectionError || (raw instanceof APIError && (raw.status === 429 || (raw.status ?? 0) >= 500));
    return new SpeechflowError("REMOTE_FAILED", `remote ${this.settings.provider}: ${describe(raw)}`, { retryable });
  }

  private account(data: unknown, requestId: string | undefined, durationMs: number): WindowResult {
    const parsed = parseTranscription(data, { durationMs }, { words: this.settings.words, service: this.settings.provider });
    const billedSeconds = Math.max(durationMs / 1000, this.settings.minBilledSeconds);
    this.totals.audioSeconds += durationMs / 1000;
    this.totals.billedSeconds += billedSeconds;
    this.totals.estimatedCostUsd += (billedSeconds / 3600) * this.settings.pricePerHourUsd;
    const id = requestId ?? parsed.requestId;
    return { segments: parsed.segments, granularity: parsed.granularity, requestIds: id ? [id] : [], requests: 1, billedSeconds };
  }
}

function shift(segment: RawSegment, offsetMs: number): RawSegment {
  if (offsetMs === 0) return segment;
  const tokens = segment.tokens?.map((t) => ({
    ...t,
    ...(t.from !== undefined ? { from: t.from + offsetMs } : {}),
    ...(t.to !== undefined ? { to: t.to + offsetMs } : {}),
  }));
  return { ...segment, from: segment.from + offsetMs, to: segment.to + offsetMs, ...(tokens ? { tokens } : {}) };
}

/** An error as one line, without anything from the request (the key is in a header, never in the message). */
function describe(error: unknown): string {
  if (error instanceof APIError) return `HTTP ${error.status ?? "?"}${error.message ? `: ${error.message.replace(/^\d{3}\s*/, "")}` : ""}`;
  if (error instanceof APIConnectionError) return error.message || "connection failed";
  return toSpeechflowError(error).message;
}
