import { describe, expect, it } from "vitest";
import { ChunkPlanner, chunkTimeToFileMs, type PlannedChunk } from "../../src/chunking/chunk-planner.js";
import type { SpeechClassifier } from "../../src/chunking/speech-classifier.js";

const SR = 16000;
const OPTIONS = { maxChunkSeconds: 29, skipSilenceSeconds: 1.5, silenceThresholdDb: -50 };

/** Builds PCM from [kind, seconds] parts; "speech" is a 220 Hz tone at -12 dBFS with a little noise. */
function pcm(parts: ["speech" | "silence" | "dip", number][]): { samples: Float32Array; speech: boolean[]; loud: boolean[] } {
  const total = parts.reduce((n, [, s]) => n + Math.round(s * SR), 0);
  const samples = new Float32Array(total);
  const speech: boolean[] = new Array(total).fill(false);
  const loud: boolean[] = new Array(total).fill(false);
  let at = 0;
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 0.0002;
  };
  for (const [kind, seconds] of parts) {
    const n = Math.round(seconds * SR);
    for (let i = 0; i < n; i++) {
      const amp = kind === "speech" ? 0.35 : kind === "dip" ? 0.02 : 0;
      samples[at + i] = amp * Math.sin((2 * Math.PI * 220 * (at + i)) / SR) + noise();
      speech[at + i] = kind !== "silence";
      loud[at + i] = kind === "speech";
    }
    at += n;
  }
  return { samples, speech, loud };
}

function plan(samples: Float32Array, block = 4096, options: ConstructorParameters<typeof ChunkPlanner>[0] = OPTIONS): PlannedChunk[] {
  const planner = new ChunkPlanner(options);
  const chunks: PlannedChunk[] = [];
  for (let i = 0; i < samples.length; i += block) chunks.push(...planner.push(samples.subarray(i, i + block)));
  chunks.push(...planner.finish());
  return chunks;
}

function coverage(chunks: PlannedChunk[], length: number): Uint8Array {
  const covered = new Uint8Array(length);
  for (const chunk of chunks) for (const span of chunk.spans) for (let i = span.start; i < span.end; i++) covered[i]!++;
  return covered;
}

/** Samples covered twice, or speech samples not covered: the first few, as seconds. */
function coverageErrors(chunks: PlannedChunk[], speech: boolean[]): string[] {
  const covered = coverage(chunks, speech.length);
  const errors: string[] = [];
  for (let i = 0; i < speech.length && errors.length < 5; i++) {
    if (covered[i]! > 1) errors.push(`${(i / SR).toFixed(3)}s covered ${covered[i]} times`);
    else if (speech[i] && covered[i] !== 1) errors.push(`speech at ${(i / SR).toFixed(3)}s not covered`);
  }
  return errors;
}

describe("ChunkPlanner", () => {
  it("covers every speech sample exactly once and keeps chunks within the limit", () => {
    const { samples, speech } = pcm([
      ["silence", 1],
      ["speech", 4],
      ["silence", 0.5],
      ["speech", 6],
      ["silence", 3],
      ["speech", 12],
      ["silence", 2],
      ["speech", 9],
      ["silence", 0.8],
      ["speech", 7],
      ["silence", 1],
    ]);
    const chunks = plan(samples);
    expect(coverageErrors(chunks, speech)).toEqual([]);
    for (const chunk of chunks) {
      const len = chunk.spans.reduce((n, s) => n + s.end - s.start, 0);
      expect(len).toBeLessThanOrEqual(29 * SR);
      expect(chunk.pcm.length).toBe(len);
    }
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  });

  it("cuts between chunks only inside silence", () => {
    const { samples, speech } = pcm([
      ["speech", 10],
      ["silence", 2],
      ["speech", 10],
      ["silence", 2],
      ["speech", 10],
      ["silence", 2],
      ["speech", 10],
    ]);
    const chunks = plan(samples);
    expect(chunks.length).toBeGreaterThan(1);
    for (let c = 1; c < chunks.length; c++) {
      const boundary = chunks[c]!.spans[0]!.start;
      expect(speech[boundary - 1], `cut at ${boundary / SR}s is inside speech`).toBe(false);
    }
  });

  it("leaves long silences out and packs the speech around them into one chunk", () => {
    const { samples } = pcm([
      ["speech", 3],
      ["silence", 60],
      ["speech", 3],
    ]);
    const chunks = plan(samples);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.spans).toHaveLength(2);
    const covered = coverage(chunks, samples.length);
    const silentMiddle = covered.subarray(Math.round(5 * SR), Math.round(61 * SR));
    expect(silentMiddle.every((v) => v === 0)).toBe(true);
  });

  it("cuts continuous speech at its quietest point before the limit", () => {
    const { samples, speech } = pcm([
      ["speech", 25],
      ["dip", 0.3],
      ["speech", 20],
      ["dip", 0.3],
      ["speech", 20],
    ]);
    const chunks = plan(samples);
    expect(chunks.length).toBe(3);
    const firstEnd = chunks[0]!.spans.at(-1)!.end / SR;
    expect(firstEnd).toBeGreaterThanOrEqual(25);
    expect(firstEnd).toBeLessThanOrEqual(25.3);
    expect(coverageErrors(chunks, speech)).toEqual([]);
  });

  it("fills a chunk to the limit by cutting the next stretch of speech at a pause inside it", () => {
    // 20 s of speech, a long silence, then 20 s of speech with short pauses every 4 s
    const parts: ["speech" | "silence" | "dip", number][] = [
      ["speech", 20],
      ["silence", 5],
    ];
    for (let i = 0; i < 5; i++) parts.push(["speech", 3.7], ["silence", 0.3]);
    const { samples, speech } = pcm(parts);
    const chunks = plan(samples);
    const lengths = chunks.map((c) => c.spans.reduce((n, s) => n + s.end - s.start, 0) / SR);
    expect(chunks).toHaveLength(2);
    expect(lengths[0]).toBeGreaterThan(27); // 20 s + two or more 4 s sentences, not just 20 s
    expect(lengths[0]).toBeLessThanOrEqual(29);
    const cut = chunks[1]!.spans[0]!.start;
    expect(speech.slice(cut - 160, cut).every((v) => v)).toBe(false); // the cut lies in a pause
    expect(coverageErrors(chunks, speech)).toEqual([]);
  });

  it("plans nothing for pure silence", () => {
    expect(plan(pcm([["silence", 120]]).samples)).toEqual([]);
  });

  it("gives the same plan whatever the block sizes of the stream", () => {
    const { samples } = pcm([
      ["speech", 7],
      ["silence", 2],
      ["speech", 31],
      ["silence", 0.4],
      ["speech", 5],
    ]);
    const strip = (chunks: PlannedChunk[]) => chunks.map((c) => ({ index: c.index, spans: c.spans }));
    const reference = strip(plan(samples, 4096));
    expect(strip(plan(samples, 1))).toEqual(reference);
    expect(strip(plan(samples, 333))).toEqual(reference);
    expect(strip(plan(samples, samples.length))).toEqual(reference);
  });
});

/**
 * A classifier that knows the truth (speech per sample) and answers `lag` frames late, as Silero
 * does: it decides a stretch once it has heard what follows.
 */
class KnownSpeech implements SpeechClassifier {
  readonly padSeconds = 0.1;
  private given = 0;
  private decided = 0;
  constructor(
    private readonly speech: boolean[],
    private readonly lag: number,
  ) {}
  push(_samples: Float32Array, frameDb: readonly number[]): boolean[] {
    this.given += frameDb.length;
    return this.upTo(this.given - this.lag);
  }
  finish(frameDb: readonly number[]): boolean[] {
    this.given += frameDb.length;
    return this.upTo(this.given);
  }
  private upTo(frames: number): boolean[] {
    const out: boolean[] = [];
    for (; this.decided < frames; this.decided++) out.push(this.speech.slice(this.decided * 480, (this.decided + 1) * 480).some(Boolean));
    return out;
  }
}

describe("ChunkPlanner with a VAD that decides late", () => {
  // dense reading: 2-4 s phrases separated by 0.2 s pauses, no silence long enough to skip; every
  // third pause is silent, the others have some sound in them (breath, room): the VAD hears all as pauses
  const parts: ["speech" | "silence" | "dip", number][] = [];
  for (let i = 0; i < 40; i++) parts.push(["speech", 2 + ((i * 7) % 5) * 0.5], [i % 3 === 0 ? "silence" : "dip", 0.2]);
  const { samples, loud: speech } = pcm(parts);
  const options = (lag: number) => ({ ...OPTIONS, maxChunkSeconds: 30, classifier: new KnownSpeech(speech, lag) });
  const seconds = (c: PlannedChunk) => c.spans.reduce((n, s) => n + s.end - s.start, 0) / SR;

  it("packs the same chunks whether the VAD answers at once or 200 frames late", () => {
    const strip = (chunks: PlannedChunk[]) => chunks.map((c) => c.spans);
    expect(strip(plan(samples, 4096, options(200)))).toEqual(strip(plan(samples, 4096, options(0))));
    expect(strip(plan(samples, 777, options(37)))).toEqual(strip(plan(samples, 4096, options(0))));
  });

  it("fills each window of dense speech to within one phrase of the limit: cuts at the latest pause, not the quietest", () => {
    const chunks = plan(samples, 4096, options(50));
    expect(coverageErrors(chunks, speech)).toEqual([]);
    for (const chunk of chunks.slice(0, -1)) {
      expect(seconds(chunk)).toBeLessThanOrEqual(30);
      expect(seconds(chunk)).toBeGreaterThan(30 - 4.5);
    }
    for (const chunk of chunks.slice(1)) expect(speech[chunk.spans[0]!.start - 1], `cut at ${chunk.spans[0]!.start / SR}s`).toBe(false);
  });
});

describe("chunkTimeToFileMs", () => {
  const spans = [
    { start: 16000, end: 48000 }, // 1 s .. 3 s of the file = 0 .. 2 s of the chunk
    { start: 160000, end: 176000 }, // 10 s .. 11 s of the file = 2 .. 3 s of the chunk
  ];
  it("maps chunk time back to the file's time through each span", () => {
    expect(chunkTimeToFileMs(spans, 0, SR)).toBe(1000);
    expect(chunkTimeToFileMs(spans, 1500, SR)).toBe(2500);
    expect(chunkTimeToFileMs(spans, 2000, SR)).toBe(10000);
    expect(chunkTimeToFileMs(spans, 2000, SR, true)).toBe(3000);
    expect(chunkTimeToFileMs(spans, 2750, SR)).toBe(10750);
  });
  it("clamps times past the chunk's audio to its end", () => {
    expect(chunkTimeToFileMs(spans, 30000, SR, true)).toBe(11000);
  });
});
