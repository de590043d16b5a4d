import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/eval/load-dataset.js";
import { sentenceClips } from "../helpers/corpus.js";

let work: string;
let clip: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-layout-"));
  clip = sentenceClips()[0]!;
});

const place = (path: string) => {
  mkdirSync(join(path, ".."), { recursive: true });
  copyFileSync(clip, path);
};

describe("loadDataset", () => {
  it("reads LibriSpeech trans.txt files and reports a listed utterance without audio", async () => {
    const root = join(work, "libri");
    place(join(root, "19", "198", "19-198-0001.flac"));
    writeFileSync(join(root, "19", "198", "19-198.trans.txt"), "19-198-0001 HELLO THERE\n19-198-0002 NO AUDIO FOR ME\n");
    const d = await loadDataset(root);
    expect(d.layout).toBe("librispeech");
    expect(d.utterances).toEqual([
      { id: "19-198-0001", audio: join(root, "19", "198", "19-198-0001.flac"), relPath: "19/198/19-198-0001.flac", reference: "HELLO THERE" },
    ]);
    expect(d.problems).toEqual([
      { item: join(root, "19", "198", "19-198-0002.flac"), message: "no audio for utterance 19-198-0002 listed in 19-198.trans.txt" },
    ]);
  });

  it("reads ref.tsv (header optional) and reports malformed lines", async () => {
    const root = join(work, "tsv");
    place(join(root, "a", "one.wav"));
    writeFileSync(join(root, "ref.tsv"), "audio\ttext\na/one.wav\tthe first one\nbroken line\n");
    const d = await loadDataset(root);
    expect(d.layout).toBe("tsv");
    expect(d.utterances.map((u) => [u.relPath, u.reference])).toEqual([["a/one.wav", "the first one"]]);
    expect(d.problems).toEqual([{ item: "ref.tsv:3", message: "expected: audio path, a tab, the reference text" }]);
  });

  it("pairs audio with a .txt beside it, and lists audio without one", async () => {
    const root = join(work, "beside");
    place(join(root, "x.wav"));
    writeFileSync(join(root, "x.txt"), "beside text\n");
    place(join(root, "sub", "y.wav"));
    const d = await loadDataset(root);
    expect(d.layout).toBe("beside");
    expect(d.utterances.map((u) => [u.relPath, u.reference.trim()])).toEqual([["x.wav", "beside text"]]);
    expect(d.problems[0]!.message).toBe("no reference text (expected y.txt beside it)");
  });

  it("reads a JSONL manifest; audio outside its folder still gets an output path inside", async () => {
    const root = join(work, "manifest");
    place(join(root, "clips", "c.wav"));
    place(join(work, "outside.wav"));
    const manifest = join(root, "test.jsonl");
    writeFileSync(
      manifest,
      [
        JSON.stringify({ audio: "clips/c.wav", text: "in here" }),
        JSON.stringify({ audio: "../outside.wav", text: "out there", id: "o1" }),
        "{not json",
        JSON.stringify({ audio: 3 }),
      ].join("\n"),
    );
    const d = await loadDataset(manifest);
    expect(d.layout).toBe("jsonl");
    expect(d.utterances.map((u) => [u.id, u.relPath])).toEqual([
      ["clips/c.wav", "clips/c.wav"],
      ["o1", "__/outside.wav"],
    ]);
    expect(d.problems.map((p) => p.item)).toEqual(["test.jsonl:3", "test.jsonl:4"]);
  });

  it("refuses a folder with nothing to score", async () => {
    const root = join(work, "empty");
    mkdirSync(root, { recursive: true });
    await expect(loadDataset(root)).rejects.toThrow(/no audio with reference texts found/);
  });
});
