import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/config-schema.js";
import { configTableMarkdown, eventsJsonSchema, exampleConfigJson, TABLE_END, TABLE_START } from "../../src/tools/generate-docs.js";
import {
  DOC_FILE,
  newestLoadResult,
  type ReliabilityRow,
  ROWS_FILE,
  readCommittedRows,
  reliabilityMarkdown,
  rowsJson,
  stableRow,
  stableText,
} from "../../src/tools/generate-reliability.js";
import { ROOT } from "../helpers/paths.js";

describe("files generated from the config schema", () => {
  it("speechflow.config.example.json matches the schema (run npm run gen:docs)", () => {
    expect(readFileSync(join(ROOT, "speechflow.config.example.json"), "utf8")).toBe(exampleConfigJson());
  });

  it("the README settings table matches the schema (run npm run gen:docs)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END)).trim();
    expect(table).toBe(configTableMarkdown());
  });

  it("docs/events.schema.json matches the event schema (run npm run gen:docs)", () => {
    expect(readFileSync(join(ROOT, "docs", "events.schema.json"), "utf8")).toBe(eventsJsonSchema());
  });

  it("the example config is valid and equals the defaults", () => {
    const example = JSON.parse(exampleConfigJson()) as unknown;
    expect(configSchema.parse(example)).toEqual(configSchema.parse({}));
  });

  it("every key has a description and a default", () => {
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      expect(schema.description, key).toBeTruthy();
      expect((schema as unknown as { _zod: { def: { type: string } } })._zod.def.type, key).toBe("default");
    }
  });
});

describe("docs/RELIABILITY.md, generated from committed files only", () => {
  it("matches docs/reliability-rows.json and the newest bench/results/load-*.json (run npm run docs:reliability)", () => {
    expect(readFileSync(join(ROOT, DOC_FILE), "utf8")).toBe(reliabilityMarkdown(readCommittedRows(ROOT), newestLoadResult(ROOT)));
  });

  it("docs/reliability-rows.json is in its canonical form, holds every reliability suite, and no run-dependent value", () => {
    const rows = readCommittedRows(ROOT);
    expect(readFileSync(join(ROOT, ROWS_FILE), "utf8")).toBe(rowsJson(rows));
    // the suites that call recordReliability: test/e2e/fault-injection, kill-and-resume, bad-inputs, batch-runs, test/unit/no-shell
    expect(Object.keys(rows)).toEqual(["bad-inputs", "faults", "security-credentials", "security-static", "worker-faults"]);
    for (const [suite, list] of Object.entries(rows)) {
      expect(list.length, suite).toBeGreaterThan(0);
      for (const row of list) expect(stableRow(row, ["/tmp", "/var/tmp"]), suite).toEqual(row);
    }
  });

  it("masks temporary folders and measured times, and nothing else", () => {
    expect(stableText("exit 1: state database /tmp/sf-faults-GWesg1/bad-9.sqlite is damaged", ["/tmp"])).toBe(
      "exit 1: state database $TMPDIR/sf-faults-XXXXXX/bad-9.sqlite is damaged",
    );
    expect(stableText("exit 143 after 120 ms; second: exit 75 after 1093 ms", ["/tmp"])).toBe("exit 143 after N ms; second: exit 75 after N ms");
    const fixed = "chunk 1 (00:33-01:09) failed after 2 attempts; /tmp/recording.wav; 2 MiB tmpfs, 48 KiB left";
    expect(stableText(fixed, ["/tmp"])).toBe(fixed);
    expect(stableText(stableText("after 5 ms in /tmp/sf-bad-abcdef", ["/tmp"]), ["/tmp"])).toBe("after N ms in $TMPDIR/sf-bad-XXXXXX");
  });

  it("reports a case that did not run as skipped, never as passed", () => {
    const row = (over: Partial<ReliabilityRow>): ReliabilityRow =>
      ({ area: "bad input", case: "c", expected: "e", observed: "o", pass: true, ...over }) as ReliabilityRow;
    const doc = reliabilityMarkdown(
      { s: [row({}), row({ case: "not run", pass: undefined, skipped: "as root" }), row({ case: "broken", pass: false })] },
      undefined,
    );
    expect(doc).toContain("Totals: 3 cases, 1 as expected, 1 skipped (not run), 1 NOT as expected.");
    expect(doc).toContain("| 2 | not run | e | not run: as root | skipped |");
    expect(doc).toContain("| 3 | broken | e | o | ✗ |");
  });
});
