import { describe, expect, it } from "vitest";
import type { PlannedChunk } from "../../src/chunking/chunk-planner.js";
import { ShortTailMerger } from "../../src/chunking/merge-short-tail.js";

const chunk = (index: number, start: number, length: number): PlannedChunk => ({
  index,
  spans: [{ start, end: start + length }],
  pcm: new Float32Array(length).fill(index + 1),
});

describe("ShortTailMerger", () => {
  it("joins a short last chunk to the one before it, keeping that one's index and both spans", () => {
    const m = new ShortTailMerger(10);
    const out = [...m.push([chunk(0, 0, 30), chunk(1, 30, 30)]), ...m.push([chunk(2, 60, 30)]), ...m.finish([chunk(3, 95, 4)])];
    expect(out.map((c) => [c.index, c.spans])).toEqual([
      [0, [{ start: 0, end: 30 }]],
      [1, [{ start: 30, end: 60 }]],
      [
        2,
        [
          { start: 60, end: 90 },
          { start: 95, end: 99 },
        ],
      ],
    ]);
    expect(Array.from(out[2]!.pcm.slice(28, 32))).toEqual([3, 3, 4, 4]);
  });

  it("leaves a long last chunk alone, and a file of one short chunk too", () => {
    const m = new ShortTailMerger(10);
    expect([...m.push([chunk(0, 0, 30)]), ...m.finish([chunk(1, 30, 12)])].map((c) => c.index)).toEqual([0, 1]);
    expect(new ShortTailMerger(10).finish([chunk(0, 0, 4)]).map((c) => c.pcm.length)).toEqual([4]);
  });

  it("is a pass-through when off (local engines)", () => {
    const m = new ShortTailMerger(0);
    expect(m.push([chunk(0, 0, 30)]).length).toBe(1);
    expect(m.finish([chunk(1, 30, 2)]).length).toBe(1);
  });
});
