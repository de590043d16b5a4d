#!/usr/bin/env node
// npm run bench:queue [-- --only stand-in,jobs,engine,decode]
//
// What the queue backend (BullMQ on Redis, chunk audio in a blob store) costs per chunk, and how it
// scales with workers, all on this one machine. Results: bench/results/queue-<date>.json, rendered
// into docs/SCALE.md by hand.
//
// 1. STAND-IN: `speechflow worker` processes whose engine is a FIXED-COST STAND-IN, not whisper.cpp
//    (SPEECHFLOW_FAULT_FIXED_COST_MS: each chunk "transcribes" by sleeping 200 ms). It isolates the
//    queue path: blob put, job add, take, blob get, result back, job + blob removal.
//    a. overhead: one chunk at a time, 30 s chunks (1.92 MB float32 blobs) -> the path's own milliseconds;
//    b. throughput of 1, 2 and 4 stand-in workers (ideal: 5 chunks/s each);
//    c. jobs/s: many tiny jobs, stand-in at 0 ms, and the Redis server's CPU seconds per job (Redis
//       runs on one core: 1 / that = the jobs/s one Redis core sustains).
// 2. ENGINE: the real whisper.cpp engine with a generated tiny-sized model (bench/test-model.mjs,
//    decoding variant: ~80 tokens per 30 s window), 1 and 2 single-threaded workers (--workers 1 --threads 1 --jobs-per-worker 1) against a local run
//    of the same files with the same layout.
// 3. DECODE + VAD: the coordinator's own work per audio hour (ffmpeg decode to 16 kHz mono, then the
//    chunk planner), on a one-hour 44.1 kHz stereo MP3.
// The machine is shared (2 cores, other sessions running): the load average is recorded beside the figures.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { cpuName, root } from "./many-files.mjs";
import { benchModels, loadTestModelWriter } from "./test-model.mjs";

const argv = process.argv.slice(2);
/** --only stand-in,jobs,engine,decode: run those parts (the results file gets only them) */
const ONLY = argv.includes("--only") ? new Set(String(argv[argv.indexOf("--only") + 1]).split(",")) : undefined;
const want = (/** @type {string} */ part) => !ONLY || ONLY.has(part);
const STAND_IN_MS = 200;
const CLI = join(root, "bin", "speechflow.js");
const work = join(root, "bench", "work", "queue");
mkdirSync(work, { recursive: true });
/** @param {string} m */
const log = (m) => process.stderr.write(`bench:queue: ${m}\n`);
const dist = (/** @type {string} */ p) => import(pathToFileURL(join(root, "dist", p)).href);
const { QueueTranscriber } = await dist("queue/queue-transcriber.js");
const { resolveModel } = await dist("models/resolve-model.js");
const { engineBuildClass } = await dist("queue/queue-registry.js");
const { decodePcm } = await dist("media/ffmpeg-gateway.js");
const { ChunkPlanner } = await dist("chunking/chunk-planner.js");
const { writeTestModel, MICRO_MODEL } = await loadTestModelWriter();

// the stand-in never loads a model, but workers and coordinator match queues by the model file
const microModel = join(work, "ggml-micro.bin");
if (!existsSync(microModel)) writeTestModel(microModel, MICRO_MODEL);
// tiny's dimensions, decoding ~80 tokens per 30 s window like a real model on speech
const tinyModel = (await benchModels(join(work, "models"))).decoding.path;
const params = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };
const round = (/** @type {number} */ n, d = 1) => +n.toFixed(d);

// ---------------------------------------------------------------- processes
/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** redis-server on a free port, no persistence (the tests' settings) */
async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = createConnection(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `redis://127.0.0.1:${port}/0`, pid: /** @type {number} */ (child.pid), stop: () => child.kill("SIGTERM") };
}

/** CPU seconds a process has used (utime + stime from /proc) @param {number} pid */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * `speechflow worker` processes; resolves once all print "ready on"
 * @param {number} n @param {{ queue: string, blob: string, model: string, env?: Record<string, string>, args?: string[] }} o
 */
async function startWorkers(n, o) {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [CLI, "worker", "--queue", o.queue, "--blob", o.blob, "-m", o.model, ...(o.args ?? [])], {
      env: { ...process.env, ...o.env },
      stdio: ["ignore", "ignore", "pipe"],
    }),
  );
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve, reject) => {
          let err = "";
          c.stderr.on("data", (d) => {
            err += d;
            if (/ready on/.test(err)) resolve(undefined);
          });
          c.once("exit", () => reject(new Error(`worker exited:\n${err}`)));
        }),
    ),
  );
  const stop = async () => {
    const exited = (/** @type {import("node:child_process").ChildProcess} */ c) =>
      new Promise((r) => {
        if (c.exitCode !== null) return r(undefined);
        c.once("exit", r);
        c.kill("SIGTERM");
      });
    await Promise.all(children.map(exited));
  };
  return Object.assign(stop, { pids: children.map((c) => /** @type {number} */ (c.pid)) });
}

// ---------------------------------------------------------------- 1. stand-in
/**
 * A coordinator (QueueTranscriber, as `transcribe --queue` uses it) sending `count` chunks, `lanes`
 * at a time, each committed (job and blob removed) as soon as its result is in. `prompt` picks the
 * queue: workers find a queue registered after they started only on their next discovery round (2 s),
 * so each measured run goes to a queue its workers already serve.
 * @param {{ queue: string, blob: string, count: number, lanes: number, samples: number, prompt: string, tag: string }} o
 */
async function coordinate(o) {
  const model = resolveModel(microModel, process.cwd());
  const decoding = { ...params, prompt: o.prompt };
  /** @type {{ putMs: number, addMs: number, waitMs: number }[]} */
  const timings = [];
  /** @type {number[]} */
  const removeMs = [];
  const t = new QueueTranscriber({
    ...{ queueUrl: o.queue, blobUrl: o.blob, model: { name: model.name, identity: model.identity }, buildClass: engineBuildClass() },
    ...{ params: decoding, emit: () => undefined, metrics: "", slots: Math.max(16, o.lanes), onTiming: (/** @type {any} */ x) => timings.push(x) },
  });
  await t.start();
  const base = new Float32Array(o.samples);
  for (let i = 0; i < base.length; i++) base[i] = Math.sin(i / 7) * 0.1;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < o.count) {
      const i = next++;
      const pcm = base.slice();
      pcm[0] = i / o.count; // each chunk its own content, so its own blob
      const job = { id: `bench-${o.tag}-${i}`, label: `bench.wav#${i}`, pcm, params: decoding };
      await t.transcribe(job);
      const r0 = performance.now();
      await t.committed(job);
      removeMs.push(performance.now() - r0);
    }
  };
  await Promise.all(Array.from({ length: o.lanes }, lane));
  const seconds = (performance.now() - started) / 1000;
  await t.close();
  return { seconds, timings, removeMs };
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? /** @type {number} */ (s[Math.floor(s.length / 2)]) : 0;
};

/** @param {string} queue @param {string} blob */
async function standIn(queue, blob) {
  const env = { SPEECHFLOW_FAULT_FIXED_COST_MS: String(STAND_IN_MS) };
  const samples = 30 * 16000;
  // a. one chunk at a time through one stand-in worker (a first chunk registers the queue)
  let stop = await startWorkers(1, { queue, blob, model: microModel, env });
  await coordinate({ queue, blob, count: 1, lanes: 1, samples, prompt: "stand-in", tag: "register" });
  const seq = await coordinate({ queue, blob, count: 30, lanes: 1, samples, prompt: "stand-in", tag: "overhead" });
  await stop();
  const perChunk = {
    blobPutMs: round(median(seq.timings.map((x) => x.putMs))),
    jobAddMs: round(median(seq.timings.map((x) => x.addMs))),
    takeGetAndResultMs: round(median(seq.timings.map((x) => x.waitMs - STAND_IN_MS))),
    commitRemoveMs: round(median(seq.removeMs)),
  };
  const overhead = { ...perChunk, totalMs: round(perChunk.blobPutMs + perChunk.jobAddMs + perChunk.takeGetAndResultMs + perChunk.commitRemoveMs) };
  log(`stand-in overhead per 30 s chunk (median of ${seq.timings.length}): ${JSON.stringify(overhead)}`);
  // b. throughput of 1, 2, 4 stand-in workers, each one chunk at a time
  const scaling = [];
  for (const workers of [1, 2, 4]) {
    stop = await startWorkers(workers, { queue, blob, model: microModel, env });
    const count = 25 * workers;
    const r = await coordinate({ queue, blob, count, lanes: 4 * workers, samples, prompt: "stand-in", tag: `scale${workers}` });
    await stop();
    const chunksPerSecond = count / r.seconds;
    const ideal = (workers * 1000) / STAND_IN_MS;
    scaling.push({
      workers,
      chunks: count,
      seconds: round(r.seconds, 2),
      chunksPerSecond: round(chunksPerSecond, 2),
      ideal,
      efficiency: round(chunksPerSecond / ideal, 3),
    });
    log(`stand-in ${workers} worker(s): ${JSON.stringify(scaling.at(-1))}`);
  }
  return { overhead, scaling };
}

/** @param {string} queue @param {string} blob @param {number} redisPid */
async function jobsPerSecond(queue, blob, redisPid) {
  const stop = await startWorkers(1, { queue, blob, model: microModel, env: { SPEECHFLOW_FAULT_FIXED_COST_MS: "0" }, args: ["--concurrency", "32"] });
  await coordinate({ queue, blob, count: 300, lanes: 64, samples: 320, prompt: "tiny", tag: "tiny-warm" });
  const count = 4000;
  const workerPid = /** @type {number} */ (stop.pids[0]);
  const [cpu0, worker0, self0] = [cpuSeconds(redisPid), cpuSeconds(workerPid), process.cpuUsage()];
  const r = await coordinate({ queue, blob, count, lanes: 64, samples: 320, prompt: "tiny", tag: "tiny" });
  const redisCpu = cpuSeconds(redisPid) - cpu0;
  const workerCpu = cpuSeconds(workerPid) - worker0;
  const self = process.cpuUsage(self0);
  const coordinatorCpu = (self.user + self.system) / 1e6;
  await stop();
  const result = {
    jobs: count,
    seconds: round(r.seconds, 2),
    jobsPerSecond: round(count / r.seconds, 0),
    redisCpuMsPerJob: round((redisCpu * 1000) / count, 3),
    jobsPerRedisCoreSecond: round(count / Math.max(0.01, redisCpu), 0),
    coordinatorCpuMsPerJob: round((coordinatorCpu * 1000) / count, 3),
    workerCpuMsPerJob: round((workerCpu * 1000) / count, 3),
    note: "jobsPerSecond is bounded by the coordinator and worker (Node) sharing this machine's 2 cores with Redis; jobsPerRedisCoreSecond is the ceiling of one Redis core",
  };
  log(`tiny jobs: ${JSON.stringify(result)}`);
  return result;
}

// ---------------------------------------------------------------- 2. the real engine
/** espeak-ng speech of fixtures/sentences.txt, looped to `seconds`, with 1 s pauses @param {string} path @param {number} seconds @param {number} offset */
function speechFile(path, seconds, offset) {
  if (existsSync(path)) return path;
  const sentences = readFileSync(join(root, "fixtures", "sentences.txt"), "utf8")
    .trim()
    .split("\n");
  const text = [...sentences.slice(offset), ...sentences.slice(0, offset)].join(" ... ");
  const raw = join(work, `raw-${offset}.wav`);
  execFileSync("espeak-ng", ["-w", raw, text]);
  const loops = ["-stream_loop", "-1", "-i", raw, "-t", String(seconds)];
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", ...loops, "-af", "apad=pad_dur=1", "-ac", "1", "-ar", "16000", "-b:a", "48k", path]);
  return path;
}

/** @param {string[]} args @param {Record<string, string>} [env] */
function transcribe(args, env = {}) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, "transcribe", ...args, "--json"], { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`transcribe failed (${r.status}):\n${r.stderr}`);
  const events = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const chunks = events.filter((e) => e.type === "chunk-done");
  const audioSeconds = chunks.reduce((a, e) => a + e.audioMs / 1000, 0);
  const seconds = (performance.now() - started) / 1000;
  return { seconds: round(seconds, 2), chunks: chunks.length, audioSeconds: round(audioSeconds), xRealtime: round(audioSeconds / seconds, 2) };
}

/** @param {string} queue @param {string} blob */
async function realEngine(queue, blob) {
  const input = join(work, "engine-input");
  mkdirSync(input, { recursive: true });
  // 2 files x 50 s: 4 chunks, 2 per worker with two (whisper on one thread takes seconds per chunk here)
  for (let i = 0; i < 2; i++) speechFile(join(input, `talk-${i}.mp3`), 50, i * 3);
  const layout = ["--workers", "1", "--threads", "1", "--jobs-per-worker", "1"];
  const common = ["-m", tinyModel, "--no-temperature-fallback", "--formats", "txt"];
  const out = (/** @type {string} */ n) => {
    const dir = join(work, "engine-out", n);
    rmSync(dir, { recursive: true, force: true });
    return dir;
  };
  const runs = [];
  const localDir = out("local");
  const local = transcribe([input, "-o", localDir, ...common, ...layout]);
  runs.push({ run: "local, 1 worker x 1 chunk x 1 thread", ...local });
  log(JSON.stringify(runs.at(-1)));
  const texts = (/** @type {string} */ dir) => [0, 1].map((i) => readFileSync(join(dir, `talk-${i}.txt`), "utf8")).join("\n");
  const reference = texts(localDir);
  for (const workers of [1, 2]) {
    const stop = await startWorkers(workers, { queue, blob, model: tinyModel, args: layout });
    const dir = out(`queue-${workers}`);
    const r = transcribe([input, "-o", dir, ...common, "--queue", queue, "--blob", blob]);
    await stop();
    const same = texts(dir) === reference;
    runs.push({ run: `queue, ${workers} worker(s) x 1 chunk x 1 thread`, ...r, speedupVsLocal: round(local.seconds / r.seconds, 2), sameText: same });
    log(JSON.stringify(runs.at(-1)));
  }
  return { model: "generated, tiny-sized decoding variant (bench/test-model.mjs: tiny's dimensions, ~80 tokens per 30 s window)", runs };
}

// ---------------------------------------------------------------- 3. decode + VAD
async function decodeAndPlan() {
  const minute = join(work, "minute-44k-stereo.mp3");
  const hour = join(work, "hour-44k-stereo.mp3");
  if (!existsSync(hour)) {
    const wav = speechFile(join(work, "minute.wav"), 60, 0);
    // a 44.1 kHz stereo 128 kb/s MP3, as podcasts and meeting recorders write them
    execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", wav, "-ac", "2", "-ar", "44100", "-b:a", "128k", minute]);
    writeFileSync(join(work, "hour.txt"), Array.from({ length: 60 }, () => `file '${minute}'`).join("\n"));
    execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", join(work, "hour.txt"), "-c", "copy", hour]);
  }
  // ffmpeg's own CPU for the decode (what the coordinator's ffmpeg child spends)
  const timed = spawnSync(
    "/usr/bin/time",
    ["-f", "%e %U %S", "ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", hour, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-y", "/dev/null"],
    { encoding: "utf8" },
  );
  const [wall, user, sys] = (timed.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
  // decode + chunk planning in this process, as a coordinator does it (default planner settings)
  const planner = new ChunkPlanner({ maxChunkSeconds: 30, skipSilenceSeconds: 1.5, silenceThresholdDb: -50 });
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let chunks = 0;
  let samples = 0;
  for await (const block of decodePcm("ffmpeg", hour)) {
    samples += block.length;
    chunks += planner.push(block).length;
  }
  chunks += planner.finish().length;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const audioHours = samples / 16000 / 3600;
  const ffmpegCpu = (user ?? 0) + (sys ?? 0);
  const result = {
    file: "1 h MP3, 44.1 kHz stereo, 128 kb/s",
    audioHours: round(audioHours, 3),
    chunks,
    ffmpegDecode: { wallSeconds: wall, cpuSeconds: round(ffmpegCpu, 2) },
    decodeAndPlan: { wallSeconds: round(seconds, 2), plannerCpuSeconds: round(nodeCpu, 2) },
    cpuSecondsPerAudioHour: round((ffmpegCpu + nodeCpu) / audioHours, 2),
    audioHoursPerCoreHour: round(3600 / ((ffmpegCpu + nodeCpu) / audioHours), 0),
  };
  log(`decode + VAD: ${JSON.stringify(result)}`);
  return result;
}

// ---------------------------------------------------------------- run
const started = Date.now();
const loadBefore = loadavg().map((n) => round(n, 2));
const redis = await startRedis();
const blobDir = mkdtempSync(join(tmpdir(), "speechflow-bench-queue-"));
const blob = pathToFileURL(blobDir).href;
/** @type {Record<string, unknown>} */
const results = {};
try {
  if (want("stand-in"))
    results.standIn = { note: `fixed-cost stand-in, NOT whisper: each chunk sleeps ${STAND_IN_MS} ms on the worker`, ...(await standIn(redis.url, blob)) };
  if (want("jobs")) results.tinyJobs = await jobsPerSecond(redis.url, blob, redis.pid);
  if (want("engine")) results.engine = await realEngine(redis.url, blob);
  if (want("decode")) results.decodeVad = await decodeAndPlan();
} finally {
  redis.stop();
  rmSync(blobDir, { recursive: true, force: true });
}
const date = new Date().toISOString().slice(0, 10);
const redisVersion = execFileSync("redis-server", ["--version"], { encoding: "utf8" }).match(/v=(\S+)/)?.[1];
const meta = {
  date,
  cpu: cpuName(),
  cores: availableParallelism(),
  node: process.version,
  redis: redisVersion,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg().map((n) => round(n, 2)),
};
const file = join(root, "bench", "results", ONLY ? `queue-${date}-partial.json` : `queue-${date}.json`);
writeFileSync(file, `${JSON.stringify({ ...meta, totalSeconds: round((Date.now() - started) / 1000), ...results }, null, 2)}\n`);
log(`wrote ${file} in ${round((Date.now() - started) / 1000)} s`);
