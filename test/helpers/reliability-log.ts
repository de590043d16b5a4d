import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS } from "./paths.js";

export interface ReliabilityRow {
  area: "fault" | "bad input" | "security" | "load";
  case: string;
  expected: string;
  observed: string;
  pass: boolean;
}

/**
 * Rows for docs/RELIABILITY.md: each reliability test records what it tried, what it expected and
 * what it saw; `npm run docs:reliability` turns test/.artifacts/reliability/*.json into the table.
 */
export function recordReliability(suite: string, rows: ReliabilityRow[]): void {
  const dir = join(ARTIFACTS, "reliability");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suite}.json`), JSON.stringify(rows, null, 2) + "\n");
}
