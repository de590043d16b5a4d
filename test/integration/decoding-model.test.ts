import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalWorkerTranscriber } from "../../src/engine/local-worker-transcriber.js";
import type { DecodingParams } from "../../src/engine/worker-protocol.js";
import { pcm16k, speak } from "../helpers/media.js";
import { ARTIFACTS } from "../helpers/paths.js";
import { DECODING_WINDOW, MICRO_DECODING_MODEL, writeTestModel } from "../support/write-test-model.js";

// The "chain" test model must decode the same window whatever whisper.cpp is asked to do, or the
// benchmark that uses it would measure different decoding work on each side.
const MODEL = join(ARTIFACTS, "models", "ggml-micro-decoding.bin");
const WINDOW = 30 * 16000;
const greedy: DecodingParams = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };
const expected = DECODING_WINDOW.segments.map((s) => ({ from: s.fromMs, to: s.toMs, text: s.text.trim() }));

/** a 30 s chunk of 16 kHz samples */
function window(fill: (i: number) => number): Float32Array {
  return Float32Array.from({ length: WINDOW }, (_, i) => fill(i));
}

let engine: LocalWorkerTranscriber;
const chunks: Record<string, Float32Array> = {};

beforeAll(async () => {
  mkdirSync(join(ARTIFACTS, "models"), { recursive: true });
  // written every run (under a second), so a changed generator is never tested through a stale copy
  writeTestModel(MODEL, MICRO_DECODING_MODEL);
  const speech = pcm16k(speak("Every window decodes to the same text, whatever it hears.", join(ARTIFACTS, "decoding-model", "speech.wav")));
  chunks.speech = window((i) => speech[i % speech.length]!);
  chunks.silence = window(() => 0);
  // loud white-ish noise, deterministic
  chunks.noise = window((i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1) * 0.5);
  engine = new LocalWorkerTranscriber({
    modelPath: MODEL,
    device: "cpu",
    layout: { workers: 1, jobsPerWorker: 1, threads: 1, reason: "test" },
    emit: () => {},
    env: process.env,
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.close();
});

async function decode(audio: string, params: Partial<DecodingParams>) {
  const { segments } = await engine.transcribe({ label: `${audio}.wav#0`, pcm: chunks[audio]!, params: { ...greedy, ...params } });
  return segments.map((s) => ({ from: s.from, to: s.to, text: s.text.trim() }));
}

describe("the decoding test model (real whisper.cpp addon, generated micro model)", () => {
  it("the fixed window is ~80 tokens: <|0.00|>, five 6 s segments of 14 words, <|30.00|>, end-of-text", () => {
    expect(DECODING_WINDOW.tokens).toHaveLength(81);
    expect(new Set(DECODING_WINDOW.tokens).size).toBe(81);
    expect(expected.map((s) => [s.from, s.to])).toEqual([
      [0, 6000],
      [6000, 12000],
      [12000, 18000],
      [18000, 24000],
      [24000, 30000],
    ]);
    expect(expected.every((s) => s.text.split(" ").length === 14)).toBe(true);
  });

  it.each([
    ["speech", { beamSize: 1 }],
    ["silence", { beamSize: 1, temperatureFallback: true, wordTimestamps: true }],
    ["noise", { beamSize: 1, prompt: "A prompt shifts every position of the window's tokens." }],
    ["speech", { beamSize: 5, temperatureFallback: true }],
    ["noise", { beamSize: 5, temperatureFallback: true, prompt: "Names: Ada, Grace." }],
  ] satisfies [string, Partial<DecodingParams>][])("%s with %o decodes to the fixed segments", async (audio, params) => {
    expect(await decode(audio, params)).toEqual(expected);
  });
});
