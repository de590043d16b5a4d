import { describe, expect, it } from "vitest";
import { EVENTS_SCHEMA_VERSION } from "../../src/core/events.js";
import { RunStats } from "../../src/reporters/run-stats.js";

describe("RunStats", () => {
  it("counts the chunks transcribed (by local or a queue's remote workers) and their rate over the run's wall time", () => {
    const stats = new RunStats();
    stats.update({
      type: "run-start",
      schema: EVENTS_SCHEMA_VERSION,
      runId: 1,
      inputs: 1,
      model: "m",
      workers: 1,
      slots: 16,
      threads: 0,
      db: "d",
      output: "o",
    });
    for (const index of [0, 1, 2]) stats.update({ type: "chunk-done", file: "a.wav", index, audioMs: 30000, elapsedMs: 500 });
    expect(stats.chunksDone).toBe(3);
    expect(stats.audioDoneMs).toBe(90000);
    // as if the run started 2 s ago: 3 chunks / ~2 s
    stats.startedAt = Date.now() - 2000;
    expect(stats.chunkRate).toBeCloseTo(1.5, 1);
    expect(stats.speed).toBeCloseTo(45, 0);
  });
});
