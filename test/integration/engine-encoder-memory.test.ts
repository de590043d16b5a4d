import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, ROOT } from "../helpers/paths.js";
import { writeTestModel } from "../support/write-test-model.js";

// Every whisper_state holds the encoder's compute buffer, and a worker holds one state per
// concurrent chunk. whisper.cpp builds the self-attention scores of all heads at once
// (n_head x 1500 x 1500 floats); scripts/whisper-cpp-patches.mjs has the encoder compute one head
// at a time. A model with 8 heads makes the difference plain: all heads' scores take 72 MB, one
// head's 9 MB. whisper.cpp logs each buffer's size when it creates a state.
const MODEL = join(ARTIFACTS, "models", "ggml-micro-8-heads.bin");
const N_HEAD = 8;
const N_AUDIO_CTX = 1500;

beforeAll(() => {
  mkdirSync(join(ARTIFACTS, "models"), { recursive: true });
  writeTestModel(MODEL, { nState: 64, nHead: N_HEAD, nAudioLayer: 1, nTextLayer: 1, decoder: "fixed" });
});

/** loads the model in the real addon, transcribes one 30 s window, and returns whisper.cpp's log */
function whisperLog(): string {
  const script = `
    const { Whisper } = require("smart-whisper");
    (async () => {
      const whisper = new Whisper(process.argv[1], { gpu: false, offload: 60 });
      const pcm = Float32Array.from({ length: 30 * 16000 }, (_, i) => 0.1 * Math.sin(i / 7));
      const task = await whisper.transcribe(pcm, { language: "en", n_threads: 1, no_context: true, temperature: 0, temperature_inc: 0 });
      await task.result;
      await whisper.free();
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const result = spawnSync(process.execPath, ["-e", script, MODEL], { cwd: ROOT, encoding: "utf8" });
  expect(result.status, result.stderr.slice(-2000)).toBe(0);
  return result.stderr;
}

describe("the encoder's attention scores (real whisper.cpp addon)", () => {
  it("a state's encode buffer holds one head's scores, not all heads'", () => {
    const log = whisperLog();
    const match = /compute buffer \(encode\) =\s*([\d.]+) MB/.exec(log);
    expect(match, log.slice(-2000)).not.toBeNull();
    const encodeMb = Number(match![1]);
    const oneHeadMb = (N_AUDIO_CTX * N_AUDIO_CTX * 4) / 1e6;
    // the unpatched graph needs at least all heads' scores (72 MB) in this buffer
    expect(encodeMb).toBeLessThan(N_HEAD * oneHeadMb);
    expect(encodeMb).toBeGreaterThanOrEqual(oneHeadMb);
  });
});
