import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { decodePcm, resolveFfmpeg, SAMPLE_RATE, truncationMessage } from "../../src/media/ffmpeg-gateway.js";
import { compose, ffmpeg, speak } from "../helpers/media.js";
import { ARTIFACTS, ROOT } from "../helpers/paths.js";

const dir = join(ARTIFACTS, "decode");
let speech: string;

async function decodeAll(file: string, ffmpegPath?: string) {
  const gen = decodePcm(ffmpegPath ?? (await resolveFfmpeg("", process.env)).path, file);
  let samples = 0;
  let energy = 0;
  let blocks = 0;
  for (;;) {
    const next = await gen.next();
    if (next.done) return { result: next.value, samples, rms: Math.sqrt(energy / Math.max(1, samples)), blocks };
    blocks++;
    samples += next.value.length;
    for (const v of next.value) energy += v * v;
  }
}

describe.sequential("ffmpeg gateway (real ffmpeg)", () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    speech = speak("Testing one two three. The decoder must stream sixteen kilohertz mono audio.", join(dir, "speech.wav"));
  });

  const cases: [string, string[]][] = [
    ["speech.mp3", ["-b:a", "64k"]],
    ["speech.m4a", ["-c:a", "aac", "-b:a", "64k"]],
    ["speech.opus", ["-c:a", "libopus", "-b:a", "32k"]],
    ["speech.flac", []],
    ["speech-8k.wav", ["-ar", "8000"]],
    ["speech-44k-stereo.wav", ["-ar", "44100", "-ac", "2"]],
  ];

  for (const [name, args] of cases) {
    it(`decodes ${name} to 16 kHz mono with the right length`, async () => {
      const file = join(dir, name);
      ffmpeg(["-i", speech, ...args, file]);
      const { result, samples, rms } = await decodeAll(file);
      const reference = (await decodeAll(speech)).samples;
      expect(result.samples).toBe(samples);
      // codecs add priming/padding of a few tens of ms at most
      expect(Math.abs(samples - reference) / SAMPLE_RATE).toBeLessThan(0.1);
      expect(rms).toBeGreaterThan(0.01);
    });
  }

  it("decodes the audio track of an mp4 video", async () => {
    const file = join(dir, "video.mp4");
    ffmpeg(["-f", "lavfi", "-i", "color=c=blue:s=160x120:r=10", "-i", speech, "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", file]);
    const { samples, rms } = await decodeAll(file);
    expect(samples / SAMPLE_RATE).toBeGreaterThan(3);
    expect(rms).toBeGreaterThan(0.01);
  });

  it("streams a long file in many blocks (never the whole file at once)", async () => {
    const file = compose([speech, 120, speech], join(dir, "long.flac"));
    const { samples, blocks } = await decodeAll(file);
    expect(samples / SAMPLE_RATE).toBeGreaterThan(125);
    expect(blocks).toBeGreaterThan(20);
  });

  it("does not let decoded blocks pile up in memory: 10 minutes through ffmpeg and through the WAV reader", async () => {
    const ffmpegPath = (await resolveFfmpeg("", process.env)).path;
    const wav = join(dir, "ten-minutes.wav");
    ffmpeg(["-f", "lavfi", "-i", "anoisesrc=d=600:c=pink:r=16000:a=0.1", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", wav]);
    const flac = join(dir, "ten-minutes.flac");
    ffmpeg(["-i", wav, "-c:a", "flac", flac]);
    // in a process of its own, so that only the decoder's buffers count; the consumer keeps nothing
    const script = `
      const { decodePcm } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist", "media", "ffmpeg-gateway.js")).href)});
      let most = 0, samples = 0;
      for await (const block of decodePcm(process.argv[1], process.argv[2])) {
        samples += block.length;
        most = Math.max(most, process.memoryUsage().arrayBuffers);
      }
      console.log(JSON.stringify({ most, seconds: samples / 16000 }));`;
    for (const file of [wav, flac]) {
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script, ffmpegPath, file], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const { most, seconds } = JSON.parse(run.stdout) as { most: number; seconds: number };
      expect(seconds).toBe(600);
      // measured: 5 MB (WAV) and 9 MB (FLAC); left to V8, 34 and 29 MB of finished blocks waited
      expect(most / 1e6, file).toBeLessThan(16);
    }
  });

  it("reads a 16 kHz mono 16-bit WAV itself (no ffmpeg process), with exactly the samples ffmpeg gives", async () => {
    const file = join(dir, "whisper-ready.wav");
    ffmpeg(["-i", speech, "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", file]);
    expect(readFileSync(file).includes("LIST"), "ffmpeg's WAV has a LIST chunk before the data").toBe(true);
    const gen = decodePcm("/no/such/ffmpeg", file);
    const blocks: Float32Array[] = [];
    let declared: number | undefined;
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        declared = next.value.declaredMs;
        break;
      }
      blocks.push(next.value);
    }
    const ours = Float32Array.from(blocks.flatMap((b) => [...b]));
    const out = execFileSync("ffmpeg", ["-nostdin", "-loglevel", "error", "-i", file, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]);
    const theirs = new Float32Array(out.buffer, out.byteOffset, out.length / 4);
    expect(ours.length).toBe(theirs.length);
    expect(Buffer.from(ours.buffer).equals(Buffer.from(theirs.buffer, theirs.byteOffset, theirs.byteLength))).toBe(true);
    expect(declared).toBe(Math.round((theirs.length / SAMPLE_RATE) * 1000));
  });

  it("leaves a WAV whose header claims more audio than the file holds (cut short, still being written) to ffmpeg", async () => {
    const whole = readFileSync(join(dir, "whisper-ready.wav"));
    const file = join(dir, "cut-short.wav");
    const half = Math.floor(whole.length / 2);
    writeFileSync(file, whole.subarray(0, half));
    await expect(decodeAll(file, "/no/such/ffmpeg"), "not read directly: ffmpeg is asked").rejects.toMatchObject({ code: "FFMPEG_FAILED" });
    const { samples } = await decodeAll(file);
    // ffmpeg decodes what the file holds
    expect(Math.abs(samples - (half - 78) / 2)).toBeLessThan(100);
  });

  it("an abort ends ffmpeg even when its consumer stopped reading and left it blocked on a full pipe", async () => {
    const file = compose([speech, 120, speech], join(dir, "abandoned.flac"));
    const running = () =>
      readdirSync("/proc")
        .filter((pid) => /^\d+$/.test(pid))
        .some((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`file:${file}`);
          } catch {
            return false;
          }
        });
    const controller = new AbortController();
    const gen = decodePcm((await resolveFfmpeg("", process.env)).path, file, { signal: controller.signal });
    await gen.next(); // one block, then nobody reads: ffmpeg fills the pipe and blocks writing
    await new Promise((r) => setTimeout(r, 500));
    expect(running(), "ffmpeg runs, blocked on the pipe").toBe(true);
    controller.abort();
    const deadline = Date.now() + 5000;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running(), "ffmpeg still running 5 s after the abort").toBe(false);
  });

  it("reports a text file named .wav as unreadable, naming ffmpeg's reason", async () => {
    const file = join(dir, "fake.wav");
    writeFileSync(file, "this is not audio\n");
    await expect(decodeAll(file)).rejects.toMatchObject({ code: "MEDIA_UNREADABLE", retryable: false, message: expect.stringContaining("Invalid data") });
  });

  it("reports a video without an audio track", async () => {
    const file = join(dir, "silent-video.mp4");
    ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64:r=5", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", file]);
    await expect(decodeAll(file)).rejects.toMatchObject({ code: "MEDIA_NO_AUDIO" });
  });

  it("detects truncation from the declared duration", () => {
    expect(truncationMessage(300, 5000)).toMatch(/decoded 0\.3 s of the 5\.0 s/);
    expect(truncationMessage(4990, 5000)).toBeUndefined();
    expect(truncationMessage(1000, undefined)).toBeUndefined();
  });

  it("explains how to install ffmpeg when none is found", async () => {
    await expect(resolveFfmpeg("", { PATH: "/nonexistent" })).rejects.toThrow(/apt-get install ffmpeg/);
    await expect(resolveFfmpeg("/no/such/ffmpeg", process.env)).rejects.toThrow(/ffmpeg not found at \/no\/such\/ffmpeg/);
  });
});
