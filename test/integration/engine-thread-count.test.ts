import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalWorkerTranscriber } from "../../src/engine/local-worker-transcriber.js";
import type { DecodingParams } from "../../src/engine/worker-protocol.js";
import { pcm16k, speak } from "../helpers/media.js";
import { ARTIFACTS } from "../helpers/paths.js";
import { writeTestModel } from "../support/write-test-model.js";

// The run's last chunk may take all of a worker's threads (chooseTailThreads), so a chunk's text must
// not depend on its thread count. ggml splits its products by rows (the same sums whatever the count);
// OpenBLAS does not, so scripts/build-engine.mjs keeps it at one thread. A model with random weights
// everywhere makes every token's probability depend on every encoder output, bit for bit.
const MODEL = join(ARTIFACTS, "models", "ggml-micro-random.bin");
const greedy: DecodingParams = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };
const require = createRequire(import.meta.url);
const engineInfo = JSON.parse(readFileSync(join(dirname(require.resolve("smart-whisper/package.json")), "build", "speechflow-engine.json"), "utf8")) as {
  mode: string;
  flags: string;
};

function openblasFound(): boolean {
  try {
    execFileSync("pkg-config", ["--exists", "openblas"]);
    return true;
  } catch {
    return false;
  }
}

let window: Float32Array;
beforeAll(() => {
  mkdirSync(join(ARTIFACTS, "models"), { recursive: true });
  writeTestModel(MODEL, { nState: 64, nHead: 2, nAudioLayer: 2, nTextLayer: 1, decoder: "random" });
  const speech = pcm16k(speak("The same chunk must read the same with one thread or two.", join(ARTIFACTS, "thread-count", "speech.wav")));
  window = Float32Array.from({ length: 30 * 16000 }, (_, i) => speech[i % speech.length]!);
});

const engines: LocalWorkerTranscriber[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

async function tokensWith(threads: number) {
  const engine = new LocalWorkerTranscriber({
    modelPath: MODEL,
    device: "cpu",
    layout: { workers: 1, jobsPerWorker: 1, threads, reason: "test" },
    emit: () => {},
    env: process.env,
  });
  engines.push(engine);
  await engine.start();
  const { segments } = await engine.transcribe({ label: `thread-count-${threads}.wav#0`, pcm: window.slice(), params: greedy });
  return segments.flatMap((s) => (s.tokens ?? []).map((t) => ({ id: t.id, p: t.p })));
}

describe("the engine's result does not depend on the thread count (real whisper.cpp addon)", () => {
  it("one and two threads give the same tokens with bit-identical probabilities", async () => {
    const one = await tokensWith(1);
    const two = await tokensWith(2);
    expect(one.length).toBeGreaterThan(0);
    expect(two).toEqual(one);
  });

  // CI installs libopenblas-dev: a BLAS build that failed and fell back would be ~2x slower, silently
  it.runIf(openblasFound() && engineInfo.mode === "native")("the native build links OpenBLAS where pkg-config finds it", () => {
    expect(engineInfo.flags).toContain("OpenBLAS");
  });
});
