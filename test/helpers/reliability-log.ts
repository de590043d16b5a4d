import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ReliabilityRow, stableRow } from "../../src/tools/generate-reliability.js";
import { ARTIFACTS } from "./paths.js";

export type { ReliabilityRow };

/**
 * Rows for docs/RELIABILITY.md: each reliability test records what it tried, what it expected and
 * what it saw (`pass`), or that a case did not run (`skipped`: the reason; never counted as passed).
 * Temporary folders and measured times are masked here so that the rows, and the document
 * `npm run docs:reliability` makes from test/.artifacts/reliability/*.json, are the same on every run.
 */
export function recordReliability(suite: string, rows: ReliabilityRow[]): void {
  const dir = join(ARTIFACTS, "reliability");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${suite}.json`),
    JSON.stringify(
      rows.map((r) => stableRow(r)),
      null,
      2,
    ) + "\n",
  );
}
