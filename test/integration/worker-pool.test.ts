import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SpeechflowEvent } from "../../src/core/events.js";
import type { FaultPlan } from "../../src/core/fault-plan.js";
import { WorkerPool } from "../../src/engine/worker-pool.js";
import type { EngineParams } from "../../src/engine/worker-protocol.js";
import { speak } from "../helpers/media.js";
import { ARTIFACTS, MICRO_MODEL_PATH } from "../helpers/paths.js";
import { FIXED_TEXT_TOKEN, testTokenText } from "../support/write-test-model.js";

const params: EngineParams = {
  language: "en",
  translate: false,
  prompt: "",
  beamSize: 1,
  temperatureFallback: false,
  wordTimestamps: true,
  threads: 1,
};
let pcm: Float32Array;
let pool: WorkerPool | undefined;

beforeAll(() => {
  const wav = speak("Whisper runs in a worker process and returns segments.", join(ARTIFACTS, "pool", "speech.wav"));
  const raw = execFileSync("ffmpeg", ["-v", "error", "-i", wav, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
  pcm = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
});

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

/** A started pool of one CPU worker on the micro model; its events are collected in `events`. */
async function startPool(jobsPerWorker: number, faults?: FaultPlan): Promise<{ pool: WorkerPool; events: SpeechflowEvent[] }> {
  const events: SpeechflowEvent[] = [];
  pool = new WorkerPool({
    modelPath: MICRO_MODEL_PATH,
    slots: [{ device: { kind: "cpu" } }],
    jobsPerWorker,
    emit: (e) => events.push(e),
    ...(faults ? { faults } : {}),
  });
  await pool.start();
  return { pool, events };
}

describe("WorkerPool (real whisper.cpp, generated micro model)", () => {
  it("loads the model once per worker, however many chunks and pauses (smart-whisper's idle timer must not fire)", async () => {
    pool = new WorkerPool({ modelPath: MICRO_MODEL_PATH, slots: [{ device: { kind: "cpu" } }], jobsPerWorker: 1, emit: () => {} });
    await pool.start();
    for (let i = 0; i < 4; i++) {
      await pool.run({ label: `reload#${i}`, pcm, params });
      // an overflowed offload timer fires after 1 ms of idleness: give it the chance
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pool.modelLoads).toEqual([1]);
  });

  it("sets up one whisper_state per concurrent chunk and reuses it (smart-whisper made one per chunk)", async () => {
    const { pool } = await startPool(2);
    const first = await pool.run({ label: "state#0", pcm, params });
    for (let i = 1; i < 4; i++) await pool.run({ label: `state#${i}`, pcm, params });
    await Promise.all([4, 5].map((i) => pool!.run({ label: `state#${i}`, pcm, params })));
    const again = await pool.run({ label: "state#6", pcm, params: { ...params, temperatureFallback: true } });
    // whisper.cpp prints its state sizes once per state; stderr arrives asynchronously (a state per
    // chunk would show 7 at once)
    for (let waited = 0; pool.stateInits[0]! < 2 && waited < 2000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pool.stateInits).toEqual([2]);
    // a reused state gives the same text as the fresh one (no results or text context carried over;
    // the generated model decodes with probability 1, so this does not exercise the RNG reseed)
    expect(again.segments.map((s) => s.text)).toEqual(first.segments.map((s) => s.text));
  });

  it("loads the model once per worker and transcribes: segments ordered, inside the audio", async () => {
    const events: SpeechflowEvent[] = [];
    pool = new WorkerPool({ modelPath: MICRO_MODEL_PATH, slots: [{ device: { kind: "cpu" } }], jobsPerWorker: 2, emit: (e) => events.push(e) });
    await pool.start();
    const results = await Promise.all([1, 2, 3].map((i) => pool!.run({ label: `t#${i}`, pcm, params })));
    const durationMs = (pcm.length / 16000) * 1000;
    for (const { segments } of results) {
      expect(segments.length).toBeGreaterThan(0);
      let last = 0;
      for (const s of segments) {
        expect(s.from).toBeGreaterThanOrEqual(last);
        expect(s.to).toBeGreaterThanOrEqual(s.from);
        expect(s.from).toBeLessThan(durationMs);
        last = s.from;
      }
      // the generated model decodes every window to its one fixed word, with word timings
      expect(segments[0]!.text.trim()).toBe(testTokenText(FIXED_TEXT_TOKEN).trim());
      expect(segments[0]!.tokens?.some((t) => t.id === FIXED_TEXT_TOKEN && typeof t.from === "number")).toBe(true);
    }
    expect(events.filter((e) => e.type === "worker-exit")).toEqual([]);
  });

  it("survives a worker that aborts: only its in-flight chunk fails, a fresh worker takes the next", async () => {
    const { pool, events } = await startPool(1, { abortNth: 2 });
    await expect(pool.run({ label: "a#0", pcm, params })).resolves.toMatchObject({ segments: expect.any(Array) });
    await expect(pool.run({ label: "a#1", pcm, params })).rejects.toMatchObject({ code: "WORKER_CRASHED", retryable: true });
    await expect(pool.run({ label: "a#2", pcm, params })).resolves.toMatchObject({ segments: expect.any(Array) });
    expect(events).toContainEqual(expect.objectContaining({ type: "worker-exit", reason: "killed by SIGABRT", inFlight: 1 }));
  });

  it("a crash with several chunks on board costs the innocent ones no attempt: each reruns alone, only the culprit fails", async () => {
    const { pool, events } = await startPool(3, { abortMark: "poison" });
    const [innocent1, poison, innocent2] = await Promise.allSettled([
      pool.run({ label: "ok#1", pcm, params }),
      pool.run({ label: "poison#2", pcm, params }),
      pool.run({ label: "ok#3", pcm, params }),
    ]);
    expect(innocent1).toMatchObject({ status: "fulfilled", value: { segments: expect.any(Array) } });
    expect(innocent2).toMatchObject({ status: "fulfilled", value: { segments: expect.any(Array) } });
    expect(poison).toMatchObject({ status: "rejected", reason: { code: "WORKER_CRASHED", retryable: true } });
    // the first crash took whatever was on board; the poison chunk then crashed a worker alone
    const exits = events.filter((e) => e.type === "worker-exit");
    expect(exits.length).toBe(2);
    expect(exits.at(-1)).toMatchObject({ inFlight: 1 });
  });

  it("sends the next chunk ahead into the worker; when the running one crashes it, the waiting one is sent again at no cost", async () => {
    const { pool, events } = await startPool(1, { abortMark: "poison" });
    const [poison, waiting] = await Promise.allSettled([pool.run({ label: "poison#1", pcm, params }), pool.run({ label: "ok#2", pcm, params })]);
    expect(poison).toMatchObject({ status: "rejected", reason: { code: "WORKER_CRASHED", retryable: true } });
    expect(waiting).toMatchObject({ status: "fulfilled", value: { segments: expect.any(Array) } });
    // both were on board (the second waiting inside the worker), yet only the one that ran is blamed:
    // no rerun alone for the poison chunk, so one crash in all
    const exits = events.filter((e) => e.type === "worker-exit");
    expect(exits).toEqual([expect.objectContaining({ inFlight: 1, waiting: 1 })]);
  });

  it("once the input has ended, the last chunk waits for its nearly finished neighbour and then takes every thread", async () => {
    const { pool } = await startPool(2);
    // a full 30 s window each: two start together and end together, the third would otherwise run beside nothing
    const window = new Float32Array(16000 * 30);
    for (let at = 0; at + pcm.length <= window.length; at += pcm.length) window.set(pcm, at);
    const runs = [1, 2, 3].map((i) => pool!.run({ label: `w#${i}`, pcm: window.slice(), params: { ...params, threads: 1 } }));
    pool.inputEnded();
    const results = await Promise.all(runs);
    expect(results.map((r) => r.threads)).toEqual([1, 1, 2]);
    for (const r of results) expect(r.segments.length).toBeGreaterThan(0);
  });

  it("before the input has ended, every chunk keeps the threads it was given", async () => {
    const { pool } = await startPool(2);
    const results = await Promise.all([1, 2, 3].map((i) => pool!.run({ label: `w#${i}`, pcm, params: { ...params, threads: 1 } })));
    expect(results.map((r) => r.threads)).toEqual([1, 1, 1]);
  });

  it("does not keep a chunk's audio alive after its job has run (p-queue retains dequeued tasks)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    pool = new WorkerPool({ modelPath: MICRO_MODEL_PATH, slots: [{ device: { kind: "cpu" } }], jobsPerWorker: 1, emit: () => {} });
    await pool.start();
    const refs: WeakRef<Float32Array>[] = [];
    const keepBusy = pool.run({ label: "busy", pcm: pcm.slice(), params });
    const jobs = Array.from({ length: 4 }, (_, i) => {
      const audio = pcm.slice();
      refs.push(new WeakRef(audio));
      return pool!.run({ label: `j#${i}`, pcm: audio, params });
    });
    // two long jobs behind them: while the second still waits, the queue has not drained (a
    // drained p-queue resets its array, which would hide the retention)
    const long = new Float32Array(16000 * 90);
    const trailing = [pool.run({ label: "t1", pcm: long, params }), pool.run({ label: "t2", pcm: long.slice(), params })];
    await Promise.all(jobs);
    gc();
    await new Promise((r) => setTimeout(r, 20));
    gc();
    expect(pool.backlog).toBe(2); // t1 running, t2 queued: the check ran before the queue drained
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    await Promise.all([keepBusy, ...trailing]);
  });

  it("fails to start with a clear error on a file that is not a model", async () => {
    pool = new WorkerPool({ modelPath: join(ARTIFACTS, "pool", "speech.wav"), slots: [{ device: { kind: "cpu" } }], jobsPerWorker: 1, emit: () => {} });
    await expect(pool.start()).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });
});
