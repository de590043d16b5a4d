import { sleep } from "../core/retry.js";

/**
 * Client-side requests-per-minute limit: requests are spaced evenly, so a run never bursts into
 * the service's limit and collects 429s. rpm 0 = no limit.
 */
export class RateLimiter {
  private next = 0;

  constructor(
    private readonly rpm: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** ms to wait before the next request may start, reserving its slot */
  reserve(): number {
    if (this.rpm <= 0) return 0;
    const now = this.now();
    const slot = Math.max(now, this.next);
    this.next = slot + 60000 / this.rpm;
    return slot - now;
  }

  /** pushes every later request back (after a 429 with Retry-After) */
  backOff(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms > 0) await sleep(ms, signal);
  }
}
