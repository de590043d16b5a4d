#!/usr/bin/env node
// npm run bench:incremental [-- --files 1000]
//
// The nightly re-run: how long does `speechflow transcribe` take on a folder of N files when
// nothing changed (target: seconds for 1,000 files), when 1% changed, and when 1% is new?
// Files are short clips of real espeak-ng speech copied N times with a different byte in each
// (so every file has its own content hash). Model: the generated micro model (the engine's cost is
// not what this measures). Results: bench/results/incremental-<date>.json.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, "bench", "work", "incremental");
const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf("--files") + 1] || 1000) || 1000;
const log = (m) => process.stderr.write(`bench:incremental: ${m}\n`);
mkdirSync(work, { recursive: true });

const { writeTestModel, MICRO_MODEL } = await import(join(root, "dist", "models", "write-test-model.js"));
const model = join(work, "ggml-micro.bin");
if (!existsSync(model)) writeTestModel(model, MICRO_MODEL);

const clip = join(work, "clip.wav");
if (!existsSync(clip)) {
  execFileSync("espeak-ng", ["-w", join(work, "raw.wav"), "The nightly job only does new work."]);
  execFileSync("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-i", join(work, "raw.wav"), "-ar", "16000", "-ac", "1", clip]);
}
const wav = readFileSync(clip);
const input = join(work, `in-${N}`);
const out = join(work, `out-${N}`);
rmSync(input, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
// the last sample differs per file: same audio, different bytes, different SHA-256
const variant = (i, salt = 0) => {
  const b = Buffer.from(wav);
  b.writeInt16LE((i * 7 + salt) % 30000, b.length - 2);
  return b;
};
for (let i = 0; i < N; i++) {
  const dir = join(input, `d${String(Math.floor(i / 100)).padStart(2, "0")}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `f${String(i).padStart(5, "0")}.wav`), variant(i));
}
const fileOf = (i) => join(input, `d${String(Math.floor(i / 100)).padStart(2, "0")}`, `f${String(i).padStart(5, "0")}.wav`);

const run = (label) => {
  const started = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [join(root, "bin", "speechflow.js"), "transcribe", input, "-o", out, "-m", model, "--no-temperature-fallback", "--formats", "txt,json", "--workers", "2", "--threads", "1", "--json"],
    { encoding: "utf8", maxBuffer: 1 << 28 },
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const end = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "run-end");
  if (r.status !== 0 || !end) throw new Error(`${label}: exit ${r.status}\n${r.stderr}`);
  log(`${label}: ${(ms / 1000).toFixed(2)} s (done ${end.done}, unchanged ${end.skipped}, failed ${end.failed})`);
  return { label, wallMs: Math.round(ms), done: end.done, skipped: end.skipped, failed: end.failed };
};

const results = [];
results.push(run(`first run, ${N} files`));
for (let k = 0; k < 3; k++) results.push(run(`re-run, nothing changed (${k + 1})`));
const changed = Math.max(1, Math.round(N / 100));
for (let i = 0; i < changed; i++) writeFileSync(fileOf(i * 97 % N), variant(i * 97 % N, 1));
results.push(run(`re-run, ${changed} changed`));
for (let i = 0; i < changed; i++) writeFileSync(join(input, "d00", `new${i}.wav`), variant(N + i));
results.push(run(`re-run, ${changed} new`));
const dbBytes = ["", "-wal"].map((s) => join(out, ".speechflow", `state.sqlite${s}`)).filter(existsSync).reduce((n, p) => n + readFileSync(p).length, 0);

const date = new Date().toISOString().slice(0, 10);
const file = join(root, "bench", "results", `incremental-${date}.json`);
const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1];
writeFileSync(file, JSON.stringify({ date, files: N, cpu, node: process.version, dbBytes, runs: results }, null, 2) + "\n");
log(`wrote ${file}`);
