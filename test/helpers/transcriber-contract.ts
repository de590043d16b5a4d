import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChunkTranscriber } from "../../src/engine/chunk-transcriber.js";
import type { DecodingParams } from "../../src/engine/worker-protocol.js";
import { speak } from "./media.js";
import { ARTIFACTS } from "./paths.js";

const params: DecodingParams = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };

/**
 * What every ChunkTranscriber must do, whatever runs the chunks (local workers, a queue, an HTTP
 * API): each implementation's test file calls this with a factory for its backend.
 * `crashOnLabel`: a factory whose backend fails every chunk whose label contains the given text.
 */
export function describeTranscriberContract(
  name: string,
  factory: { healthy: () => ChunkTranscriber; crashOnLabel: (mark: string) => ChunkTranscriber },
): void {
  describe(`ChunkTranscriber contract: ${name}`, () => {
    let pcm: Float32Array;
    let engine: ChunkTranscriber | undefined;

    beforeAll(() => {
      const wav = speak("Every engine returns segments in chunk time.", join(ARTIFACTS, "contract", "speech.wav"));
      const raw = execFileSync("ffmpeg", ["-v", "error", "-i", wav, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
      pcm = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
    });

    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it("declares its capacity, starts, and transcribes chunks into segments inside the chunk, saying who did it", async () => {
      engine = factory.healthy();
      const caps = engine.capabilities;
      expect(caps.slots).toBeGreaterThanOrEqual(caps.workers);
      expect(caps.workers).toBeGreaterThan(0);
      expect((await engine.start()).loadMs).toBeGreaterThanOrEqual(0);
      const audioMs = (pcm.length / 16000) * 1000;
      const results = await Promise.all([0, 1, 2].map((i) => engine!.transcribe({ label: `contract.wav#${i}`, pcm, params })));
      for (const r of results) {
        expect(r.backend).toBe(caps.backend);
        expect(r.worker).not.toBe("");
        expect(r.segments.length).toBeGreaterThan(0);
        for (const s of r.segments) {
          expect(s.from).toBeGreaterThanOrEqual(0);
          expect(s.to).toBeLessThanOrEqual(Math.max(audioMs, 30000));
        }
      }
      await engine.waitForCapacity();
    });

    it("a chunk it cannot do rejects with a typed error; the engine keeps working for the next chunk", async () => {
      engine = factory.crashOnLabel("poison");
      await engine.start();
      await expect(engine.transcribe({ label: "poison.wav#0", pcm, params })).rejects.toMatchObject({ name: "SpeechflowError", retryable: true });
      await expect(engine.transcribe({ label: "fine.wav#0", pcm, params })).resolves.toMatchObject({ segments: expect.any(Array) });
    });

    it("an aborted signal stops a queued chunk without running it", async () => {
      engine = factory.healthy();
      await engine.start();
      const controller = new AbortController();
      controller.abort();
      await expect(engine.transcribe({ label: "late.wav#0", pcm, params }, controller.signal)).rejects.toBeDefined();
    });
  });
}
