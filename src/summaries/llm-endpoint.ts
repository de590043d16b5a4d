import type OpenAI from "openai";
import { parseRetryAfter, RETRY_AFTER_MAX_MS, withRetry } from "../core/retry.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { redactUrl } from "../inputs/redact-url.js";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

export interface EndpointSpec {
  baseURL: string;
  model: string;
  /** name of the environment variable holding the key (the key itself is never stored) */
  apiKeyEnv: string;
}

export interface EndpointOptions {
  timeoutMs: number;
  /** retries after the first attempt, on 429/5xx/timeouts/connection errors */
  maxRetries: number;
  /** consecutive failed attempts after which the endpoint is not called again in this run */
  breakerThreshold: number;
  baseDelayMs: number;
  env: NodeJS.ProcessEnv;
  onRetry?: (message: string) => void;
}

export interface ChatResult {
  content: string;
  promptTokens: number;
  completionTokens: number;
}

/** A failure worth another attempt (429, 5xx, timeout, connection); `message` is already cleaned of the key. */
class RetryableLlmError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** OpenAI-style servers may send `retry-after-ms` (exact) besides the standard `retry-after`. */
function retryAfterMs(headers: Headers | Record<string, string> | undefined): number | undefined {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers?.[name]) ?? null;
  const exact = get("retry-after-ms")?.trim();
  const ms = exact ? Number(exact) : NaN;
  if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, RETRY_AFTER_MAX_MS);
  return parseRetryAfter(get("retry-after"));
}

/**
 * One OpenAI-compatible chat endpoint with its own retry policy (exponential backoff with jitter,
 * Retry-After honoured) and a circuit breaker: once it has failed `breakerThreshold` attempts in
 * a row it is not called again for the rest of the run, so a dead endpoint costs seconds, not
 * hours. The SDK's own retries are off so that every attempt is counted here.
 */
export class LlmEndpoint {
  /** the SDK is loaded on the first call (~0.1 s at start-up that runs without summaries do not pay) */
  private sdk: typeof OpenAI | undefined;
  private client: OpenAI | undefined;
  private consecutiveFailures = 0;
  private apiKey: string;
  open = false;

  constructor(
    readonly spec: EndpointSpec,
    private readonly options: EndpointOptions,
  ) {
    // local servers (Ollama, llama.cpp, vLLM) accept any key; the SDK insists on a non-empty one
    this.apiKey = options.env[spec.apiKeyEnv] ?? "";
  }

  private async connect(): Promise<{ sdk: typeof OpenAI; client: OpenAI }> {
    if (!this.sdk || !this.client) {
      this.sdk = (await import("openai")).default;
      this.client = new this.sdk({ baseURL: this.spec.baseURL, apiKey: this.apiKey || "not-needed", maxRetries: 0, timeout: this.options.timeoutMs });
    }
    return { sdk: this.sdk, client: this.client };
  }

  get label(): string {
    return `${this.spec.model} at ${redactUrl(this.spec.baseURL)}`;
  }

  /** Error text from a server may echo the key ("Incorrect API key provided: sk-..."): cut it out. */
  private clean(text: string): string {
    let out = text;
    if (this.apiKey.length >= 4) out = out.split(this.apiKey).join("[REDACTED]");
    return out.replace(/\b(sk-[A-Za-z0-9_-]{6})[A-Za-z0-9_-]+/g, "$1…").slice(0, 300);
  }

  async chat(messages: ChatMessage[], signal: AbortSignal): Promise<ChatResult> {
    const attempts = this.options.maxRetries + 1;
    let last = "";
    try {
      return await withRetry(() => this.attempt(messages, signal, last), {
        attempts,
        baseDelayMs: this.options.baseDelayMs,
        maxDelayMs: 30000,
        signal,
        classify: (error) => (error instanceof RetryableLlmError ? { retry: true, delayMs: error.retryAfterMs } : { retry: false }),
        onRetry: ({ delayMs, error }) => {
          last = (error as Error).message;
          this.options.onRetry?.(`${this.label}: ${last}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
        },
      });
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw new SpeechflowError("INTERRUPTED", "interrupted");
      if (error instanceof RetryableLlmError) throw new SpeechflowError("LLM_FAILED", `${this.label}: ${error.message} (after ${attempts} attempts)`);
      throw error;
    }
  }

  /** One request; `last` is the previous attempt's failure, quoted if the breaker opened meanwhile. */
  private async attempt(messages: ChatMessage[], signal: AbortSignal, last: string): Promise<ChatResult> {
    if (this.open)
      throw new SpeechflowError(
        "LLM_FAILED",
        `${this.label}: not called again in this run after ${this.options.breakerThreshold} failures in a row (last: ${last || "see above"})`,
      );
    const { sdk, client } = await this.connect();
    try {
      const response = await client.chat.completions.create(
        { model: this.spec.model, messages, response_format: { type: "json_object" }, temperature: 0.2 },
        { signal },
      );
      this.consecutiveFailures = 0;
      const content = response.choices[0]?.message?.content ?? "";
      return { content, promptTokens: response.usage?.prompt_tokens ?? 0, completionTokens: response.usage?.completion_tokens ?? 0 };
    } catch (error) {
      if (signal.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted");
      throw this.failure(error, sdk);
    }
  }

  /**
   * Sorts a failed request: a refusal (401, 400…) is final; anything else counts toward the
   * breaker and is retryable, unless this failure is the one that opens the breaker.
   */
  private failure(error: unknown, sdk: typeof OpenAI): Error {
    const status = (error as { status?: number }).status;
    const retryable = error instanceof sdk.APIConnectionError || status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    const message = this.describe(error, status, sdk);
    if (!retryable) return new SpeechflowError("LLM_FAILED", `${this.label}: ${message}`);
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.options.breakerThreshold) {
      this.open = true;
      return new SpeechflowError("LLM_FAILED", `${this.label}: ${message}; ${this.consecutiveFailures} failures in a row, not called again in this run`);
    }
    return new RetryableLlmError(message, retryAfterMs((error as { headers?: Headers }).headers));
  }

  private describe(error: unknown, status: number | undefined, sdk: typeof OpenAI): string {
    if (error instanceof sdk.APIConnectionTimeoutError) return `no answer within ${this.options.timeoutMs / 1000} s`;
    if (error instanceof sdk.APIConnectionError)
      return `connection failed (${this.clean(String((error as { cause?: { code?: string } }).cause?.code ?? error.message))})`;
    return `HTTP ${status ?? "?"}: ${this.clean((error as Error).message)}`;
  }
}
