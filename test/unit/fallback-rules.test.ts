import { describe, expect, it } from "vitest";
import { localTooSlow } from "../../src/engine/fallback-transcriber.js";
import { RateLimiter } from "../../src/remote/rate-limiter.js";

describe("remote fallback speed rule", () => {
  it("switches only after a few local chunks, and only below the threshold", () => {
    expect(localTooSlow({ audioMs: 30000, chunks: 2, wallMs: 60000 }, 1)).toBe(false);
    expect(localTooSlow({ audioMs: 90000, chunks: 3, wallMs: 120000 }, 1)).toBe(true);
    expect(localTooSlow({ audioMs: 90000, chunks: 3, wallMs: 60000 }, 1)).toBe(false);
    expect(localTooSlow({ audioMs: 1, chunks: 100, wallMs: 1e9 }, 0)).toBe(false);
  });
});

describe("RateLimiter", () => {
  it("spaces requests evenly at the requests-per-minute limit, and a Retry-After pushes every later one back", () => {
    let now = 1000;
    const limiter = new RateLimiter(30, () => now);
    expect([limiter.reserve(), limiter.reserve(), limiter.reserve()]).toEqual([0, 2000, 4000]);
    now = 10000;
    expect(limiter.reserve()).toBe(0);
    limiter.backOff(5000);
    expect(limiter.reserve()).toBe(5000);
    expect(new RateLimiter(0, () => now).reserve()).toBe(0);
  });
});
