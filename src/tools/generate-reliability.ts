/**
 * docs/RELIABILITY.md from what the reliability tests record and the newest
 * bench/results/load-<date>.json.
 *
 * The tests (test/e2e/fault-injection, kill-and-resume, bad-inputs, batch-runs and test/unit/no-shell)
 * write their rows to test/.artifacts/reliability/<suite>.json. `npm run docs:reliability` (after
 * `npm test`) merges those into docs/reliability-rows.json, suite by suite (a suite that did not run
 * keeps its committed rows), and renders the Markdown from that file alone, so the document is a pure
 * function of committed files: test/unit/generated-docs.test.ts re-renders it and fails on any
 * difference. Rows hold no run-dependent values (temporary folders, measured times: see stableText),
 * so regenerating after another run gives the same bytes unless an outcome changed.
 * `-- --check` writes nothing and exits 1 when either file would change.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface RowBase {
  area: "fault" | "bad input" | "security" | "load";
  case: string;
  expected: string;
  observed: string;
}
/** A case that ran; `pass` says whether the outcome was the expected one. */
interface RanRow extends RowBase {
  pass: boolean;
  skipped?: undefined;
}
/** A case that did not run, with the reason. Never counted as passed. */
interface SkippedRow extends RowBase {
  skipped: string;
  pass?: undefined;
}
export type ReliabilityRow = RanRow | SkippedRow;
/** rows by suite (the file name the test recorded them under) */
export type ReliabilityRows = Record<string, ReliabilityRow[]>;

interface LoadResult {
  date: string;
  cpu: string;
  node: string;
  files: number;
  done: number;
  failed: number;
  wallMs: number;
  mainRssAt25: number;
  mainRssAt50: number;
  mainRssAtEnd: number;
  mainRssPeak: number;
  treeRssPeak: number;
  dbBytes: number;
  perFileOverheadMs: number;
}

export const ROWS_FILE = join("docs", "reliability-rows.json");
export const DOC_FILE = join("docs", "RELIABILITY.md");
const ARTIFACTS_DIR = join("test", ".artifacts", "reliability");

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Takes the run-dependent parts out of an observed text: a folder made by mkdtemp("<prefix>-") under
 * a temp root (`/tmp/sf-faults-GWesg1`) becomes `$TMPDIR/sf-faults-XXXXXX`, a measured time (`after 120 ms`)
 * becomes `N ms`. Idempotent.
 */
export function stableText(text: string, tempRoots: readonly string[] = [tmpdir(), "/tmp"]): string {
  let s = text;
  for (const root of new Set(tempRoots.map((r) => r.replace(/\/+$/, "")).filter((r) => r.length > 1))) {
    s = s.replace(new RegExp(`${escapeRegExp(root)}/([\\w.-]*?-)[A-Za-z0-9]{6}(?=[/\\s"']|$)`, "g"), (_, prefix: string) => `$TMPDIR/${prefix}XXXXXX`);
  }
  return s.replace(/\b\d+ ms\b/g, "N ms");
}

export function stableRow(row: ReliabilityRow, tempRoots?: readonly string[]): ReliabilityRow {
  return { ...row, case: stableText(row.case, tempRoots), expected: stableText(row.expected, tempRoots), observed: stableText(row.observed, tempRoots) };
}

const sortedSuites = (rows: ReliabilityRows): ReliabilityRows => Object.fromEntries(Object.entries(rows).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function rowsJson(rows: ReliabilityRows): string {
  return JSON.stringify(sortedSuites(rows), null, 2) + "\n";
}

export function readCommittedRows(root: string): ReliabilityRows {
  const file = join(root, ROWS_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ReliabilityRows) : {};
}

/** What the last test run recorded, by suite (empty when no reliability test ran). */
export function readRecordedRows(root: string): ReliabilityRows {
  const dir = join(root, ARTIFACTS_DIR);
  if (!existsSync(dir)) return {};
  const rows: ReliabilityRows = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    rows[f.slice(0, -".json".length)] = (JSON.parse(readFileSync(join(dir, f), "utf8")) as ReliabilityRow[]).map((r) => stableRow(r));
  }
  return rows;
}

export function newestLoadResult(root: string): LoadResult | undefined {
  const results = join(root, "bench", "results");
  const file = readdirSync(results)
    .filter((f) => /^load-.*\.json$/.test(f))
    .sort()
    .pop();
  return file ? (JSON.parse(readFileSync(join(results, file), "utf8")) as LoadResult) : undefined;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
// regex sources are recorded as written; show them as the patterns they are
const pattern = (s: string) => s.replace(/\\([/().+?*[\]$^])/g, "$1");
const mark = (r: ReliabilityRow) => (r.skipped !== undefined ? "skipped" : r.pass ? "✓" : "✗");
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;

/** The load benchmark's figures, or a line saying there are none yet. */
function loadSection(load: LoadResult | undefined): string[] {
  if (!load) return ["No load results yet: run `npm run bench:load`.", ""];
  return [
    `\`npm run bench:load\` (${load.date}, ${load.cpu}, Node ${load.node}): ${load.files} short files (2.5 s of espeak-ng speech each, every one with its own bytes) in one run, micro model, 2 workers.`,
    "",
    "| measure | value |",
    "| --- | --- |",
    `| completed | ${load.done} done, ${load.failed} failed, in ${(load.wallMs / 1000).toFixed(0)} s |`,
    `| main process RSS at 25% / 50% / 100% of the files | ${mib(load.mainRssAt25)} / ${mib(load.mainRssAt50)} / ${mib(load.mainRssAtEnd)} (peak ${mib(load.mainRssPeak)}) |`,
    `| whole process tree, peak | ${mib(load.treeRssPeak)} |`,
    `| state database after the run | ${(load.dbBytes / 1048576).toFixed(1)} MiB (${(load.dbBytes / load.files / 1024).toFixed(1)} KiB per file) |`,
    `| time per file outside the engine (wall time minus engine time / 2 workers, per file) | ${load.perFileOverheadMs} ms |`,
    "",
  ];
}

export function reliabilityMarkdown(bySuite: ReliabilityRows, load: LoadResult | undefined): string {
  const rows = Object.values(sortedSuites(bySuite)).flat();
  if (rows.length === 0) throw new Error(`no reliability rows: run npm test, then npm run docs:reliability`);
  const passed = rows.filter((r) => r.skipped === undefined && r.pass).length;
  const skipped = rows.filter((r) => r.skipped !== undefined).length;
  const failed = rows.length - passed - skipped;
  const totals = [`${passed} as expected`, ...(skipped ? [`${skipped} skipped (not run)`] : []), ...(failed ? [`${failed} NOT as expected`] : [])];

  const table = (area: ReliabilityRow["area"]) => {
    const list = rows.filter((r) => r.area === area);
    return [
      "| # | case | expected | observed | |",
      "| ---: | --- | --- | --- | --- |",
      ...list.map(
        (r, i) =>
          `| ${i + 1} | ${cell(r.case)} | ${cell(pattern(r.expected))} | ${cell(r.skipped !== undefined ? `not run: ${r.skipped}` : r.observed)} | ${mark(r)} |`,
      ),
    ].join("\n");
  };

  const lines = [
    "# Reliability",
    "",
    "Generated by `npm run docs:reliability` from the rows the reliability tests record (`test/.artifacts/reliability/`,",
    "kept in `docs/reliability-rows.json`) and the newest `bench/results/load-*.json`. Every row below is an automated",
    "test that runs in CI (`npm test`), except the load figures (`npm run bench:load`, several minutes). ✓: as expected;",
    "✗: not as expected; skipped: the case could not run there (never counted as passed). Values that change from run",
    "to run are masked: temporary folders read `$TMPDIR/<prefix>XXXXXX`, measured times `N ms` (the tests assert their bounds).",
    "",
    `Totals: ${rows.length} cases, ${totals.join(", ")}.`,
    "",
    "## Faults",
    "",
    "test/e2e/fault-injection.test.ts (and test/e2e/kill-and-resume.test.ts for the injected worker aborts:",
    "`SPEECHFLOW_FAULT_ABORT_NTH`, `SPEECHFLOW_FAULT_ABORT_MARK`). Disk-full and read-only cases use a small tmpfs",
    "mounted by the test (CI runs as root); where mounting is refused they fall back to injected ENOSPC/EROFS",
    "(`SPEECHFLOW_FAULT_WRITE_ERROR`), and the row says which was used.",
    "",
    table("fault"),
    "",
    "## Bad inputs",
    "",
    "test/e2e/bad-inputs.test.ts: one run over a folder holding all of them (plus a named pipe given on the command",
    "line), as user `nobody` when the suite runs as root so that permissions are real (where `nobody` cannot start",
    "that Node, the two permission cases are skipped). The run always goes on and exits 3; each failure is printed as",
    "one line naming the file (control characters escaped).",
    "",
    table("bad input"),
    "",
    "## Security",
    "",
    table("security"),
    "",
    "Also covered elsewhere: output paths from URLs (`test/integration/download-url.test.ts`: encoded `../` in a URL",
    "becomes a plain name), the LLM API key (`test/e2e/summaries-pdf.test.ts` reads every file under the output",
    "folder, the state database included, and the CLI output, for the key in UTF-8 and UTF-16), and the key echoed",
    "back in a server's error message (`test/integration/summaries.test.ts`: cut out of the reported error).",
    "",
    "`npm audit --omit=dev`: could not be run on the development machine: its registry mirror answers the audit",
    "endpoint with 405 Method Not Allowed (`POST /-/npm/v1/security/advisories/bulk`). Run it where the public",
    "registry is reachable; the production dependencies are better-sqlite3, chalk, cli-progress, commander,",
    "cosmiconfig, dejavu-fonts-ttf, execa, openai, p-queue, pdfkit, picomatch, smart-whisper and zod (ffmpeg-static",
    "optional).",
    "",
    "## Load",
    "",
  ];
  lines.push(...loadSection(load));
  return lines.join("\n");
}

function main(argv: string[]): number {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const check = argv.includes("--check");
  const committed = readCommittedRows(root);
  const recorded = readRecordedRows(root);
  const kept = Object.keys(committed).filter((suite) => !(suite in recorded));
  const merged = { ...committed, ...recorded };
  const files: [string, string][] = [
    [ROWS_FILE, rowsJson(merged)],
    [DOC_FILE, reliabilityMarkdown(merged, newestLoadResult(root))],
  ];
  const stale = files.filter(([file, text]) => !existsSync(join(root, file)) || readFileSync(join(root, file), "utf8") !== text).map(([file]) => file);
  const note = `recorded by this run: ${Object.keys(recorded).sort().join(", ") || "none"}; kept from ${ROWS_FILE}: ${kept.join(", ") || "none"}`;
  if (check) {
    process.stdout.write(stale.length ? `out of date: ${stale.join(", ")} (${note}); run npm run docs:reliability\n` : `up to date (${note})\n`);
    return stale.length ? 1 : 0;
  }
  for (const [file, text] of files) writeFileSync(join(root, file), text);
  process.stdout.write(`wrote ${files.map(([f]) => f).join(" and ")} (${Object.values(merged).flat().length} cases; ${note})\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
