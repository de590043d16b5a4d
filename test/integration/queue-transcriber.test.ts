import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveModel } from "../../src/models/resolve-model.js";
import { engineBuildClass } from "../../src/queue/queue-registry.js";
import { type ChunkTiming, QueueTranscriber } from "../../src/queue/queue-transcriber.js";
import { speak } from "../helpers/media.js";
import { ARTIFACTS, MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type SpawnedWorker, startWorker, stopWorker } from "../helpers/queue-workers.js";
import { freePort, TestRedis } from "../helpers/redis-server.js";
import { minimalEnv } from "../helpers/run-cli.js";
import { describeTranscriberContract } from "../helpers/transcriber-contract.js";

// two Redis servers, each with one real `speechflow worker`: a healthy one, and one whose engine
// crashes on every chunk labelled "poison" (the contract's crashOnLabel)
let healthy: TestRedis;
let crashing: TestRedis;
let blob: string;
const workers: SpawnedWorker[] = [];
const params = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "sf-queue-contract-"));
  blob = pathToFileURL(join(work, "blobs")).href;
  [healthy, crashing] = await Promise.all([TestRedis.start(), TestRedis.start()]);
  const env = minimalEnv(work);
  workers.push(startWorker({ queue: healthy.url, blob, model: MICRO_MODEL_PATH, cwd: work, env }));
  workers.push(startWorker({ queue: crashing.url, blob, model: MICRO_MODEL_PATH, cwd: work, env: { ...env, SPEECHFLOW_FAULT_ABORT_MARK: "poison" } }));
  await Promise.all(workers.map((w) => w.waitFor(/ready on/)));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w)));
  await Promise.all([healthy?.stop(), crashing?.stop()]);
});

const engine =
  (redis: () => TestRedis, metrics = "", decoding = params, onTiming?: (t: ChunkTiming) => void) =>
  () => {
    const model = resolveModel(MICRO_MODEL_PATH, process.cwd());
    return new QueueTranscriber({
      ...{ queueUrl: redis().url, blobUrl: blob, model: { name: model.name, identity: model.identity }, buildClass: engineBuildClass() },
      ...{ params: decoding, emit: () => undefined, metrics, ...(onTiming ? { onTiming } : {}) },
    });
  };

describeTranscriberContract("QueueTranscriber with real speechflow worker processes", {
  healthy: engine(() => healthy),
  crashOnLabel: () => engine(() => crashing)(),
});

describe("QueueTranscriber metrics", () => {
  it("serves Prometheus text: queue depth by state, chunks and audio committed, and the realtime factor of what was committed", async () => {
    const wav = speak("Metrics count what was committed.", join(ARTIFACTS, "queue-metrics", "speech.wav"));
    const raw = execFileSync("ffmpeg", ["-v", "error", "-i", wav, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
    const pcm = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
    const port = await freePort();
    const started = Date.now();
    // a queue of its own (other decoding settings): the contract's jobs above are left on theirs
    const own = { ...params, prompt: "metrics" };
    const timings: ChunkTiming[] = [];
    const transcriber = engine(
      () => healthy,
      `127.0.0.1:${port}`,
      own,
      (t) => timings.push(t),
    )();
    try {
      await transcriber.start();
      const jobs = [0, 1, 2].map((i) => ({ id: `metrics-${i}`, label: `metrics.wav#${i}`, pcm, params: own }));
      await Promise.all(jobs.map((j) => transcriber.transcribe(j)));
      for (const j of jobs) await transcriber.committed(j);
      // per-chunk timings of the coordinator's own work, for benchmarks
      expect(timings.map((t) => t.id).sort()).toEqual(["metrics-0", "metrics-1", "metrics-2"]);
      for (const t of timings) expect(t).toMatchObject({ adopted: false, putMs: expect.any(Number), addMs: expect.any(Number), waitMs: expect.any(Number) });
      expect(timings.every((t) => t.addMs > 0 && t.waitMs > 0)).toBe(true);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const wall = (Date.now() - started) / 1000;
      const value = (line: RegExp) =>
        Number(
          text
            .split("\n")
            .find((l) => line.test(l))
            ?.split(" ")
            .pop(),
        );
      expect(value(/^speechflow_chunks_committed_total /)).toBe(3);
      const audio = (3 * pcm.length) / 16000;
      expect(value(/^speechflow_audio_seconds_committed_total /)).toBeCloseTo(audio, 6);
      const rtf = value(/^speechflow_realtime_factor /);
      expect(Math.abs(rtf - audio / wall) / (audio / wall)).toBeLessThan(0.1);
      // committed jobs are gone from the queue
      expect(value(/^speechflow_queue_jobs\{state="completed"\} /)).toBe(0);
      expect(value(/^speechflow_chunk_latency_seconds_count /)).toBe(3);
      for (const line of text.split("\n")) {
        if (line && !line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [-0-9.e+]+$/);
      }
    } finally {
      await transcriber.close();
    }
  });
});
