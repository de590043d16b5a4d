#!/usr/bin/env node
// npm run bench:load [-- --files 2000]
//
// 2,000 short files in one run: does it complete, does memory stay flat, how big does the state
// database get, and what does each file cost outside the engine? The main process's RSS is
// sampled every 250 ms from /proc; the whole tree's at the same time. Micro model, 2 workers.
// Results: bench/results/load-<date>.json (and docs/RELIABILITY.md via npm run docs:reliability).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuName, filesArg, manyFiles, root, transcribeArgs } from "./many-files.mjs";

const N = filesArg(2000);
/** @param {string} m */
const log = (m) => process.stderr.write(`bench:load: ${m}\n`);
const { model, input, out } = await manyFiles({ name: "load", files: N, perDir: 200, sentence: "Two thousand files in one run." });

/** @param {number | undefined} pid */
const rssOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
/** @param {number | undefined} pid */
const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

const started = Date.now();
const child = spawn(process.execPath, transcribeArgs(input, out, model), { stdio: ["ignore", "pipe", "inherit"] });
/** @type {{ t: number, files: number, mainRss: number, treeRss: number }[]} */
const samples = [];
let engineMs = 0;
let filesDone = 0;
let buffer = "";
/** @type {{ done: number, failed: number } | undefined} */
let end;
child.stdout.setEncoding("utf8").on("data", (d) => {
  buffer += d;
  for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
    const e = JSON.parse(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    if (e.type === "chunk-done") engineMs += e.elapsedMs;
    if (e.type === "file-done") filesDone++;
    if (e.type === "run-end") end = e;
  }
});
const timer = setInterval(() => {
  const main = rssOf(child.pid);
  const tree = main + childrenOf(child.pid).reduce((n, p) => n + rssOf(p), 0);
  if (main > 0) samples.push({ t: Date.now() - started, files: filesDone, mainRss: main, treeRss: tree });
}, 250);
const code = await new Promise((r) => child.on("close", r));
clearInterval(timer);
const wallMs = Date.now() - started;
if (code !== 0 || !end) throw new Error(`exit ${code}`);
const last = samples.at(-1);
if (!last) throw new Error("no memory samples were taken");
const dbBytes = ["", "-wal"]
  .map((s) => join(out, ".speechflow", `state.sqlite${s}`))
  .filter(existsSync)
  .reduce((n, p) => n + statSync(p).size, 0);
// memory growth: main-process RSS at 25% of the files vs at the end
/** @param {number} fraction */
const at = (fraction) => samples.find((s) => s.files >= N * fraction) ?? last;
const result = {
  date: new Date().toISOString().slice(0, 10),
  cpu: cpuName(),
  node: process.version,
  files: N,
  wallMs,
  done: end.done,
  failed: end.failed,
  engineMs,
  // the engine runs on 2 workers in parallel: its share of wall time is engineMs / 2
  perFileOverheadMs: Math.round((wallMs - engineMs / 2) / N),
  dbBytes,
  mainRssAt25: at(0.25).mainRss,
  mainRssAt50: at(0.5).mainRss,
  mainRssAtEnd: last.mainRss,
  mainRssPeak: Math.max(...samples.map((s) => s.mainRss)),
  treeRssPeak: Math.max(...samples.map((s) => s.treeRss)),
  samples: samples.filter((_, i) => i % 20 === 0),
};
/** @param {number} b */
const mb = (b) => (b / 1048576).toFixed(0);
log(
  `${N} files in ${(wallMs / 1000).toFixed(0)} s; done ${end.done}, failed ${end.failed}; DB ${(dbBytes / 1048576).toFixed(1)} MiB; main RSS ${mb(result.mainRssAt25)} MiB at 25%, ${mb(result.mainRssAt50)} at 50%, ${mb(result.mainRssAtEnd)} at the end (peak ${mb(result.mainRssPeak)}); tree peak ${mb(result.treeRssPeak)} MiB; ${result.perFileOverheadMs} ms per file outside the engine`,
);
writeFileSync(join(root, "bench", "results", `load-${result.date}.json`), JSON.stringify(result, null, 2) + "\n");
