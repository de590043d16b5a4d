// Shared by bench/incremental.mjs and bench/load.mjs: a workspace with the generated micro model and
// N copies of one short espeak-ng clip, each with its own last sample (same audio, own SHA-256).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTestModelWriter } from "./test-model.mjs";

export const root = fileURLToPath(new URL("..", import.meta.url));

/** @param {number} fallback the number of files when --files is not given */
export function filesArg(fallback) {
  const argv = process.argv.slice(2);
  return Number(argv[argv.indexOf("--files") + 1] || fallback) || fallback;
}

/** @param {{ name: string, files: number, perDir: number, sentence: string }} options */
export async function manyFiles({ name, files, perDir, sentence }) {
  const work = join(root, "bench", "work", name);
  mkdirSync(work, { recursive: true });
  const { writeTestModel, MICRO_MODEL } = await loadTestModelWriter();
  const model = join(work, "ggml-micro.bin");
  if (!existsSync(model)) writeTestModel(model, MICRO_MODEL);
  const clip = join(work, "clip.wav");
  if (!existsSync(clip)) {
    execFileSync("espeak-ng", ["-w", join(work, "raw.wav"), sentence]);
    execFileSync("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-i", join(work, "raw.wav"), "-ar", "16000", "-ac", "1", clip]);
  }
  const wav = readFileSync(clip);
  const input = join(work, `in-${files}`);
  const out = join(work, `out-${files}`);
  rmSync(input, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  /** @param {number} i @param {number} [salt] */
  const variant = (i, salt = 0) => {
    const b = Buffer.from(wav);
    b.writeInt16LE((i * 7 + salt) % 30000, b.length - 2);
    return b;
  };
  /** @param {number} i */
  const fileOf = (i) => join(input, `d${String(Math.floor(i / perDir)).padStart(2, "0")}`, `f${String(i).padStart(5, "0")}.wav`);
  for (let i = 0; i < files; i++) {
    mkdirSync(join(fileOf(i), ".."), { recursive: true });
    writeFileSync(fileOf(i), variant(i));
  }
  return { work, model, input, out, variant, fileOf };
}

export const cpuName = () => readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1];

/**
 * The CLI call both many-files benchmarks time: txt and json, 2 workers x 1 thread, NDJSON events.
 * @param {string} input @param {string} out @param {string} model
 * @returns {string[]}
 */
export const transcribeArgs = (input, out, model) => [
  join(root, "bin", "speechflow.js"),
  ...["transcribe", input, "-o", out, "-m", model, "--no-temperature-fallback"],
  ...["--formats", "txt,json", "--workers", "2", "--threads", "1", "--json"],
];
