import type { SpeechflowEvent } from "../core/events.js";

/** Progress figures derived from events, shared by the progress-bar and plain reporters. */
export class RunStats {
  startedAt = Date.now();
  totalFiles = 0;
  finishedFiles = 0;
  failedFiles = 0;
  skippedFiles = 0;
  /** audio transcribed by the engine in this run */
  audioDoneMs = 0;
  /** chunks transcribed in this run (by local or remote workers) */
  chunksDone = 0;
  /** known durations of files not finished yet, minus their audio already done */
  private remaining = new Map<string, { total: number; done: number }>();

  update(event: SpeechflowEvent): void {
    switch (event.type) {
      case "run-start":
        this.startedAt = Date.now();
        this.totalFiles = event.inputs;
        break;
      case "file-duration":
        this.remaining.set(event.file, { total: event.durationMs, done: this.remaining.get(event.file)?.done ?? 0 });
        break;
      case "chunk-done": {
        this.audioDoneMs += event.audioMs;
        this.chunksDone++;
        const r = this.remaining.get(event.file) ?? { total: 0, done: 0 };
        r.done += event.audioMs;
        this.remaining.set(event.file, r);
        break;
      }
      case "file-done":
        this.finishedFiles++;
        this.remaining.delete(event.file);
        break;
      case "file-skipped":
        this.finishedFiles++;
        this.skippedFiles++;
        break;
      case "file-failed":
        this.failedFiles++;
        this.finishedFiles++;
        this.remaining.delete(event.file);
        break;
      default:
        break;
    }
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  /** audio seconds per wall second */
  get speed(): number {
    return this.elapsedMs > 0 ? this.audioDoneMs / this.elapsedMs : 0;
  }

  /** chunks per wall second: a queue's remote workers' throughput as the coordinator sees it */
  get chunkRate(): number {
    return this.elapsedMs > 0 ? (this.chunksDone * 1000) / this.elapsedMs : 0;
  }

  /** ETA in ms over the audio whose length is known so far; undefined until there is a rate */
  get etaMs(): number | undefined {
    if (this.speed <= 0) return undefined;
    let left = 0;
    for (const r of this.remaining.values()) left += Math.max(0, r.total - r.done);
    return left / this.speed;
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
