import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyPatch, whisperCppPatches } from "../../scripts/whisper-cpp-patches.mjs";
import { ROOT } from "../helpers/paths.js";

// The install (scripts/build-engine.mjs) patches whisper.cpp inside smart-whisper's folder; the
// bench takes the patches back out to build the stock CLI it compares against.
const tree = join(ROOT, "node_modules", "smart-whisper", "whisper.cpp");
const installed = (file: string) => readFileSync(join(tree, file), "utf8");
const count = (text: string, part: string) => text.split(part).length - 1;

/** whisper.cpp's files as smart-whisper ships them: the installed files with every patch taken back out, the last first */
function stockFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const p of [...whisperCppPatches].reverse())
    files.set(
      p.file,
      (files.get(p.file) ?? installed(p.file)).replace(p.to, () => p.from),
    );
  return files;
}

describe("the patches to whisper.cpp", () => {
  it("are each in the installed tree once, and taken out they leave whisper.cpp's own code", () => {
    for (const p of whisperCppPatches) expect(count(installed(p.file), p.to), p.name).toBe(1);
    for (const [file, text] of stockFiles()) expect(text.includes("speechflow"), file).toBe(false);
  });

  it("applied to whisper.cpp's code give the installed tree, and applied again change nothing", () => {
    const files = stockFiles();
    for (const p of whisperCppPatches) {
      expect(count(files.get(p.file)!, p.from), p.name).toBe(1);
      files.set(p.file, applyPatch(files.get(p.file)!, p)!);
    }
    for (const [file, text] of files) expect(text === installed(file), file).toBe(true);
    for (const p of whisperCppPatches) expect(applyPatch(files.get(p.file)!, p), p.name).toBe(files.get(p.file));
  });

  it("upgrade a tree that an earlier speechflow patched (npm keeps smart-whisper's folder across upgrades)", () => {
    const stock = stockFiles();
    const upgraded = whisperCppPatches.filter((p) => p.earlier !== undefined);
    expect(upgraded.map((p) => p.name)).toContain("encoder-attention-memory");
    for (const p of upgraded) {
      for (const earlier of p.earlier!) {
        const before = stock.get(p.file)!.replace(p.from, () => earlier);
        expect(before.includes(p.applied), p.name).toBe(false);
        expect(applyPatch(before, p) === stock.get(p.file)!.replace(p.from, () => p.to), p.name).toBe(true);
      }
    }
  });

  it("report a patch whose code is not there", () => {
    expect(applyPatch("int main() { return 0; }\n", whisperCppPatches[0]!)).toBeUndefined();
  });
});
