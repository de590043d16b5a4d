import { describe, expect, it } from "vitest";
import { chooseLayout, type LayoutInput, layoutText, stateBytes } from "../../src/engine/choose-layout.js";

const MB = 1024 * 1024;
const GB = 1024 * MB;
const cpu = [{ kind: "cpu" as const }];
const tiny = 77 * MB;
const largeV3 = 3095 * MB;
const auto: Pick<LayoutInput, "workers" | "jobsPerWorker" | "threads"> = { workers: "auto", jobsPerWorker: "auto", threads: "auto" };
const pick = (layout: ReturnType<typeof chooseLayout>) => [layout.workers, layout.jobsPerWorker, layout.threads];

describe("chooseLayout (the default worker x chunk x thread layout)", () => {
  it("CPU with plenty of memory: one worker (one copy of the weights), one chunk per core up to 4 cores", () => {
    expect(pick(chooseLayout({ ...auto, devices: cpu, cores: 2, availableBytes: 20 * GB, modelBytes: tiny }))).toEqual([1, 2, 1]);
    expect(pick(chooseLayout({ ...auto, devices: cpu, cores: 4, availableBytes: 20 * GB, modelBytes: tiny }))).toEqual([1, 4, 1]);
    expect(pick(chooseLayout({ ...auto, devices: cpu, cores: 1, availableBytes: 20 * GB, modelBytes: tiny }))).toEqual([1, 1, 1]);
  });

  it("more than 4 cores: 2 threads per chunk", () => {
    expect(pick(chooseLayout({ ...auto, devices: cpu, cores: 16, availableBytes: 64 * GB, modelBytes: tiny }))).toEqual([1, 8, 2]);
  });

  it("fewer chunks when their whisper states would not fit in free memory, and says so", () => {
    // large-v3: ~3 GB of weights + ~1 GB per state; 6 GB free leaves room for 2 states
    const layout = chooseLayout({ ...auto, devices: cpu, cores: 16, availableBytes: 6 * GB, modelBytes: largeV3 });
    expect(pick(layout)).toEqual([1, 2, 2]);
    expect(layout.reason).toMatch(/free memory \(6144 MB\) holds 2 whisper states/);
    // never below one chunk, even when memory looks short
    expect(pick(chooseLayout({ ...auto, devices: cpu, cores: 4, availableBytes: 1 * GB, modelBytes: largeV3 }))).toEqual([1, 1, 1]);
  });

  it("keeps what is set explicitly and fills in only auto settings", () => {
    expect(
      pick(chooseLayout({ devices: cpu, workers: 2, jobsPerWorker: "auto", threads: "auto", cores: 2, availableBytes: 20 * GB, modelBytes: tiny })),
    ).toEqual([2, 1, 1]);
    const configured = chooseLayout({ devices: cpu, workers: 1, jobsPerWorker: 1, threads: "auto", cores: 8, availableBytes: 20 * GB, modelBytes: tiny });
    expect(pick(configured)).toEqual([1, 1, 8]);
    expect(configured.reason).toBe("as configured");
    // threads 0 is the old spelling of auto
    expect(pick(chooseLayout({ devices: cpu, workers: 2, jobsPerWorker: 2, threads: 0, cores: 8, availableBytes: 20 * GB, modelBytes: tiny }))).toEqual([
      2, 2, 2,
    ]);
    expect(pick(chooseLayout({ ...auto, threads: 2, devices: cpu, cores: 2, availableBytes: 20 * GB, modelBytes: tiny }))).toEqual([1, 1, 2]);
  });

  it("GPUs: one worker per device, 4 chunks each (one at a time leaves a GPU idle), the cores shared", () => {
    const gpus = [
      { kind: "cuda" as const, index: 0 },
      { kind: "cuda" as const, index: 1 },
    ];
    const layout = chooseLayout({ ...auto, devices: gpus, cores: 16, availableBytes: 64 * GB, modelBytes: largeV3 });
    expect(pick(layout)).toEqual([2, 4, 2]);
    expect(layout.reason).toMatch(/one worker per GPU/);
  });

  it("estimates a state from the model size (whisper.cpp prints ~220 MB for tiny)", () => {
    expect(Math.round(stateBytes(tiny) / MB)).toBe(219);
  });
});

describe("layoutText (the run-start line)", () => {
  it("a local engine: workers x chunks x threads and why", () => {
    expect(layoutText({ workers: 1, slots: 2, threads: 1, layout: "auto: 2 cores" })).toBe("1 worker(s) x 2 chunk(s) x 1 thread(s) (auto: 2 cores)");
  });

  it("a queue: its name and Redis, since the chunks run on remote workers", () => {
    const queue = { workers: 1, slots: 16, threads: 0, layout: "queue sf-abc at redis://queue-host:6379/0: remote workers" };
    expect(layoutText(queue)).toBe("queue sf-abc at redis://queue-host:6379/0: remote workers");
  });
});
