import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, ROOT } from "../helpers/paths.js";
import { type TestModelSpec, writeTestModel } from "../support/write-test-model.js";

// Every whisper_state holds the encoder's compute buffer, and a worker holds one state per
// concurrent chunk. whisper.cpp builds the self-attention scores of all heads at once
// (n_head x 1500 x 1500 floats, 9 MB a head); scripts/whisper-cpp-patches.mjs has the encoder
// compute a few heads at a time, in few enough groups that the graph still fits whisper.cpp's
// fixed node limit with large-v3's 32 layers of 20 heads. It also computes Q, K, V and the
// attention's output as graph nodes: whisper.cpp copied them into new tensors, which ggml's
// allocator places before the graph runs, every layer's at once. whisper.cpp logs each buffer's
// size when it creates a state.
const ONE_HEAD_MB = (1500 * 1500 * 4) / 1e6;
const models = {
  /** 8 heads: all heads' scores take 72 MB, one head's 9 MB */
  eightHeads: { path: join(ARTIFACTS, "models", "ggml-micro-8-heads.bin"), spec: { nState: 64, nHead: 8, nAudioLayer: 1, nTextLayer: 1, decoder: "fixed" } },
  /** the same width and heads as eightHeads, in 2 and 16 layers */
  twoLayers: { path: join(ARTIFACTS, "models", "ggml-micro-2-layers.bin"), spec: { nState: 64, nHead: 8, nAudioLayer: 2, nTextLayer: 1, decoder: "fixed" } },
  sixteenLayers: {
    path: join(ARTIFACTS, "models", "ggml-micro-16-layers.bin"),
    spec: { nState: 64, nHead: 8, nAudioLayer: 16, nTextLayer: 1, decoder: "fixed" },
  },
  /** large-v3's layers and heads (narrow, so the file stays small) */
  largeShape: { path: join(ARTIFACTS, "models", "ggml-large-shape.bin"), spec: { nState: 160, nHead: 20, nAudioLayer: 32, nTextLayer: 1, decoder: "fixed" } },
} satisfies Record<string, { path: string; spec: TestModelSpec }>;

beforeAll(() => {
  mkdirSync(join(ARTIFACTS, "models"), { recursive: true });
  for (const m of Object.values(models)) writeTestModel(m.path, m.spec);
});

/**
 * Loads a model in the real addon, transcribes one 30 s window and returns whisper.cpp's log. The
 * state's buffers are sized for full 1500-frame windows whatever audio_ctx says; a small audio_ctx
 * only keeps the 32-layer encoder quick.
 */
function whisperLog(model: string, audioCtx: number): string {
  const script = `
    const { Whisper } = require("smart-whisper");
    (async () => {
      const whisper = new Whisper(process.argv[1], { gpu: false, offload: 60 });
      const pcm = Float32Array.from({ length: 30 * 16000 }, (_, i) => 0.1 * Math.sin(i / 7));
      const params = { language: "en", n_threads: 1, no_context: true, temperature: 0, temperature_inc: 0, audio_ctx: Number(process.argv[2]) };
      const task = await whisper.transcribe(pcm, params);
      await task.result;
      await whisper.free();
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const result = spawnSync(process.execPath, ["-e", script, model, String(audioCtx)], { cwd: ROOT, encoding: "utf8" });
  // a graph over whisper.cpp's node limit aborts the process (SIGABRT) when the state is created
  expect({ status: result.status, signal: result.signal }, result.stderr.slice(-2000)).toEqual({ status: 0, signal: null });
  return result.stderr;
}

function encodeBufferMb(log: string): number {
  const match = /compute buffer \(encode\) =\s*([\d.]+) MB/.exec(log);
  expect(match, log.slice(-2000)).not.toBeNull();
  return Number(match![1]);
}

describe("the encoder's attention scores (real whisper.cpp addon)", () => {
  it("a state's encode buffer holds one head's scores, not all heads' (8 heads)", () => {
    const encodeMb = encodeBufferMb(whisperLog(models.eightHeads.path, 1500));
    // the unpatched graph needs at least all heads' scores (72 MB) in this buffer (it reports 75.1 MB)
    expect(encodeMb).toBeLessThan(8 * ONE_HEAD_MB);
    expect(encodeMb).toBeGreaterThanOrEqual(ONE_HEAD_MB);
  });

  it("a state's encode buffer does not grow with the number of layers (2 against 16)", () => {
    const two = encodeBufferMb(whisperLog(models.twoLayers.path, 1500));
    const sixteen = encodeBufferMb(whisperLog(models.sixteenLayers.path, 1500));
    // the copies of one layer: Q and the output in f32, K and V in f16, 1500 frames x 64 wide;
    // with them placed up front the 16-layer buffer was 14 layers' copies (16 MB) larger
    const oneLayerCopiesMb = (1500 * 64 * (4 + 2 + 2 + 4)) / 1e6;
    expect(Math.abs(sixteen - two)).toBeLessThan(oneLayerCopiesMb);
  });

  it("a model of large-v3's shape (32 layers x 20 heads) runs, with less than all heads' scores in its buffer", () => {
    const encodeMb = encodeBufferMb(whisperLog(models.largeShape.path, 64));
    // unpatched: 274.7 MB (180 MB of scores); one head per group would overflow the graph and abort.
    // Patched: 4 heads' scores (36 MB) and some 6 MB of activations
    expect(encodeMb).toBeLessThan(20 * ONE_HEAD_MB);
  });
});
