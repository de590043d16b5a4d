import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.js";

/**
 * The layout the README's Development section promises: a folder of src/ imports only from folders
 * above it in this list (type-only imports of record shapes excepted), so a stage never reaches into
 * the ones after it and a newcomer can trust the tree.
 */
const LAYERS = [
  "errors",
  "config",
  "core",
  "blob",
  "inputs",
  "media",
  "chunking",
  "engine",
  "remote",
  "queue",
  "models",
  "store",
  "outputs",
  "summaries",
  "diarization",
  "eval",
  "pipeline",
  "commands",
  "reporters",
  "cli",
  "tools",
];

describe("src/ layering", () => {
  it("every folder is in the list, and no folder imports (values) from a folder below it", () => {
    const src = join(ROOT, "src");
    const folders = readdirSync(src).sort();
    expect(folders).toEqual([...LAYERS].sort());
    const upward: string[] = [];
    for (const folder of folders) {
      for (const file of readdirSync(join(src, folder))) {
        const text = readFileSync(join(src, folder, file), "utf8");
        for (const m of text.matchAll(/^import (type )?[^;]*?from "(\.\.\/[^"]+)"/gms)) {
          if (m[1]) continue;
          const target = relative(src, resolve(src, folder, m[2]!)).split("/")[0]!;
          if (LAYERS.indexOf(target) > LAYERS.indexOf(folder)) upward.push(`${folder}/${file} imports ${target}/`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});
