#!/usr/bin/env node
// npm run bench:vad [-- --baseline-planner PATH/TO/chunk-planner.js]
//
// The two VADs (Silero through sherpa-onnx, and the energy VAD) on speech whose speech spans are
// known: espeak-ng sentences put one after the other with known pauses (0.4 to 3.5 s, and two long
// silences), mixed with white, pink and brown noise and music-like tones (sox) at 20, 10 and 5 dB
// SNR. For each condition and VAD: frame-level (10 ms) precision, recall and F1 of the audio the
// planner sends to whisper against the true speech, the seconds sent and the chunks (30 s
// windows). Then the average window fill (audio seconds per chunk / 30) on dense speech.
// `--baseline-planner` measures another build's planner beside this one (its energy VAD) for the
// before/after of the fill. Results: bench/results/vad-<date>.json; docs/BENCHMARKS.md is
// regenerated (bench/report.mjs). Needs espeak-ng, sox and the compiled dist/ (npm run build).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { ChunkPlanner } = await import(pathToFileURL(join(root, "dist/chunking/chunk-planner.js")).href);
const { SileroClassifier, sileroModelPath, sileroSettingsText } = await import(pathToFileURL(join(root, "dist/chunking/silero-vad.js")).href);
const baselineAt = process.argv.indexOf("--baseline-planner");
const sileroAt = process.argv.indexOf("--silero");
/** `--silero '{"threshold":0.3}'`: try other Silero settings (tuning) */
const sileroSettings = sileroAt > 0 ? JSON.parse(process.argv[sileroAt + 1] ?? "{}") : {};
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? "") : "";
const Baseline = baselineAt > 0 ? (await import(pathToFileURL(process.argv[baselineAt + 1] ?? "").href)).ChunkPlanner : undefined;

const SR = 16000;
const PLAN = { maxChunkSeconds: 30, skipSilenceSeconds: 1.5, silenceThresholdDb: -50 };
const SENTENCES = [
  "Good morning everyone, let's get started with the weekly planning meeting.",
  "The first item on the agenda is the release schedule for the next quarter.",
  "We moved the deadline by two weeks because the testing took longer than expected.",
  "Does anyone have questions about the budget before we continue?",
  "I think we should talk to the design team about the new layout.",
  "Yes, and the customer feedback from last month was mostly positive.",
  "Please send me the numbers by Friday so that I can prepare the report.",
  "The server migration is finished, and the old machines can be switched off.",
  "Thank you all, that's everything for today, see you next week.",
  "One more thing: the office will be closed on Monday for maintenance.",
];
const VOICES = ["en-us", "en", "en-us+f3", "en+m3", "en-us+f2"];
/** pause after each sentence, seconds: short pauses, medium, and two long silences (12 s, 25 s) */
const PAUSES = [0.4, 1.2, 0.6, 3.5, 0.8, 12, 0.5, 2.0, 25, 1.0, 0.7, 1.6, 0.4, 3.0, 0.9];
const NOISES = ["white", "pink", "brown", "tones"];
const SNRS = [20, 10, 5];

const work = mkdtempSync(join(tmpdir(), "speechflow-vad-"));

/** @param {string} file @param {string[]} [pre] */
function readF32(file, pre = []) {
  const out = execFileSync("sox", [...pre, file, "-t", "f32", "-r", String(SR), "-c", "1", "-"], { maxBuffer: 1 << 30 });
  return new Float32Array(out.buffer, out.byteOffset, out.length / 4).slice();
}

/** Sentences with pauses; `speech` marks the samples between each clip's first and last audible sample. */
function meeting() {
  const parts = [];
  for (let i = 0; i < PAUSES.length; i++) {
    const wav = join(work, `s${i}.wav`);
    execFileSync("espeak-ng", ["-v", VOICES[i % VOICES.length] ?? "en", "-s", String(150 + (i % 4) * 15), "-w", wav, SENTENCES[i % SENTENCES.length] ?? ""]);
    const clip = readF32(wav);
    let first = 0;
    let last = clip.length - 1;
    while (first < clip.length && Math.abs(clip[first] ?? 0) < 1e-3) first++;
    while (last > first && Math.abs(clip[last] ?? 0) < 1e-3) last--;
    parts.push({ pcm: clip.subarray(first, last + 1), pause: PAUSES[i] ?? 1 });
  }
  const total = parts.reduce((n, p) => n + p.pcm.length + Math.round(p.pause * SR), Math.round(1.0 * SR));
  const pcm = new Float32Array(total);
  const speech = new Uint8Array(total);
  let at = Math.round(1.0 * SR);
  for (const p of parts) {
    pcm.set(p.pcm, at);
    speech.fill(1, at, at + p.pcm.length);
    at += p.pcm.length + Math.round(p.pause * SR);
  }
  return { pcm, speech };
}

/** @param {string} kind @param {number} seconds */
function noise(kind, seconds) {
  const file = join(work, `${kind}.f32`);
  const synth =
    kind === "tones"
      ? // a chord that changes every 2 s with a slow tremolo: sustained harmonic sound, as music is
        ["synth", String(seconds), "sine", "220-330", "sine", "277-415", "sine", "330-494", "tremolo", "3", "40"]
      : ["synth", String(seconds), `${kind}noise`];
  execFileSync("sox", ["-R", "-n", "-r", String(SR), "-c", "1", "-t", "f32", file, ...synth]);
  return readF32(file, ["-t", "f32", "-r", String(SR), "-c", "1"]);
}

/** @param {Float32Array} x @param {Uint8Array} [mask] */
function rms(x, mask) {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++)
    if (!mask || mask[i]) {
      sum += (x[i] ?? 0) ** 2;
      n++;
    }
  return Math.sqrt(sum / Math.max(1, n));
}

/** Speech plus noise scaled so that speech power / noise power = snr dB. */
function mix(/** @type {Float32Array} */ pcm, /** @type {Uint8Array} */ speech, /** @type {Float32Array} */ n, /** @type {number} */ snr) {
  const gain = rms(pcm, speech) / (rms(n) * 10 ** (snr / 20));
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) + (n[i % n.length] ?? 0) * gain;
  return out;
}

/** @param {any} planner @param {Float32Array} pcm */
function plan(planner, pcm) {
  const chunks = [];
  for (let i = 0; i < pcm.length; i += 8192) chunks.push(...planner.push(pcm.subarray(i, i + 8192)));
  chunks.push(...planner.finish());
  return chunks.map((/** @type {any} */ c) => c.spans);
}

/** @param {string} vad @param {Float32Array} pcm */
function runVad(vad, pcm) {
  const started = performance.now();
  const planner =
    vad === "silero"
      ? new ChunkPlanner({ ...PLAN, classifier: new SileroClassifier(sileroModelPath(), sileroSettings) })
      : new (vad === "baseline" ? Baseline : ChunkPlanner)(PLAN);
  const spans = plan(planner, pcm);
  return { spans, ms: performance.now() - started };
}

/** Frame-level (10 ms) scores of the spans sent against the true speech. */
function score(/** @type {{start: number, end: number}[][]} */ chunks, /** @type {Uint8Array} */ speech) {
  const sent = new Uint8Array(speech.length);
  for (const spans of chunks) for (const s of spans) sent.fill(1, s.start, s.end);
  const hop = SR / 100;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i + hop <= speech.length; i += hop) {
    const truth = speech[i + hop / 2] === 1;
    const got = sent[i + hop / 2] === 1;
    if (truth && got) tp++;
    else if (got) fp++;
    else if (truth) {
      fn++;
      if (process.env.VAD_MISSES) process.stderr.write(`miss ${(i / SR).toFixed(2)} `);
    }
  }
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  const sentSeconds = sent.reduce((n, v) => n + v, 0) / SR;
  const round = (/** @type {number} */ x) => Math.round(x * 1000) / 1000;
  return {
    precision: round(precision),
    recall: round(recall),
    f1: round((2 * precision * recall) / Math.max(1e-9, precision + recall)),
    sentSeconds: round(sentSeconds),
    chunks: chunks.length,
  };
}

function dense() {
  const dir = "/usr/share/pocketsphinx/test/data/librivox";
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".wav"))
    .sort();
  const clips = files.map((f) => readF32(join(dir, f)));
  // back to back, twenty times over: about 8 minutes of reading with only the reader's own pauses
  const parts = Array.from({ length: 20 }, () => clips).flat();
  const pcm = new Float32Array(parts.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of parts) {
    pcm.set(c, at);
    at += c.length;
  }
  return pcm;
}

function fill(/** @type {string} */ vad, /** @type {Float32Array} */ pcm) {
  const { spans } = runVad(vad, pcm);
  const seconds = spans.map((/** @type {{start: number, end: number}[]} */ s) => s.reduce((n, x) => n + x.end - x.start, 0) / SR);
  return { chunks: spans.length, averageFill: Math.round((seconds.reduce((a, b) => a + b, 0) / spans.length / 30) * 1000) / 1000 };
}

const { pcm, speech } = meeting();
const speechSeconds = speech.reduce((n, v) => n + v, 0) / SR;
/** @type {{ noise: string, snr: number | null, scores: Record<string, unknown> }[]} */
const conditions = [{ noise: "none", snr: null, scores: {} }];
for (const kind of NOISES) for (const snr of SNRS) conditions.push({ noise: kind, snr, scores: {} });
const noises = Object.fromEntries(NOISES.map((k) => [k, noise(k, pcm.length / SR + 1)]));
const vads = ["energy", "silero"];
const timing = { energy: 0, silero: 0 };
for (const c of conditions) {
  if (only && c.noise !== only) continue;
  const audio = c.snr === null ? pcm : mix(pcm, speech, /** @type {Float32Array} */ (noises[c.noise]), c.snr);
  for (const vad of vads) {
    const { spans, ms } = runVad(vad, audio);
    timing[/** @type {"energy" | "silero"} */ (vad)] += ms;
    /** @type {any} */ (c.scores)[vad] = score(spans, speech);
  }
  process.stderr.write(`bench:vad ${c.noise} ${c.snr ?? ""}: ${JSON.stringify(c.scores)}\n`);
}
const densePcm = dense();
const denseFill = {
  seconds: Math.round(densePcm.length / SR),
  energy: fill("energy", densePcm),
  silero: fill("silero", densePcm),
  baseline: Baseline ? fill("baseline", densePcm) : undefined,
};
process.stderr.write(`bench:vad dense: ${JSON.stringify(denseFill)}\n`);
rmSync(work, { recursive: true, force: true });

const date = new Date().toISOString().slice(0, 10);
const result = {
  date,
  corpus: {
    seconds: Math.round((pcm.length / SR) * 10) / 10,
    speechSeconds: Math.round(speechSeconds * 10) / 10,
    sentences: PAUSES.length,
    pauses: PAUSES,
  },
  settings: { ...PLAN, frameMs: 10 },
  silero: sileroSettingsText(sileroSettings),
  processingMsPerAudioMinute: Object.fromEntries(
    vads.map((v) => [v, Math.round((timing[/** @type {"energy" | "silero"} */ (v)] / ((conditions.length * pcm.length) / SR)) * 60)]),
  ),
  conditions,
  dense: denseFill,
};
writeFileSync(join(root, "bench", "results", `vad-${date}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stderr.write(`bench:vad: wrote bench/results/vad-${date}.json\n`);
if (readdirSync(join(root, "bench", "results")).some((f) => /^\d{4}-\d\d-\d\d\.json$/.test(f)))
  execFileSync(process.execPath, [join(root, "bench", "report.mjs")], { stdio: "inherit" });
