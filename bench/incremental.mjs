#!/usr/bin/env node
// npm run bench:incremental [-- --files 1000]
//
// The nightly re-run: how long does `speechflow transcribe` take on a folder of N files when
// nothing changed (target: seconds for 1,000 files), when 1% changed, and when 1% is new?
// Files are short clips of real espeak-ng speech copied N times with a different byte in each
// (so every file has its own content hash). Model: the generated micro model (the engine's cost is
// not what this measures). Results: bench/results/incremental-<date>.json.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuName, filesArg, manyFiles, root, transcribeArgs } from "./many-files.mjs";

const N = filesArg(1000);
/** @param {string} m */
const log = (m) => process.stderr.write(`bench:incremental: ${m}\n`);
const { model, input, out, variant, fileOf } = await manyFiles({ name: "incremental", files: N, perDir: 100, sentence: "The nightly job only does new work." });

/** @param {string} label */
const run = (label) => {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, transcribeArgs(input, out, model), { encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const end = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((e) => e.type === "run-end");
  if (r.status !== 0 || !end) throw new Error(`${label}: exit ${r.status}\n${r.stderr}`);
  log(`${label}: ${(ms / 1000).toFixed(2)} s (done ${end.done}, unchanged ${end.skipped}, failed ${end.failed})`);
  return { label, wallMs: Math.round(ms), done: end.done, skipped: end.skipped, failed: end.failed };
};

const results = [];
results.push(run(`first run, ${N} files`));
for (let k = 0; k < 3; k++) results.push(run(`re-run, nothing changed (${k + 1})`));
const changed = Math.max(1, Math.round(N / 100));
for (let i = 0; i < changed; i++) writeFileSync(fileOf((i * 97) % N), variant((i * 97) % N, 1));
results.push(run(`re-run, ${changed} changed`));
for (let i = 0; i < changed; i++) writeFileSync(join(input, "d00", `new${i}.wav`), variant(N + i));
results.push(run(`re-run, ${changed} new`));
const dbBytes = ["", "-wal"]
  .map((s) => join(out, ".speechflow", `state.sqlite${s}`))
  .filter(existsSync)
  .reduce((n, p) => n + readFileSync(p).length, 0);

const date = new Date().toISOString().slice(0, 10);
const file = join(root, "bench", "results", `incremental-${date}.json`);
const cpu = cpuName();
writeFileSync(file, JSON.stringify({ date, files: N, cpu, node: process.version, dbBytes, runs: results }, null, 2) + "\n");
log(`wrote ${file}`);
