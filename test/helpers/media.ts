import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** Real speech from espeak-ng, written as a 22.05 kHz mono wav; `pitch` is espeak's -p (0-99, default 50). */
export function speak(text: string, out: string, voice = "en", pitch?: number): string {
  mkdirSync(dirname(out), { recursive: true });
  execFileSync("espeak-ng", ["-v", voice, ...(pitch === undefined ? [] : ["-p", String(pitch)]), "-w", out, text]);
  return out;
}

/** Runs ffmpeg with an argument array (quiet, overwrite). */
export function ffmpeg(args: string[]): void {
  execFileSync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", ...args]);
}

/**
 * Concatenates speech and silences: parts are wav paths or numbers (seconds of digital silence).
 * Output format follows the extension of `out`.
 */
export function compose(parts: (string | number)[], out: string, extra: string[] = []): string {
  mkdirSync(dirname(out), { recursive: true });
  const inputs: string[] = [];
  parts.forEach((p) => {
    if (typeof p === "number") inputs.push("-f", "lavfi", "-t", String(p), "-i", "anullsrc=r=22050:cl=mono");
    else inputs.push("-i", p);
  });
  const streams = parts.map((_, i) => `[${i}:a]aformat=sample_rates=22050:channel_layouts=mono[a${i}]`).join(";");
  const concat = parts.map((_, i) => `[a${i}]`).join("") + `concat=n=${parts.length}:v=0:a=1[out]`;
  ffmpeg([...inputs, "-filter_complex", `${streams};${concat}`, "-map", "[out]", ...extra, out]);
  return out;
}

/** The file decoded by ffmpeg to 16 kHz mono float samples, as the pipeline decodes it. */
export function pcm16k(file: string): Float32Array {
  const raw = execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-i", file, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"], {
    maxBuffer: 1 << 30,
  });
  // a copy: a Buffer's offset into its pool need not be a multiple of 4
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
}

/** Duration in seconds as ffprobe-free ffmpeg decoding measures it (16 kHz mono samples / 16000). */
export function decodedSeconds(file: string): number {
  return pcm16k(file).length / 16000;
}

/** 16 kHz mono float samples written as a wav file (through ffmpeg). */
export function ffmpegPcmWav(out: string, samples: Float32Array): string {
  mkdirSync(dirname(out), { recursive: true });
  execFileSync("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-f", "f32le", "-ar", "16000", "-ac", "1", "-i", "pipe:0", out], {
    input: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
  });
  return out;
}

/**
 * `seconds` of noise at 16 kHz, the same every call, scaled to an RMS level of `dbfs`: white (hiss),
 * or brown (white noise through a leaky integrator, -6 dB per octave: a room's rumble).
 */
export function noiseFloor(seconds: number, dbfs: number, color: "white" | "brown"): Float32Array {
  const noise = new Float32Array(Math.round(seconds * 16000));
  const leak = color === "brown" ? 0.995 : 0;
  let seed = 12345;
  let y = 0;
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    y = leak * y + (seed / 2 ** 31 - 0.5);
    noise[i] = y;
  }
  let power = 0;
  for (const x of noise) power += x * x;
  const gain = 10 ** (dbfs / 20) / Math.sqrt(power / Math.max(1, noise.length));
  return noise.map((x) => x * gain);
}
