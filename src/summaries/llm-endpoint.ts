import OpenAI from "openai";
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

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

function retryAfterMs(headers: Headers | Record<string, string> | undefined): number | undefined {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers?.[name]) ?? null;
  const ms = get("retry-after-ms");
  if (ms && !Number.isNaN(Number(ms))) return Math.min(Number(ms), 60000);
  const value = get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (!Number.isNaN(seconds)) return Math.min(seconds * 1000, 60000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - Date.now()), 60000);
}

/**
 * One OpenAI-compatible chat endpoint with its own retry policy (exponential backoff with jitter,
 * Retry-After honoured) and a circuit breaker: once it has failed `breakerThreshold` attempts in
 * a row it is not called again for the rest of the run, so a dead endpoint costs seconds, not
 * hours. The SDK's own retries are off so that every attempt is counted here.
 */
export class LlmEndpoint {
  private client: OpenAI;
  private consecutiveFailures = 0;
  private apiKey: string;
  open = false;

  constructor(
    readonly spec: EndpointSpec,
    private readonly options: EndpointOptions,
  ) {
    // local servers (Ollama, llama.cpp, vLLM) accept any key; the SDK insists on a non-empty one
    this.apiKey = options.env[spec.apiKeyEnv] ?? "";
    this.client = new OpenAI({ baseURL: spec.baseURL, apiKey: this.apiKey || "not-needed", maxRetries: 0, timeout: options.timeoutMs });
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
    let last = "";
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      if (this.open) throw new SpeechflowError("LLM_FAILED", `${this.label}: not called again in this run after ${this.options.breakerThreshold} failures in a row (last: ${last || "see above"})`);
      if (signal.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted");
      let wait: number | undefined;
      try {
        const response = await this.client.chat.completions.create(
          { model: this.spec.model, messages, response_format: { type: "json_object" }, temperature: 0.2 },
          { signal },
        );
        this.consecutiveFailures = 0;
        const content = response.choices[0]?.message?.content ?? "";
        return { content, promptTokens: response.usage?.prompt_tokens ?? 0, completionTokens: response.usage?.completion_tokens ?? 0 };
      } catch (error) {
        if (signal.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted");
        const status = (error as { status?: number }).status;
        const retryable = error instanceof OpenAI.APIConnectionError || status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
        last =
          error instanceof OpenAI.APIConnectionTimeoutError
            ? `no answer within ${this.options.timeoutMs / 1000} s`
            : error instanceof OpenAI.APIConnectionError
              ? `connection failed (${this.clean(String((error as { cause?: { code?: string } }).cause?.code ?? error.message))})`
              : `HTTP ${status ?? "?"}: ${this.clean((error as Error).message)}`;
        if (!retryable) throw new SpeechflowError("LLM_FAILED", `${this.label}: ${last}`);
        this.consecutiveFailures++;
        if (this.consecutiveFailures >= this.options.breakerThreshold) {
          this.open = true;
          throw new SpeechflowError("LLM_FAILED", `${this.label}: ${last}; ${this.consecutiveFailures} failures in a row, not called again in this run`);
        }
        wait = retryAfterMs((error as { headers?: Headers }).headers);
      }
      if (attempt < this.options.maxRetries) {
        const delay = wait ?? Math.min(30000, this.options.baseDelayMs * 2 ** attempt) * (0.75 + Math.random() * 0.5);
        this.options.onRetry?.(`${this.label}: ${last}; retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay, signal);
      }
    }
    throw new SpeechflowError("LLM_FAILED", `${this.label}: ${last} (after ${this.options.maxRetries + 1} attempts)`);
  }
}
