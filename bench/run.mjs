#!/usr/bin/env node
// npm run bench [-- --portable] : speed and memory figures, written to bench/results/<date>.json
// and summarised in docs/BENCHMARKS.md. Needs ffmpeg and espeak-ng; builds everything else itself.
//
//   engine:   60 s of speech, a model with tiny's dimensions, 2 threads, greedy without fallback,
//             through the installed addon (and, with --portable, through smart-whisper's default
//             build compiled into bench/work for comparison)
//   pipeline: speechflow CLI over meeting-style files (speech with pauses), wall time, x-realtime,
//             peak RSS of the whole process tree (main + workers)
//   memory:   peak RSS of the process tree while speechflow runs over a 1-hour file
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, "bench", "work");
const require = createRequire(import.meta.url);
mkdirSync(work, { recursive: true });
const args = new Set(process.argv.slice(2));
const log = (m) => process.stderr.write(`bench: ${m}\n`);

const { writeTestModel, TINY_SIZED_MODEL, MICRO_MODEL } = await import(join(root, "dist", "models", "write-test-model.js"));
const tinyModel = join(work, "ggml-tiny-sized.bin");
const microModel = join(work, "ggml-micro.bin");
if (!existsSync(tinyModel)) writeTestModel(tinyModel, TINY_SIZED_MODEL);
if (!existsSync(microModel)) writeTestModel(microModel, MICRO_MODEL);

const sentences = readFileSync(join(root, "fixtures", "sentences.txt"), "utf8").trim().split("\n");
function ff(a) {
  execFileSync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", ...a]);
}
function clip(i) {
  const out = join(work, `s${i}.wav`);
  if (!existsSync(out)) execFileSync("espeak-ng", ["-w", out, sentences[i % sentences.length]]);
  return out;
}
/** speech with pauses: `seconds` long, about a third silence */
function meeting(out, seconds, seed) {
  if (existsSync(out)) return out;
  const list = join(work, `list-${seed}.txt`);
  const lines = [];
  let total = 0;
  let s = seed;
  while (total < seconds) {
    const c = clip(s % sentences.length);
    lines.push(`file '${c}'`);
    total += 4.5;
    s = (s * 9301 + 49297) % 233280;
    const pause = [0.5, 1, 2, 4][s % 4];
    const silence = join(work, `sil-${pause}.wav`);
    if (!existsSync(silence)) ff(["-f", "lavfi", "-t", String(pause), "-i", "anullsrc=r=22050:cl=mono", silence]);
    lines.push(`file '${silence}'`);
    total += pause;
  }
  writeFileSync(list, lines.join("\n") + "\n");
  ff(["-f", "concat", "-safe", "0", "-i", list, "-t", String(seconds), "-ar", "16000", "-ac", "1", "-b:a", "64k", out]);
  return out;
}
function pcmOf(file) {
  const raw = execFileSync("ffmpeg", ["-v", "error", "-i", file, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"], { maxBuffer: 1 << 30 });
  return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** times one addon in a child process, so two builds never share a process */
function timeAddon(addonDir, model, file, runs) {
  const script = `
    const { Whisper } = require(${JSON.stringify(addonDir)});
    const { execFileSync } = require("node:child_process");
    const raw = execFileSync("ffmpeg", ["-v","error","-i",${JSON.stringify(file)},"-ac","1","-ar","16000","-f","f32le","pipe:1"], { maxBuffer: 1 << 30 });
    const pcm = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
    (async () => {
      const w = new Whisper(${JSON.stringify(model)}, { gpu: false, offload: 1e9 });
      await w.load();
      const times = [];
      for (let i = 0; i < ${runs}; i++) {
        const t = process.hrtime.bigint();
        const task = await w.transcribe(pcm, { strategy: 0, n_threads: 2, language: "en", temperature_inc: 0, no_context: true, format: "simple" });
        await task.result;
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      await w.free();
      process.stdout.write(JSON.stringify(times));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
}

/** runs a command, sampling the RSS of its whole process tree every 50 ms */
function runMeasured(cmd, cmdArgs, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    let peak = 0;
    const treeRss = () => {
      const kids = new Map();
      for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
          kids.set(Number(pid), { ppid, rss });
        } catch {}
      }
      let total = 0;
      const stack = [child.pid];
      while (stack.length) {
        const p = stack.pop();
        total += kids.get(p)?.rss ?? 0;
        for (const [pid, k] of kids) if (k.ppid === p) stack.push(pid);
      }
      return total;
    };
    const timer = setInterval(() => (peak = Math.max(peak, treeRss())), 50);
    child.on("close", (code) => {
      clearInterval(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-500)}`));
      else resolve({ wallMs, peakRssBytes: peak });
    });
  });
}

const results = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model }, node: process.version };
const swDir = dirname(require.resolve("smart-whisper/package.json"));
const engineInfoPath = join(swDir, "build", "speechflow-engine.json");
results.engineBuild = existsSync(engineInfoPath) ? JSON.parse(readFileSync(engineInfoPath, "utf8")).mode : "default";

// 1. engine: 60 s of speech, tiny-sized model, 2 threads
const sixty = meeting(join(work, "speech-60s.mp3"), 60, 3);
const nativeTimes = timeAddon(swDir, tinyModel, sixty, 3);
results.engine = { audioSeconds: 60, threads: 2, installedBuild: { build: results.engineBuild, runsMs: nativeTimes, medianMs: median(nativeTimes) } };
log(`engine (${results.engineBuild}): median ${median(nativeTimes).toFixed(0)} ms for 60 s`);
if (args.has("--portable")) {
  const portableDir = join(work, "smart-whisper-portable");
  if (!existsSync(join(portableDir, "build", "Release", "smart-whisper.node"))) {
    rmSync(portableDir, { recursive: true, force: true });
    cpSync(swDir, portableDir, { recursive: true, filter: (src) => !src.includes(`${swDir}/build`) && !src.endsWith(".o") && !src.endsWith(".a") });
    mkdirSync(join(portableDir, "node_modules"), { recursive: true });
    cpSync(dirname(require.resolve("node-addon-api/package.json")), join(portableDir, "node_modules", "node-addon-api"), { recursive: true });
    const nodeGyp = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
    log("building smart-whisper's default (portable) addon for comparison ...");
    execFileSync(process.execPath, [nodeGyp, "rebuild", "--nodedir=/usr"], { cwd: portableDir, stdio: "ignore", env: { ...process.env, BYOL: "" } });
  }
  const portableTimes = timeAddon(portableDir, tinyModel, sixty, 3);
  results.engine.portableBuild = { runsMs: portableTimes, medianMs: median(portableTimes) };
  results.engine.speedup = median(portableTimes) / median(nativeTimes);
  log(`engine (portable): median ${median(portableTimes).toFixed(0)} ms; native is ${results.engine.speedup.toFixed(1)}x faster`);
}

// 2. pipeline on meeting-style files, tiny-sized model
const cli = join(root, "bin", "speechflow.js");
const corpus = join(work, "meetings");
mkdirSync(corpus, { recursive: true });
for (let i = 0; i < 10; i++) meeting(join(corpus, `m${i}.mp3`), 60, 10 + i);
const pipeline = [];
for (let r = 0; r < 3; r++) {
  const out = join(work, "out-pipeline");
  rmSync(out, { recursive: true, force: true });
  pipeline.push(await runMeasured(process.execPath, [cli, "transcribe", corpus, "-o", out, "-m", tinyModel, "--no-temperature-fallback", "--language", "en", "--quiet"]));
}
const wall = median(pipeline.map((p) => p.wallMs));
results.pipeline = { files: 10, audioSeconds: 600, runs: pipeline, medianWallMs: wall, xRealtime: 600000 / wall, peakRssBytes: Math.max(...pipeline.map((p) => p.peakRssBytes)) };
log(`pipeline: 600 s of meetings in ${(wall / 1000).toFixed(1)} s (${(600000 / wall).toFixed(1)}x realtime)`);

// 3. memory over a 1-hour file (micro model: the engine is not what is measured here)
const hour = meeting(join(work, "hour.mp3"), 3600, 99);
const outHour = join(work, "out-hour");
rmSync(outHour, { recursive: true, force: true });
const hourRun = await runMeasured(process.execPath, [cli, "transcribe", hour, "-o", outHour, "-m", microModel, "--no-temperature-fallback", "--language", "en", "--quiet"]);
results.hourFile = { audioSeconds: 3600, model: "micro", ...hourRun };
log(`1-hour file: ${(hourRun.wallMs / 1000).toFixed(1)} s, peak RSS of the process tree ${(hourRun.peakRssBytes / 1e6).toFixed(0)} MB`);

mkdirSync(join(root, "bench", "results"), { recursive: true });
const resultPath = join(root, "bench", "results", `${results.date.slice(0, 10)}.json`);
writeFileSync(resultPath, JSON.stringify(results, null, 2) + "\n");
log(`wrote ${resultPath}`);
