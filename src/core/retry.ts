/**
 * Retry with exponential backoff, shared by every network client (model pull, URL download,
 * webhook, LLM endpoint) so that they wait, give up and honour Retry-After the same way.
 */

/** What a caller's `classify` says about one failed attempt. */
export type RetryDecision =
  | { retry: false }
  /** `delayMs` replaces the computed backoff, e.g. a server's Retry-After */
  | { retry: true; delayMs?: number };

export interface RetryInfo {
  /** the attempt that just failed (1-based) */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** attempts in all, the first included; at least one is always made */
  attempts: number;
  /** the first backoff; it doubles with each further attempt */
  baseDelayMs: number;
  /**
   * Caps the exponential term before the jitter is applied, so retries at the cap still spread
   * out (a wait can be up to 1.25 × this). A `delayMs` from `classify` is not capped here.
   */
  maxDelayMs?: number;
  /** checked before every attempt and during every wait: an abort rejects with `signal.reason` */
  signal?: AbortSignal;
  classify: (error: unknown, attempt: number) => RetryDecision;
  /** called before each wait, e.g. to warn "retrying in 2.0 s" */
  onRetry?: (info: RetryInfo) => void;
  /** tests pass a fixed value to make the jitter predictable */
  random?: () => number;
}

/** A server may ask for a long pause; a batch run should not stall on one header for longer. */
export const RETRY_AFTER_MAX_MS = 60_000;

/**
 * Runs `operation` until it succeeds, `classify` says an error is final, or the attempts are
 * used up; then the last error is thrown as it is, so callers keep their own error types.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  // NaN or less than one still means one attempt, never an endless loop
  const attempts = Math.max(1, Math.floor(options.attempts) || 1);
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = options.classify(error, attempt);
      if (!decision.retry || attempt >= attempts) throw error;
      const delayMs = decision.delayMs ?? backoffDelayMs(attempt, options.baseDelayMs, options.random, options.maxDelayMs);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * The wait after failed attempt `attempt` (1-based): base × 2^(attempt−1), capped, times a jitter
 * of 0.75–1.25 so that many clients failing together do not all come back at the same moment.
 */
export function backoffDelayMs(attempt: number, baseDelayMs: number, random: () => number = Math.random, maxDelayMs = Infinity): number {
  const exponential = Math.min(baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
  return exponential * (0.75 + random() * 0.5);
}

/** Resolves after `ms`; an abort rejects at once with the signal's reason (an AbortError). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  const wait = Math.max(0, ms);
  if (!signal) return new Promise<void>((resolve) => setTimeout(resolve, wait));
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, wait);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `abort()` always sets a reason in Node; the fallback only guards a foreign signal. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
}

/**
 * A Retry-After header in ms: delta-seconds ("120", also "1.5" as the earlier parsers took it) or
 * an HTTP date (a past one means "now": 0). Undefined when absent or unreadable, so the caller
 * falls back to its backoff. Capped at `maxMs` (60 s by default).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now(), maxMs: number = RETRY_AFTER_MAX_MS): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const seconds = Number(text);
  if (!Number.isNaN(seconds)) return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, maxMs) : undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(at - nowMs, 0), maxMs);
}

/**
 * `SPEECHFLOW_RETRY_BASE_MS` shortens every backoff (tests set it to a few ms). Read here only,
 * so that every client honours the same variable; undefined when unset or not a number ≥ 0.
 */
export function retryBaseDelayMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SPEECHFLOW_RETRY_BASE_MS?.trim();
  if (!raw) return undefined;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
