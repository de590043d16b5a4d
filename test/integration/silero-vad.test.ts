import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ChunkPlanner, type PlannedChunk } from "../../src/chunking/chunk-planner.js";
import { createClassifier, probeSilero, resolveVad, type VadChoice } from "../../src/chunking/resolve-vad.js";
import { sentenceClips } from "../helpers/corpus.js";
import { noiseFloor, pcm16k } from "../helpers/media.js";

const SR = 16000;
const PLAN = { maxChunkSeconds: 30, skipSilenceSeconds: 1.5, silenceThresholdDb: -50 };

/** espeak sentences with known pauses under a noise floor (dBFS); `speech` marks each sentence's audible samples */
function meetingUnderNoise(floorDb: number, color: "white" | "brown"): { samples: Float32Array; speech: Uint8Array; pauses: { start: number; end: number }[] } {
  const clips = sentenceClips()
    .slice(0, 5)
    .map((file) => {
      const x = pcm16k(file);
      let a = 0;
      let b = x.length - 1;
      while (a < b && Math.abs(x[a]!) < 1e-3) a++;
      while (b > a && Math.abs(x[b]!) < 1e-3) b--;
      return x.subarray(a, b + 1);
    });
  const gaps = [1, 0.6, 3, 12, 0.9, 1];
  const total = clips.reduce((n, c) => n + c.length, 0) + gaps.reduce((n, g) => n + Math.round(g * SR), 0);
  const samples = new Float32Array(total);
  const speech = new Uint8Array(total);
  const pauses: { start: number; end: number }[] = [];
  let at = Math.round(gaps[0]! * SR);
  clips.forEach((clip, i) => {
    samples.set(clip, at);
    speech.fill(1, at, at + clip.length);
    at += clip.length;
    const gap = Math.round(gaps[i + 1]! * SR);
    pauses.push({ start: at, end: at + gap });
    at += gap;
  });
  const noise = noiseFloor(total / SR + 1, floorDb, color);
  for (let i = 0; i < total; i++) samples[i]! += noise[i]!;
  return { samples, speech, pauses };
}

function plan(choice: VadChoice, samples: Float32Array, block: number): PlannedChunk[] {
  const planner = new ChunkPlanner({ ...PLAN, classifier: createClassifier(choice, PLAN.silenceThresholdDb) });
  const chunks: PlannedChunk[] = [];
  for (let i = 0; i < samples.length; i += block) chunks.push(...planner.push(samples.subarray(i, i + block)));
  return [...chunks, ...planner.finish()];
}

function covered(chunks: PlannedChunk[], length: number): Uint8Array {
  const sent = new Uint8Array(length);
  for (const c of chunks) for (const s of c.spans) sent.fill(1, s.start, s.end);
  return sent;
}

let audio: ReturnType<typeof meetingUnderNoise>;
let noisy: ReturnType<typeof meetingUnderNoise>;
let rumble: ReturnType<typeof meetingUnderNoise>;
beforeAll(() => {
  audio = meetingUnderNoise(-40, "white"); // a quiet room's hiss
  noisy = meetingUnderNoise(-28, "white"); // a noisy one: the energy VAD hears the floor as speech
  rumble = meetingUnderNoise(-40, "brown");
});

const missedSeconds = (a: ReturnType<typeof meetingUnderNoise>, sent: Uint8Array) =>
  a.speech.reduce((n, v, i) => n + (v === 1 && sent[i] === 0 ? 1 : 0), 0) / SR;

describe("Silero VAD through sherpa-onnx", () => {
  it("finds the sentences under a noise floor and leaves the long silence out", () => {
    const choice = resolveVad("silero");
    expect(choice.kind).toBe("silero");
    const sent = covered(plan(choice, audio.samples, 4000), audio.samples.length);
    const missed = audio.speech.reduce((n, v, i) => n + (v === 1 && sent[i] === 0 ? 1 : 0), 0);
    expect(missed / SR, "speech seconds not sent").toBeLessThan(0.05);
    const long = audio.pauses[2]!; // the 12 s silence
    const inLong = sent.subarray(long.start, long.end).reduce((n, v) => n + v, 0) / SR;
    expect(inLong, "seconds of the 12 s silence sent").toBeLessThan(1.5);
    const speechSeconds = audio.speech.reduce((n, v) => n + v, 0) / SR;
    const sentSeconds = sent.reduce((n, v) => n + v, 0) / SR;
    // the pauses under 1.5 s stay in (whisper reads them as punctuation), plus padding around each sentence
    expect(sentSeconds).toBeLessThan(speechSeconds + 0.6 + 0.9 + 5 * 0.8 + 1);
  });

  it("sends less of the noise floor than the energy VAD, which hears it as speech", () => {
    const seconds = (choice: VadChoice) => covered(plan(choice, noisy.samples, 4000), noisy.samples.length).reduce((n, v) => n + v, 0) / SR;
    expect(seconds(resolveVad("silero"))).toBeLessThan(seconds(resolveVad("energy")) - 10);
    const sent = covered(plan(resolveVad("silero"), noisy.samples, 4000), noisy.samples.length);
    const missed = noisy.speech.reduce((n, v, i) => n + (v === 1 && sent[i] === 0 ? 1 : 0), 0);
    expect(missed / SR, "speech seconds not sent").toBeLessThan(0.05);
  });

  it("keeps every sentence under a low rumble, and leaves out a 3 s pause there (at threshold 0.2 it held the pause open as speech)", () => {
    const sent = covered(plan(resolveVad("silero"), rumble.samples, 4000), rumble.samples.length);
    expect(missedSeconds(rumble, sent), "speech seconds not sent").toBeLessThan(0.05);
    const pause = rumble.pauses[1]!; // 3 s
    const inPause = sent.subarray(pause.start, pause.end).reduce((n, v) => n + v, 0) / SR;
    // 1.4 s is sent: the padding either side (0.25 s) and Silero's release after the last word; 3 s at the old defaults
    expect(inPause, "seconds of the 3 s pause sent").toBeLessThan(2);
  });

  it("plans the same chunks whatever the decoder's block sizes", () => {
    const spans = (block: number) => plan(resolveVad("silero"), audio.samples, block).map((c) => c.spans);
    expect(spans(1000)).toEqual(spans(16384));
  });
});

describe("Silero on long speech without a pause", () => {
  it("decides it as it comes (sherpa restarted every 20 s) and still covers every word, whatever the block sizes", () => {
    // about 40 s of fast espeak speech without a sentence break: one span for Silero
    const text = Array.from({ length: 10 }, () => "the quick brown fox jumps over the lazy dog and keeps running through the field").join(" and ");
    const wav = join(mkdtempSync(join(tmpdir(), "sf-vad-long-")), "long.wav");
    execFileSync("espeak-ng", ["-s", "200", "-w", wav, text]);
    const samples = pcm16k(wav);
    expect(samples.length / SR).toBeGreaterThan(30);
    const chunks = plan(resolveVad("silero"), samples, 4000);
    const sent = covered(chunks, samples.length);
    let first = 0;
    let last = samples.length - 1;
    while (Math.abs(samples[first]!) < 1e-3) first++;
    while (Math.abs(samples[last]!) < 1e-3) last--;
    expect(
      sent.subarray(first, last + 1).every((v) => v === 1),
      "every sample from the first word to the last is sent",
    ).toBe(true);
    expect(chunks.map((c) => c.spans)).toEqual(plan(resolveVad("silero"), samples, 333).map((c) => c.spans));
  });
});

describe("the energy VAD as the fallback", () => {
  const missing = () => probeSilero(() => join(mkdtempSync(join(tmpdir(), "sf-vad-")), "silero_vad.onnx"));

  it("runs when Silero's model is missing, with auto, and says why", () => {
    const choice = resolveVad("auto", missing);
    expect(choice.kind).toBe("energy");
    expect(choice.why).toMatch(/silero_vad\.onnx is missing: using the energy VAD/);
    const sent = covered(plan(choice, audio.samples, 4000), audio.samples.length);
    expect(audio.speech.every((v, i) => v === 0 || sent[i] === 1)).toBe(true);
  });

  it("is refused with --vad silero: an error names the missing model", () => {
    expect(() => resolveVad("silero", missing)).toThrow(/vad set to silero, but Silero's model .*silero_vad\.onnx is missing/);
  });
});
