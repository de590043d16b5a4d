import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { meeting } from "../helpers/corpus.js";
import { compose, ffmpegPcmWav, noiseFloor, pcm16k } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";

const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--formats", "json", "--json"];

let work: string;
let recording: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-vad-"));
  // a meeting (sentences, pauses of 0.4-3 s, a 15 s silence between two parts) under a hiss at
  // -30 dBFS, as a noisy room has
  const parts = [meeting(join(work, "part1.wav"), 1, 3), 15, meeting(join(work, "part2.wav"), 1, 5)];
  const clean = pcm16k(compose(parts, join(work, "clean.wav")));
  const noise = noiseFloor(clean.length / 16000 + 1, -30, "white");
  const mixed = clean.map((x, i) => x + noise[i]!);
  recording = ffmpegPcmWav(join(work, "rec", "meeting.wav"), mixed);
});

async function transcribe(out: string, extra: string[]) {
  const result = await runCli(["transcribe", recording, "-o", join(work, out), ...base, ...extra], { cwd: work, env: minimalEnv(work) });
  expect(result.code, result.stderr).toBe(0);
  const events = parseEvents(result.stdout);
  const sentMs = events.filter((e) => e.type === "chunk-done").reduce((n, e) => n + (e.audioMs as number), 0);
  const json = JSON.parse(readFileSync(join(work, out, "meeting.json"), "utf8")) as { durationMs: number; settings: { vad: string } };
  return { sentMs, json, events };
}

describe("--vad", () => {
  it("by default (Silero) sends the engine less of a noisy meeting than --vad energy, and says which VAD ran", async () => {
    const silero = await transcribe("out-default", []);
    const energy = await transcribe("out-energy", ["--vad", "energy"]);
    expect(silero.json.settings.vad).toBe("silero");
    expect(energy.json.settings.vad).toBe("energy");
    // the energy VAD hears the noise floor as speech and sends nearly all of it
    expect(energy.sentMs).toBeGreaterThan(0.9 * energy.json.durationMs);
    // Silero leaves out the 15 s silence and the longer pauses
    expect(silero.sentMs).toBeLessThan(energy.sentMs - 15000);
    expect(silero.events.some((e) => e.type === "warning")).toBe(false);
  });

  it("doctor says which VAD runs and why", async () => {
    const check = async (extra: string[]) => {
      const result = await runCli(["doctor", "--json", ...extra], { cwd: work, env: minimalEnv(work) });
      const report = JSON.parse(result.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
      return report.checks.find((c) => c.name === "VAD");
    };
    expect(await check([])).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^Silero \(.*silero_vad\.onnx, threshold 0\.3, 64 ms windows\): vad auto, and Silero's model loads$/),
    });
    expect(await check(["--vad", "energy"])).toMatchObject({ ok: true, detail: "energy: vad set to energy" });
  });
});
