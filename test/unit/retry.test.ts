import { describe, expect, it } from "vitest";
import { backoffDelayMs, parseRetryAfter, type RetryInfo, retryBaseDelayMs, sleep, withRetry } from "../../src/core/retry.js";

class Transient extends Error {}
class Final extends Error {}

const retryTransient = (error: unknown) => ({ retry: error instanceof Transient });
/** random() = 0.5 makes the jitter exactly ×1 */
const noJitter = () => 0.5;

/** An operation that fails with the given errors in turn, then returns "done". */
function failing(...errors: Error[]) {
  const seen: number[] = [];
  const operation = async (attempt: number) => {
    seen.push(attempt);
    const error = errors[attempt - 1];
    if (error) throw error;
    return "done";
  };
  return { operation, seen };
}

describe("withRetry", () => {
  it("returns the first success without waiting or calling onRetry", async () => {
    const { operation, seen } = failing();
    const retries: RetryInfo[] = [];
    await expect(withRetry(operation, { attempts: 3, baseDelayMs: 1, classify: retryTransient, onRetry: (i) => retries.push(i) })).resolves.toBe("done");
    expect(seen).toEqual([1]);
    expect(retries).toEqual([]);
  });

  it("retries a retryable error, then succeeds; onRetry sees the attempt, delay and error", async () => {
    const first = new Transient("reset");
    const { operation, seen } = failing(first, new Transient("again"));
    const retries: RetryInfo[] = [];
    const result = await withRetry(operation, { attempts: 3, baseDelayMs: 2, random: noJitter, classify: retryTransient, onRetry: (i) => retries.push(i) });
    expect(result).toBe("done");
    expect(seen).toEqual([1, 2, 3]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 2],
      [2, 4],
    ]);
    expect(retries[0]!.error).toBe(first);
  });

  it("throws a non-retryable error at once, as it is", async () => {
    const final = new Final("HTTP 404");
    const { operation, seen } = failing(final);
    const classified: number[] = [];
    const classify = (error: unknown, attempt: number) => {
      classified.push(attempt);
      return retryTransient(error);
    };
    await expect(withRetry(operation, { attempts: 5, baseDelayMs: 1, classify })).rejects.toBe(final);
    expect(seen).toEqual([1]);
    expect(classified).toEqual([1]);
  });

  it("throws the last error when the attempts are used up, without a wait after the last one", async () => {
    const last = new Transient("third");
    const { operation, seen } = failing(new Transient("first"), new Transient("second"), last);
    const retries: number[] = [];
    await expect(withRetry(operation, { attempts: 3, baseDelayMs: 1, classify: retryTransient, onRetry: (i) => retries.push(i.attempt) })).rejects.toBe(last);
    expect(seen).toEqual([1, 2, 3]);
    expect(retries).toEqual([1, 2]);
  });

  it("always makes at least one attempt", async () => {
    const { operation, seen } = failing();
    await expect(withRetry(operation, { attempts: 0, baseDelayMs: 1, classify: retryTransient })).resolves.toBe("done");
    expect(seen).toEqual([1]);
  });

  it("waits the classifier's delayMs (Retry-After) instead of the backoff", async () => {
    const { operation } = failing(new Transient("HTTP 429"));
    const retries: RetryInfo[] = [];
    const started = Date.now();
    await withRetry(operation, {
      attempts: 2,
      baseDelayMs: 1,
      random: noJitter,
      classify: () => ({ retry: true, delayMs: 40 }),
      onRetry: (i) => retries.push(i),
    });
    expect(retries.map((r) => r.delayMs)).toEqual([40]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it("honours a delayMs of 0 (retry at once) rather than falling back to the backoff", async () => {
    const { operation } = failing(new Transient("closed early"));
    const retries: number[] = [];
    await withRetry(operation, { attempts: 2, baseDelayMs: 60_000, classify: () => ({ retry: true, delayMs: 0 }), onRetry: (i) => retries.push(i.delayMs) });
    expect(retries).toEqual([0]);
  });

  it("caps the backoff with maxDelayMs", async () => {
    const { operation } = failing(new Transient("a"), new Transient("b"), new Transient("c"));
    const retries: number[] = [];
    await withRetry(operation, {
      attempts: 4,
      baseDelayMs: 2,
      maxDelayMs: 5,
      random: noJitter,
      classify: retryTransient,
      onRetry: (i) => retries.push(i.delayMs),
    });
    expect(retries).toEqual([2, 4, 5]);
  });

  // a wait of a minute that must end at once: if abort did not work, the test would time out
  it("rejects promptly with the signal's reason when aborted during a wait", { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const { operation, seen } = failing(new Transient("reset"));
    const pending = withRetry(operation, {
      attempts: 3,
      baseDelayMs: 60_000,
      signal: controller.signal,
      classify: retryTransient,
      onRetry: () => setTimeout(() => controller.abort(), 5),
    });
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(seen).toEqual([1]);
  });

  it("does not start an attempt once the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const { operation, seen } = failing();
    await expect(withRetry(operation, { attempts: 3, baseDelayMs: 1, signal: controller.signal, classify: retryTransient })).rejects.toThrow("stop");
    expect(seen).toEqual([]);
  });
});

describe("backoffDelayMs", () => {
  it("doubles from the base, times a jitter of 0.75 to 1.25", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 1000, noJitter))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(1, 1000, () => 0)).toBe(750);
    expect(backoffDelayMs(1, 1000, () => 1)).toBe(1250);
    expect(backoffDelayMs(3, 500, () => 0)).toBe(1500);
  });

  it("caps the exponential term before the jitter", () => {
    expect(backoffDelayMs(10, 1000, noJitter, 30_000)).toBe(30_000);
    expect(backoffDelayMs(10, 1000, () => 0, 30_000)).toBe(22_500);
    expect(backoffDelayMs(2, 1000, noJitter, 30_000)).toBe(2000);
  });

  it("stays within the jitter bounds with the real Math.random", () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelayMs(2, 100);
      expect(delay).toBeGreaterThanOrEqual(150);
      expect(delay).toBeLessThanOrEqual(250);
    }
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 0);

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter("5")).toBe(5000);
    expect(parseRetryAfter(" 2 ")).toBe(2000);
    expect(parseRetryAfter("1.5")).toBe(1500);
  });

  it("caps a long wait at 60 s unless told otherwise", () => {
    expect(parseRetryAfter("3600")).toBe(60_000);
    expect(parseRetryAfter("3600", now, Infinity)).toBe(3_600_000);
  });

  it("reads an HTTP date relative to now", () => {
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 15 Jan 2026 12:00:10 GMT", now)).toBe(10_000);
  });

  it("treats a date in the past as 'now'", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now)).toBe(0);
  });

  it("returns undefined for garbage, negatives and an empty or missing header", () => {
    for (const value of ["soon", "5 seconds", "-3", "Infinity", "", "   ", null, undefined]) expect(parseRetryAfter(value, now), String(value)).toBeUndefined();
  });
});

describe("sleep", () => {
  it("waits at least the given time", async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it("rejects at once for an already aborted signal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(60_000, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("resolves normally with a signal that is never aborted", async () => {
    await expect(sleep(1, new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe("retryBaseDelayMs", () => {
  it("reads SPEECHFLOW_RETRY_BASE_MS", () => {
    expect(retryBaseDelayMs({ SPEECHFLOW_RETRY_BASE_MS: "10" })).toBe(10);
    expect(retryBaseDelayMs({ SPEECHFLOW_RETRY_BASE_MS: "0" })).toBe(0);
  });

  it("is undefined when unset, empty or not a usable number", () => {
    for (const value of [undefined, "", "abc", "-5"]) expect(retryBaseDelayMs({ SPEECHFLOW_RETRY_BASE_MS: value })).toBeUndefined();
  });
});
