import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EvalScores } from "../../src/eval/score-dataset.js";
import { type LibriTree, librispeechTree } from "../helpers/librispeech.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";
import { requireSclite, scliteScores } from "../helpers/sclite.js";

let work: string;
let tree: LibriTree;
const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1"];

beforeAll(() => {
  requireSclite();
  work = mkdtempSync(join(tmpdir(), "sf-eval-"));
  tree = librispeechTree(join(work, "LibriSpeech", "test-tiny"));
});

describe("speechflow eval on a LibriSpeech-layout dataset", () => {
  it("transcribes every utterance to <out>/<same path>.txt, scores it, and agrees with sclite", async () => {
    const out = join(work, "out");
    const r = await runCli(["eval", tree.root, "-o", out, "--trn", "--json", ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    for (const id of tree.ids) expect(existsSync(join(out, "103", "1240", `${id}.txt`))).toBe(true);

    const report = JSON.parse(readFileSync(join(out, "wer.json"), "utf8")) as EvalScores & { layout: string };
    expect(report.layout).toBe("librispeech");
    expect(report.utterances).toBe(5);
    expect(report.missing).toBe(0);
    const refWords = [...tree.references.values()].reduce((n, t) => n + t.split(/\s+/).length, 0);
    expect(report.words.ref).toBe(refWords);
    // references are normalised: upper case in the corpus, lower case as scored
    expect(report.files[0]!.reference).toBe(tree.references.get(tree.ids[0]!)!.toLowerCase());

    // the same pairs scored by NIST sclite (the trn files hold the texts as scored)
    const sclite = scliteScores(join(out, "ref.trn"), join(out, "hyp.trn"));
    for (const f of report.files) {
      const s = sclite.perId.get(f.id)!;
      expect({ c: s.correct, s: s.substitutions, d: s.deletions, i: s.insertions }).toEqual({
        c: f.words.correct,
        s: f.words.substitutions,
        d: f.words.deletions,
        i: f.words.insertions,
      });
    }
    expect((report.wer * 100).toFixed(1)).toBe(sclite.werPercent.toFixed(1));

    const evalEnd = parseEvents(r.stdout).find((e) => e.type === "eval-end")!;
    expect(evalEnd.wer).toBeCloseTo(report.wer, 10);
    const md = readFileSync(join(out, "wer.md"), "utf8");
    expect(md).toMatch(/\| WER \| \d+\.\d\d% \| \d+ words/);
    expect(md).toContain("## Worst 5 files");
    expect(md).toContain("103-1240-0000");
  });

  it("--max-wer fails the run with exit 4 (without transcribing again)", async () => {
    const out = join(work, "out");
    const r = await runCli(["eval", tree.root, "-o", out, "--max-wer", "0.15", "--json", ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/WER \d+\.\d\d% is above --max-wer 15\.00%/);
    const events = parseEvents(r.stdout);
    expect(events.filter((e) => e.type === "file-start")).toHaveLength(0);
    expect(events.filter((e) => e.type === "file-skipped")).toHaveLength(5);
    const lenient = await runCli(["eval", tree.root, "-o", out, "--max-wer", "5", "-q", ...base], { cwd: work, env: minimalEnv(work) });
    expect(lenient.code).toBe(0);
  });

  it("--no-normalize scores the raw text, case included", async () => {
    const out = join(work, "out");
    const r = await runCli(["eval", tree.root, "-o", out, "--no-normalize", "--trn", "-q", ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "wer.json"), "utf8")) as EvalScores;
    expect(report.normalized).toBe(false);
    expect(report.files[0]!.reference).toBe(tree.references.get(tree.ids[0]!));
    expect(readFileSync(join(out, "ref.trn"), "utf8")).toContain(`${tree.references.get(tree.ids[0]!)} (${tree.ids[0]})`);
  });

  it("rejects a bad --max-wer and a missing dataset with exit 2", async () => {
    const bad = await runCli(["eval", tree.root, "-o", join(work, "o2"), "--max-wer", "lots", ...base], { cwd: work, env: minimalEnv(work) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-wer expects a rate/);
    const missing = await runCli(["eval", join(work, "nope"), "-o", join(work, "o3"), ...base], { cwd: work, env: minimalEnv(work) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/dataset .*nope does not exist/);
  });
});
