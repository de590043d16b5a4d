import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Every command starts by loading src/cli/main.ts and what it imports. BullMQ + ioredis, the OpenAI
// SDK and pdfkit took ~0.7 s of a 1 s start (`speechflow --version`); they are imported where a run
// asks for them (queue, remote engine, summaries, PDF). This walks the static imports (not
// `import type`, not `await import()`) from the entry point and fails if one of them is reachable.
const HEAVY = ["bullmq", "ioredis", "openai", "pdfkit", "@aws-sdk/client-s3"];
const root = resolve(import.meta.dirname, "..", "..");

function staticImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+"([^"]+)";/gms)) specs.push(m[1]!);
  for (const m of source.matchAll(/^export\s+(?!type\s)[^;]*?from\s+"([^"]+)";/gms)) specs.push(m[1]!);
  return specs;
}

function reachablePackages(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const stack = [entry];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith(".")) stack.push(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (!spec.startsWith("node:")) packages.set(spec, packages.get(spec) ?? file.slice(root.length + 1));
    }
  }
  return packages;
}

describe("start-up imports", () => {
  it("finds the packages the entry point loads (the walk works)", () => {
    const packages = reachablePackages(join(root, "src", "cli", "main.ts"));
    expect([...packages.keys()]).toEqual(expect.arrayContaining(["commander", "zod", "better-sqlite3"]));
  });

  it("loads no queue, remote, LLM or PDF library before a command asks for it", () => {
    const packages = reachablePackages(join(root, "src", "cli", "main.ts"));
    const loaded = HEAVY.filter((p) => packages.has(p)).map((p) => `${p} (from ${packages.get(p)})`);
    expect(loaded).toEqual([]);
  });
});
