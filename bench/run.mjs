#!/usr/bin/env node
// npm run bench [-- --quick] [-- --portable]
//
// speechflow against whisper.cpp's own command-line program, side by side in one run, on the same
// machine, files, model and total threads. Results: bench/results/<date>.json and the tables in
// docs/BENCHMARKS.md (regenerated from the JSON). Needs ffmpeg and espeak-ng.
//
// Model: the generated model with tiny's dimensions. Its decoder yields the same four tokens for
// every 30 s window in both tools ([<|1.00|>, one word, <|30.00|>, EOT]; see
// test/support/write-test-model.ts), so decoding costs the same everywhere and the comparison
// measures the encoder work, scheduling and everything around it. The script checks that both
// tools produced one such segment per window.
//
// Decoding settings are matched: greedy (-bs 1 / --beam-size 1), no temperature fallback
// (-nf / --no-temperature-fallback), no text context between windows (-mc 0 / speechflow's chunks
// are independent), language fixed to en.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTestModelWriter } from "./test-model.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, "bench", "work");
const require = createRequire(import.meta.url);
const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");
const RUNS = QUICK ? 1 : 3;
const THREADS = 2;
/** @param {string} m */
const log = (m) => process.stderr.write(`bench: ${m}\n`);
mkdirSync(work, { recursive: true });

const { writeTestModel, TINY_SIZED_MODEL, MICRO_MODEL, FIXED_TEXT_TOKEN, testTokenText } = await loadTestModelWriter();
const FIXED_WORD = testTokenText(FIXED_TEXT_TOKEN).trim();
const tinyModel = join(work, "ggml-tiny-sized.bin");
const microModel = join(work, "ggml-micro.bin");
if (!existsSync(tinyModel)) writeTestModel(tinyModel, TINY_SIZED_MODEL);
if (!existsSync(microModel)) writeTestModel(microModel, MICRO_MODEL);

// ---------------------------------------------------------------- corpus
/** @param {string[]} a */
const ff = (a) => execFileSync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", ...a]);
const sentences = readFileSync(join(root, "fixtures", "sentences.txt"), "utf8")
  .trim()
  .split("\n");
const clipDir = join(work, "clips");
mkdirSync(clipDir, { recursive: true });
/** @param {number} i */
function clip(i) {
  const out = join(clipDir, `s${i}.wav`);
  if (!existsSync(out)) {
    execFileSync("espeak-ng", ["-w", join(clipDir, "raw.wav"), /** @type {string} */ (sentences[i % sentences.length])]);
    ff(["-i", join(clipDir, "raw.wav"), "-ar", "16000", "-ac", "1", out]);
  }
  return out;
}
/** @param {number} seconds */
function silence(seconds) {
  const out = join(clipDir, `sil-${seconds}.wav`);
  if (!existsSync(out)) ff(["-f", "lavfi", "-t", String(seconds), "-i", "anullsrc=r=16000:cl=mono", out]);
  return out;
}
/** @param {string[]} parts @param {string} out @param {number} [seconds] */
function concat(parts, out, seconds) {
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const list = `${out}.txt`;
  writeFileSync(list, parts.map((p) => `file '${p}'`).join("\n") + "\n");
  ff(["-f", "concat", "-safe", "0", "-i", list, ...(seconds ? ["-t", String(seconds)] : []), "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", out]);
  rmSync(list);
  return out;
}
/**
 * meeting-style: sentences with pauses of 0.5-6 s, about a third of the time silent
 * @param {string} out @param {number} seconds @param {number} seed
 */
function meeting(out, seconds, seed) {
  /** @type {string[]} */
  const parts = [];
  let total = 0;
  let s = seed;
  while (total < seconds) {
    const c = clip(s % sentences.length);
    parts.push(c);
    total += (readFileSync(c).length - 44) / 32000;
    s = (s * 9301 + 49297) % 233280;
    const pause = /** @type {number} */ ([0.5, 1, 2, 3, 6][s % 5]);
    parts.push(silence(pause));
    total += pause;
  }
  return concat(parts, out, seconds);
}
/** dense speech: the LibriVox recordings of Debian's pocketsphinx-testdata, back to back */
const librivoxDir = "/usr/share/pocketsphinx/test/data/librivox";
/** @param {string} out @param {number} seconds @param {number} offset */
function dense(out, seconds, offset) {
  const clips = readdirSync(librivoxDir)
    .filter((f) => f.endsWith(".wav"))
    .sort()
    .map((f) => join(librivoxDir, f));
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i < Math.ceil(seconds / 5) + 5; i++) parts.push(/** @type {string} */ (clips[(i + offset) % clips.length]));
  return concat(parts, out, seconds);
}

const corpus = {
  // lengths spread evenly over 30-90 s (20 min in all): silence can only save whole windows
  meetings: Array.from({ length: 20 }, (_, i) =>
    meeting(join(work, "corpus", "meetings", `meeting-${String(i).padStart(2, "0")}.wav`), QUICK ? 20 : 30 + ((i * 37) % 61), i + 1),
  ),
  dense: Array.from({ length: 4 }, (_, i) => dense(join(work, "corpus", "dense", `librivox-${i}.wav`), QUICK ? 20 : 60, i)),
};
const hourFile = meeting(join(work, "corpus", "long", "hour.wav"), QUICK ? 300 : 3600, 99);
const tenMinFile = meeting(join(work, "corpus", "ten-minutes", "ten.wav"), 600, 98);
const shortFiles = Array.from({ length: 50 }, (_, i) => meeting(join(work, "corpus", "short", `short-${String(i).padStart(2, "0")}.wav`), 8, 200 + i));
/** @param {string[]} files */
const seconds = (files) => files.reduce((n, f) => n + (readFileSync(f).length - 44) / 32000, 0);

// ---------------------------------------------------------------- baseline build
const swDir = dirname(require.resolve("smart-whisper/package.json"));
const wcppDir = join(work, "whisper.cpp");
const wcpp = join(wcppDir, "main");
if (!existsSync(wcpp)) {
  log("building whisper.cpp's main from the sources inside smart-whisper (native flags) ...");
  rmSync(wcppDir, { recursive: true, force: true });
  cpSync(join(swDir, "whisper.cpp"), wcppDir, { recursive: true, filter: (src) => !src.endsWith(".o") && !src.endsWith(".a") });
  mkdirSync(join(wcppDir, "scripts"), { recursive: true });
  writeFileSync(join(wcppDir, "scripts", "get-flags.mk"), "");
  execFileSync("make", ["-C", wcppDir, `-j${cpus().length}`, "main"], { stdio: "ignore" });
}

// ---------------------------------------------------------------- measurement
/** @typedef {{ wallMs: number, peakRssBytes: number, windows: number, chunks?: number, chunkAudioMs?: number, outsideEngineShare?: number }} ToolRun */
/** @typedef {ToolRun & { runsMs: number[], xRealtime?: number }} Row */
/** @typedef {{ audioSeconds: number, installed: { build: string, medianMs: number, runsMs: number[] }, portable?: { medianMs: number, runsMs: number[] }, speedup?: number }} EngineFigures */

/**
 * runs a command, sampling the RSS of its whole process tree every 50 ms
 * @param {string} cmd @param {string[]} cmdArgs @param {Record<string, string>} [env]
 * @returns {Promise<{ wallMs: number, peakRssBytes: number, stdout: string, stderr: string }>}
 */
function measured(cmd, cmdArgs, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-20000)));
    let peak = 0;
    const sample = () => {
      /** @type {Map<number, { ppid: number, rss: number }>} */
      const table = new Map();
      for (const pid of readdirSync("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
          table.set(Number(pid), { ppid, rss });
        } catch {}
      }
      let total = 0;
      const stack = child.pid === undefined ? [] : [child.pid];
      for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
        total += table.get(p)?.rss ?? 0;
        for (const [pid, row] of table) if (row.ppid === p) stack.push(pid);
      }
      peak = Math.max(peak, total);
    };
    const timer = setInterval(sample, 50);
    child.on("close", (code) => {
      clearInterval(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${cmdArgs.slice(0, 3).join(" ")} exited ${code}: ${stderr.slice(-800)}`));
      else resolve({ wallMs, peakRssBytes: peak, stdout, stderr });
    });
  });
}
/** @param {number[]} xs (not empty) */
const median = (xs) => /** @type {number} */ ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const cli = join(root, "bin", "speechflow.js");

/** @param {string[]} files @param {{ processors: number }} options @returns {Promise<ToolRun>} */
async function whisperCpp(files, { processors }) {
  const out = join(work, "out-wcpp");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const threads = THREADS / processors;
  const r = await measured(wcpp, [
    "-m",
    tinyModel,
    "-t",
    String(threads),
    "-p",
    String(processors),
    "-l",
    "en",
    "-bs",
    "1",
    "-nf",
    "-mc",
    "0",
    "-np",
    "-otxt",
    ...files.flatMap((f) => ["-f", f]),
  ]);
  // -otxt writes <input>.txt next to each input: count the fixed word per window, then clean up
  let windows = 0;
  for (const f of files) {
    const txt = readFileSync(`${f}.txt`, "utf8");
    windows += txt.split("\n").filter((l) => l.trim() === FIXED_WORD).length;
    rmSync(`${f}.txt`);
  }
  return { wallMs: r.wallMs, peakRssBytes: r.peakRssBytes, windows };
}

/** @param {string[]} files @param {{ workers: number, model?: string }} options @returns {Promise<ToolRun>} */
async function speechflow(files, { workers, model = tinyModel }) {
  const out = join(work, "out-speechflow");
  rmSync(out, { recursive: true, force: true });
  const listFile = join(work, "inputs.txt");
  writeFileSync(listFile, files.join("\n") + "\n");
  const r = await measured(process.execPath, [
    cli,
    "transcribe",
    "--from-list",
    listFile,
    "-o",
    out,
    "-m",
    model,
    "--language",
    "en",
    "--beam-size",
    "1",
    "--no-temperature-fallback",
    "--workers",
    String(workers),
    "--threads",
    String(THREADS / workers),
    "--formats",
    "txt",
    "--json",
  ]);
  /** @type {Record<string, any>[]} */
  const events = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const chunks = events.filter((e) => e.type === "chunk-done");
  const engineMs = chunks.reduce((n, e) => n + e.elapsedMs, 0);
  const end = events.find((e) => e.type === "run-end");
  if (!end || end.failed > 0) throw new Error(`speechflow run failed: ${JSON.stringify(end)}`);
  let windows = 0;
  for (const line of readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith(".txt"))) {
    windows += readFileSync(join(out, String(line)), "utf8")
      .split("\n")
      .filter((l) => l.trim() === FIXED_WORD).length;
  }
  return {
    wallMs: r.wallMs,
    peakRssBytes: r.peakRssBytes,
    windows,
    chunks: chunks.length,
    chunkAudioMs: chunks.reduce((n, e) => n + e.audioMs, 0),
    // share of the slots' time the engine was not transcribing: start-up, model load, decoding,
    // VAD, database, output writing, scheduling gaps
    outsideEngineShare: 1 - engineMs / (r.wallMs * workers),
  };
}

/** @param {string} label @param {() => Promise<ToolRun>} fn @returns {Promise<Row>} */
async function repeat(label, fn) {
  /** @type {ToolRun[]} */
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await fn());
  const pick = runs.find((r) => r.wallMs === median(runs.map((x) => x.wallMs)));
  if (!pick) throw new Error(`${label}: no run`);
  log(`${label}: ${(pick.wallMs / 1000).toFixed(2)} s (median of ${RUNS})`);
  return { ...pick, runsMs: runs.map((r) => Math.round(r.wallMs)) };
}

/**
 * @type {{
 *   date: string, quick: boolean, machine: { cpus: number, model: string | undefined }, node: string, threads: number, engineBuild: string,
 *   corpora: Record<string, { files: number, audioSeconds: number, rows: Record<string, Row>, speedupVsBestWhisperCpp: number }>,
 *   growth: Record<string, ToolRun & { audioSeconds: number }>,
 *   engine?: EngineFigures,
 * }}
 */
const results = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine: { cpus: cpus().length, model: cpus()[0]?.model },
  node: process.version,
  threads: THREADS,
  engineBuild: (() => {
    try {
      return JSON.parse(readFileSync(join(swDir, "build", "speechflow-engine.json"), "utf8")).mode;
    } catch {
      return "default";
    }
  })(),
  corpora: {},
  growth: {},
};

for (const [name, files] of Object.entries(corpus)) {
  const audio = seconds(files);
  log(`corpus ${name}: ${files.length} files, ${(audio / 60).toFixed(1)} min`);
  const rows = {
    "whisper.cpp -t 2": await repeat(`${name} whisper.cpp -t 2`, () => whisperCpp(files, { processors: 1 })),
    "whisper.cpp -t 1 -p 2": await repeat(`${name} whisper.cpp -p 2`, () => whisperCpp(files, { processors: 2 })),
    "speechflow 1 worker x 2 threads": await repeat(`${name} speechflow 1x2`, () => speechflow(files, { workers: 1 })),
    "speechflow 2 workers x 1 thread": await repeat(`${name} speechflow 2x1`, () => speechflow(files, { workers: 2 })),
  };
  const bestWcpp = Math.min(rows["whisper.cpp -t 2"].wallMs, rows["whisper.cpp -t 1 -p 2"].wallMs);
  const bestSf = Math.min(rows["speechflow 1 worker x 2 threads"].wallMs, rows["speechflow 2 workers x 1 thread"].wallMs);
  for (const row of Object.values(rows)) row.xRealtime = (audio * 1000) / row.wallMs;
  results.corpora[name] = { files: files.length, audioSeconds: audio, rows, speedupVsBestWhisperCpp: bestWcpp / bestSf };
  log(`${name}: speechflow best / whisper.cpp best = ${(bestWcpp / bestSf).toFixed(2)}x`);
}

// growth with length and with the number of files (speechflow, 2 workers)
const hourAudio = seconds([hourFile]);
results.growth["10-minute file"] = { audioSeconds: 600, ...(await speechflow([tenMinFile], { workers: 2 })) };
results.growth["1-hour file"] = { audioSeconds: hourAudio, ...(await speechflow([hourFile], { workers: 2 })) };
results.growth["1-hour file, whisper.cpp -t 2"] = { audioSeconds: hourAudio, ...(await whisperCpp([hourFile], { processors: 1 })) };
for (const n of [1, 10, 50]) {
  const files = shortFiles.slice(0, n);
  results.growth[`${n} file(s) of 8 s`] = { audioSeconds: seconds(files), ...(await speechflow(files, { workers: 2 })) };
}
for (const [k, v] of Object.entries(results.growth)) log(`${k}: ${(v.wallMs / 1000).toFixed(2)} s, peak RSS ${(v.peakRssBytes / 1e6).toFixed(0)} MB`);

// the engine build: installed addon vs smart-whisper's default build (slow to compile: --portable)
/** @param {string} addonDir @param {string} file @returns {number[]} */
function timeAddon(addonDir, file) {
  const script = `
    const { Whisper } = require(${JSON.stringify(addonDir)});
    const fs = require("node:fs");
    const raw = fs.readFileSync(${JSON.stringify(file)}).subarray(44);
    const pcm = new Float32Array(raw.length / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16LE(i * 2) / 32768;
    (async () => {
      const w = new Whisper(${JSON.stringify(tinyModel)}, { gpu: false, offload: 1e9 });
      await w.load();
      const times = [];
      for (let i = 0; i < ${RUNS}; i++) {
        const t = process.hrtime.bigint();
        const task = await w.transcribe(pcm, { strategy: 0, n_threads: ${THREADS}, language: "en", temperature_inc: 0, no_context: true, format: "simple" });
        await task.result;
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      await w.free();
      process.stdout.write(JSON.stringify(times));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
}
const sixty = concat([/** @type {string} */ (corpus.dense[0])], join(work, "corpus", "sixty.wav"), 60);
const installed = timeAddon(swDir, sixty);
/** @type {EngineFigures} */
const engine = { audioSeconds: 60, installed: { build: results.engineBuild, medianMs: median(installed), runsMs: installed } };
results.engine = engine;
if (args.has("--portable")) {
  const portableDir = join(work, "smart-whisper-portable");
  if (!existsSync(join(portableDir, "build", "Release", "smart-whisper.node"))) {
    log("building smart-whisper's default (portable) addon for comparison ...");
    rmSync(portableDir, { recursive: true, force: true });
    cpSync(swDir, portableDir, { recursive: true, filter: (src) => !src.startsWith(join(swDir, "build")) && !src.endsWith(".o") && !src.endsWith(".a") });
    mkdirSync(join(portableDir, "node_modules"), { recursive: true });
    cpSync(dirname(require.resolve("node-addon-api/package.json")), join(portableDir, "node_modules", "node-addon-api"), { recursive: true });
    const nodeGyp = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
    const { BYOL: _ignored, ...env } = process.env;
    execFileSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${process.env.npm_config_nodedir ?? "/usr"}`], { cwd: portableDir, stdio: "ignore", env });
  }
  const portable = timeAddon(portableDir, sixty);
  engine.portable = { medianMs: median(portable), runsMs: portable };
  engine.speedup = median(portable) / median(installed);
}
log(`engine, 60 s: ${results.engineBuild} ${median(installed).toFixed(0)} ms${engine.portable ? `, portable ${engine.portable.medianMs.toFixed(0)} ms` : ""}`);

mkdirSync(join(root, "bench", "results"), { recursive: true });
const resultPath = join(root, "bench", "results", `${results.date.slice(0, 10)}${QUICK ? "-quick" : ""}.json`);
writeFileSync(resultPath, JSON.stringify(results, null, 2) + "\n");
log(`wrote ${resultPath}`);
if (!QUICK) {
  execFileSync(process.execPath, [join(root, "bench", "report.mjs"), resultPath], { stdio: "inherit" });
}
