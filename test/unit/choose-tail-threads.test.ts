import { describe, expect, it } from "vitest";
import { chooseTailThreads, type TailFacts } from "../../src/engine/choose-tail-threads.js";

const tail: TailFacts = { inputEnded: true, waitingBehind: 0, othersRunningMs: [7000], chunkMs: 8000, concurrency: 2, threads: 1 };

describe("chooseTailThreads", () => {
  it("the last chunk waits for a nearly finished neighbour and then takes every thread", () => {
    expect(chooseTailThreads(tail)).toEqual({ threads: 2, waitForOthers: true });
  });

  it("starts at once with its own threads when the neighbour has more than half a chunk to go", () => {
    expect(chooseTailThreads({ ...tail, othersRunningMs: [3000] })).toEqual({ threads: 1, waitForOthers: false });
  });

  it("does not count on twice the threads being twice as fast (OpenBLAS builds: 1.4x)", () => {
    // 3 s left beside it: 3 + 8 / 2 s would beat 8 s alone, but 3 + 8 / 1.4 s does not
    expect(chooseTailThreads({ ...tail, othersRunningMs: [5000] })).toEqual({ threads: 1, waitForOthers: false });
    expect(chooseTailThreads({ ...tail, othersRunningMs: [6000] })).toEqual({ threads: 2, waitForOthers: true });
  });

  it("waits for the slowest of several neighbours", () => {
    expect(chooseTailThreads({ ...tail, concurrency: 3, othersRunningMs: [7900, 7500] })).toEqual({ threads: 3, waitForOthers: true });
    expect(chooseTailThreads({ ...tail, concurrency: 3, othersRunningMs: [7900, 1000] })).toEqual({ threads: 1, waitForOthers: false });
  });

  it.each([
    ["more input may come", { inputEnded: false }],
    ["chunks wait behind it", { waitingBehind: 1 }],
    ["it runs alone anyway", { othersRunningMs: [] }],
    ["one chunk at a time", { concurrency: 1 }],
    ["no chunk has finished yet (no estimate)", { chunkMs: undefined }],
  ])("keeps its threads when %s", (_why, change) => {
    expect(chooseTailThreads({ ...tail, ...change })).toEqual({ threads: 1, waitForOthers: false });
  });
});
