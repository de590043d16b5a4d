import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type DiarizeProgress, diarizeWithModels, ModelDiarizer, type SpeakerTurn } from "../../src/diarization/model-diarizer.js";
import { ARTIFACTS } from "../helpers/paths.js";
import { twoVoices } from "../helpers/two-voices.js";
import { writeCrashingSegmentationModel, writeEmbeddingModel, writeSegmentationModel } from "../support/write-diarization-models.js";

/**
 * The real sherpa-onnx pipeline (segmentation, embeddings, clustering) on two espeak-ng voices,
 * with the tiny generated models of test/support/write-diarization-models.ts standing in for
 * pyannote and WeSpeaker. The truth is exact: each clip is trimmed to its first and last sample
 * at -40 dBFS and placed at a known time, with a pause between turns.
 */
const DIR = join(ARTIFACTS, "diarization");
const RATE = 16_000;
/** turn boundaries must be this close to the truth (the generated model's frame hop is 10 ms) */
const TOLERANCE_S = 0.02;

/** the largest distance of a turn boundary from the truth, in seconds, and every distance (ms) for the failure message */
function boundaryErrors(turns: SpeakerTurn[], truth: SpeakerTurn[]): { max: number; detail: string } {
  const errors = truth.flatMap((t, i) => [turns[i]!.start - t.start, turns[i]!.end - t.end]);
  return { max: Math.max(...errors.map(Math.abs)), detail: errors.map((e) => `${Math.round(e * 1000)}`).join(" ") };
}

let segmentation: string;
let embedding: string;
let audio: Float32Array;
let truth: SpeakerTurn[];

beforeAll(() => {
  const started = performance.now();
  segmentation = writeSegmentationModel(join(DIR, "segmentation.onnx"));
  embedding = writeEmbeddingModel(join(DIR, "embedding.onnx"));
  expect(performance.now() - started).toBeLessThan(1000);
  ({ audio, truth } = twoVoices(DIR));
});

describe("ModelDiarizer: sherpa-onnx diarization with generated models", () => {
  it("finds the two voices and puts every turn boundary within 20 ms of the truth", async () => {
    const progress: DiarizeProgress[] = [];
    const turns = await diarizeWithModels(audio, { segmentationModel: segmentation, embeddingModel: embedding }, (p) => progress.push(p));

    expect(turns.map((t) => t.speaker)).toEqual(truth.map((t) => t.speaker));
    const errors = boundaryErrors(turns, truth);
    expect(errors.max, `boundary errors (ms, start/end per turn): ${errors.detail}`).toBeLessThanOrEqual(TOLERANCE_S);
    // sherpa reports one step per (chunk, local speaker) embedding, after segmentation
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
  });

  it("numSpeakers fixes the count: 2 finds both voices, 1 merges them", async () => {
    const options = { segmentationModel: segmentation, embeddingModel: embedding };
    const two = await diarizeWithModels(audio, { ...options, numSpeakers: 2 });
    expect(two.map((t) => t.speaker)).toEqual(truth.map((t) => t.speaker));
    expect(boundaryErrors(two, truth).max).toBeLessThanOrEqual(TOLERANCE_S);
    const one = await diarizeWithModels(audio, { ...options, numSpeakers: 1 });
    expect(new Set(one.map((t) => t.speaker))).toEqual(new Set([0]));
  });

  it("clusterThreshold decides when there is no count: the voices are ~1 apart in cosine distance", async () => {
    const options = { segmentationModel: segmentation, embeddingModel: embedding };
    const apart = await diarizeWithModels(audio, { ...options, clusterThreshold: 0.5 });
    expect(apart.map((t) => t.speaker)).toEqual(truth.map((t) => t.speaker));
    const merged = await diarizeWithModels(audio, { ...options, clusterThreshold: 1.5 });
    expect(new Set(merged.map((t) => t.speaker))).toEqual(new Set([0]));
  });

  it("minDurationOn and minDurationOff reach sherpa, 0 included (its C API reads 0 as 'use the default')", async () => {
    const options = { segmentationModel: segmentation, embeddingModel: embedding };
    // no gap closing: the pauses between words split the turns, and every piece keeps its voice
    const pieces = await diarizeWithModels(audio, { ...options, minDurationOn: 0, minDurationOff: 0 });
    expect(pieces.length).toBeGreaterThan(truth.length);
    for (const piece of pieces) {
      const turn = truth.find((t) => piece.start >= t.start - TOLERANCE_S && piece.end <= t.end + TOLERANCE_S);
      expect(turn?.speaker, `${piece.start}-${piece.end}`).toBe(piece.speaker);
    }
    // only the one turn longer than 2.05 s is kept
    const long = await diarizeWithModels(audio, { ...options, minDurationOn: 2.05 });
    expect(long).toHaveLength(1);
    expect(long[0]!.start).toBeCloseTo(truth[1]!.start, 1);
  });

  it("one worker serves several diarizations, including audio shorter than one 10 s window", async () => {
    const diarizer = await ModelDiarizer.open({ segmentationModel: segmentation, embeddingModel: embedding, threads: 2 });
    try {
      // the first two turns: sherpa runs a single chunk and skips clustering
      const cut = Math.round(((truth[1]!.end + truth[2]!.start) / 2) * RATE);
      const short = await diarizer.diarize(audio.subarray(0, cut));
      expect(short.map((t) => t.speaker)).toEqual([0, 1]);
      expect(boundaryErrors(short, truth.slice(0, 2)).max).toBeLessThanOrEqual(TOLERANCE_S);
      const full = await diarizer.diarize(audio);
      expect(full.map((t) => t.speaker)).toEqual(truth.map((t) => t.speaker));
      expect(await diarizer.diarize(new Float32Array(RATE))).toEqual([]);
    } finally {
      await diarizer.close();
    }
  });

  it("rejects a corrupt file and models without sherpa's metadata with MODEL_INVALID, before loading them", async () => {
    const good = { segmentationModel: segmentation, embeddingModel: embedding };
    const truncated = join(DIR, "truncated.onnx");
    writeFileSync(truncated, readFileSync(segmentation).subarray(0, 3000));
    const garbage = join(DIR, "garbage.onnx");
    writeFileSync(garbage, "this is not a model\n".repeat(20));
    const noShift = writeSegmentationModel(join(DIR, "no-shift.onnx"), { omitMetadata: ["receptive_field_shift"] });
    const noFramework = writeEmbeddingModel(join(DIR, "no-framework.onnx"), { omitMetadata: ["framework"] });

    await expect(diarizeWithModels(audio, { ...good, segmentationModel: truncated })).rejects.toMatchObject({
      code: "MODEL_INVALID",
      message: expect.stringMatching(/truncated\.onnx: not an ONNX model \(.*past the end of the file/),
    });
    await expect(diarizeWithModels(audio, { ...good, segmentationModel: garbage })).rejects.toMatchObject({
      code: "MODEL_INVALID",
      message: expect.stringContaining("garbage.onnx: not an ONNX model"),
    });
    await expect(diarizeWithModels(audio, { ...good, segmentationModel: noShift })).rejects.toMatchObject({
      code: "MODEL_INVALID",
      message: `${noShift}: not a pyannote segmentation model (missing metadata key receptive_field_shift)`,
    });
    await expect(diarizeWithModels(audio, { ...good, embeddingModel: noFramework })).rejects.toMatchObject({
      code: "MODEL_INVALID",
      message: `${noFramework}: not a speaker-embedding model (missing metadata key framework)`,
    });
    // the segmentation model where the embedding model belongs
    await expect(diarizeWithModels(audio, { ...good, embeddingModel: segmentation })).rejects.toMatchObject({ code: "MODEL_INVALID" });
    await expect(diarizeWithModels(audio, { ...good, segmentationModel: join(DIR, "missing.onnx") })).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    await expect(diarizeWithModels(audio, { ...good, numSpeakers: 1.5 })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("a model that kills the worker gives a typed error and the parent carries on", async () => {
    const good = { segmentationModel: segmentation, embeddingModel: embedding };
    const atLoad = writeCrashingSegmentationModel(join(DIR, "crash-at-load.onnx"), "load");
    const atRun = writeCrashingSegmentationModel(join(DIR, "crash-at-run.onnx"), "run");

    await expect(ModelDiarizer.open({ ...good, segmentationModel: atLoad })).rejects.toMatchObject({
      code: "MODEL_INVALID",
      message: expect.stringContaining("SpeechflowNoSuchOperator"),
    });
    const diarizer = await ModelDiarizer.open({ ...good, segmentationModel: atRun });
    try {
      await expect(diarizer.diarize(audio)).rejects.toMatchObject({
        code: "WORKER_CRASHED",
        message: expect.stringContaining("cannot be reshaped"),
      });
      // the next call starts a new worker (which fails the same way with this model)
      await expect(diarizer.diarize(audio)).rejects.toMatchObject({ code: "WORKER_CRASHED" });
    } finally {
      await diarizer.close();
    }
    const turns = await diarizeWithModels(audio, good);
    expect(turns.map((t) => t.speaker)).toEqual(truth.map((t) => t.speaker));
  });
});
