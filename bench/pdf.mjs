#!/usr/bin/env node
// npm run bench:pdf
//
// Renders per-file PDF reports for transcripts of 30 minutes, 3 hours and 9 hours (a segment
// every 4 s, 110 characters of mixed-language text each) in separate processes, and records wall
// time, pages, file size and peak RSS. pdfkit runs without bufferPages, so finished pages are
// flushed to disk; memory should not grow with the length. Results: bench/results/pdf-<date>.json.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, "bench", "work", "pdf");
mkdirSync(work, { recursive: true });

if (process.argv[2] === "--child") {
  const hours = Number(process.argv[3]);
  /** @type {typeof import("../src/outputs/render-pdf.js")} */
  const { drawTranscriptReport, resolvePdfFonts, writePdfAtomic } = await import(join(root, "dist", "outputs", "render-pdf.js"));
  const texts = [
    "We went through the budget for the next quarter and agreed to move the release to Thursday.",
    "Le café de la gare ouvre à sept heures; déjà plein d'élèves qui révisent leurs examens.",
    "Привет, встреча начинается в десять часов, и мы обсудим план выпуска и бюджет.",
    "Η συνάντηση ξεκινά στις δέκα και θα συζητήσουμε το σχέδιο κυκλοφορίας σήμερα.",
  ];
  const n = Math.round((hours * 3600) / 4);
  const segments = Array.from({ length: n }, (_, i) => ({
    id: i,
    start: i * 4000,
    end: i * 4000 + 3500,
    text: /** @type {string} */ (texts[i % texts.length]),
  }));
  const chapters = Array.from({ length: Math.max(1, Math.round(hours * 6)) }, (_, k) => ({
    title: `Chapter ${k + 1}`,
    startMs: Math.round((k * hours * 3600000) / Math.max(1, Math.round(hours * 6))),
  }));
  /** @type {import("../src/summaries/summary-schema.js").SummaryRecord} */
  const summary = {
    title: `${hours} h meeting`,
    summary: texts.join(" "),
    keyPoints: texts,
    actionItems: [{ text: "Follow up", owner: "Ana" }],
    chapters,
    language: "en",
    kind: "llm",
    model: "bench",
    endpoint: null,
    length: "medium",
    promptVersion: 1,
    usage: { calls: 0, promptTokens: 0, completionTokens: 0 },
    createdAt: new Date().toISOString(),
  };
  const target = join(work, `report-${hours}h.pdf`);
  const started = process.hrtime.bigint();
  await writePdfAtomic(
    target,
    join(work, "tmp"),
    (doc) =>
      drawTranscriptReport(doc, summary, segments, {
        source: `${hours}h.wav`,
        durationMs: hours * 3600000,
        model: "bench",
        language: "en",
        date: "2026-11-26",
      }),
    { title: summary.title, subject: "bench" },
    resolvePdfFonts(""),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(
    JSON.stringify({
      hours,
      segments: n,
      wallMs: Math.round(ms),
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      bytes: statSync(target).size,
      target,
    }) + "\n",
  );
  process.exit(0);
}

const results = [];
for (const hours of [0.5, 3, 9]) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", String(hours)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const row = JSON.parse(r.stdout);
  const pages = /Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [row.target]).toString());
  if (!pages) throw new Error(`pdfinfo found no page count in ${row.target}`);
  row.pages = Number(pages[1]);
  delete row.target;
  results.push(row);
  process.stderr.write(
    `bench:pdf: ${hours} h: ${row.pages} pages, ${(row.bytes / 1048576).toFixed(1)} MiB in ${(row.wallMs / 1000).toFixed(1)} s, peak RSS ${row.maxRssMiB} MiB\n`,
  );
}
const date = new Date().toISOString().slice(0, 10);
const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1];
writeFileSync(join(root, "bench", "results", `pdf-${date}.json`), JSON.stringify({ date, cpu, node: process.version, results }, null, 2) + "\n");
