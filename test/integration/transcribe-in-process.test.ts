import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { transcribeCommand } from "../../src/commands/transcribe.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { SpeechflowEvent } from "../../src/core/events.js";
import type { RunContext, TestSeams } from "../../src/core/run-context.js";
import { sentenceClips } from "../helpers/corpus.js";
import { compose } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";

/**
 * The transcribe command called in-process through its context, as the CLI calls it: decisions
 * (skip, re-render, resume, fail, stop) are checked on real files, real ffmpeg, the real engine and
 * a real SQLite file, without spawning the CLI.
 */
let work: string;
let inputs: string;

async function run(
  out: string,
  options: { seams?: TestSeams; signal?: AbortSignal; flags?: Record<string, unknown>; onEvent?: (e: SpeechflowEvent) => void } = {},
) {
  const { config } = await loadConfig({
    cwd: work,
    env: {},
    flags: { model: MICRO_MODEL_PATH, output: out, temperatureFallback: false, threads: 1, reporter: "json", ...options.flags },
  });
  const events: SpeechflowEvent[] = [];
  const ctx: RunContext = {
    config,
    emit: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
    signal: options.signal ?? new AbortController().signal,
    cwd: work,
    env: { PATH: process.env.PATH },
    seams: options.seams ?? {},
  };
  const summary = await transcribeCommand({ inputs: [inputs], allowModelDownload: false }, ctx);
  return { summary, events, types: events.map((e) => e.type) };
}

const chunkRows = (out: string) => {
  const db = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
  try {
    return db
      .prepare("SELECT f.rel_path AS file, c.idx, c.status, c.commits FROM chunks c JOIN files f ON f.id = c.file_id ORDER BY f.rel_path, c.idx")
      .all() as {
      file: string;
      idx: number;
      status: string;
      commits: number;
    }[];
  } finally {
    db.close();
  }
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-inproc-"));
  inputs = join(work, "in");
  const clips = sentenceClips();
  compose([clips[0]!], join(inputs, "one.wav"));
  compose([clips[1]!, 0.5, clips[2]!], join(inputs, "two.flac"));
});

describe("transcribe in-process", () => {
  it("transcribes, then a re-run skips unchanged files without starting the engine", async () => {
    const out = join(work, "out-skip");
    const first = await run(out);
    expect(first.summary).toMatchObject({ status: "completed", files: 2, done: 2, skipped: 0, failed: 0 });
    expect(first.types).toContain("engine-ready");
    const txt = readFileSync(join(out, "two.txt"), "utf8");
    const again = await run(out);
    expect(again.summary).toMatchObject({ status: "completed", done: 0, skipped: 2, audioMs: 0 });
    expect(again.types).not.toContain("engine-ready");
    expect(readFileSync(join(out, "two.txt"), "utf8")).toBe(txt);
  });

  it("re-renders a deleted output from stored chunks, byte-identical, without the engine", async () => {
    const out = join(work, "out-render");
    await run(out);
    const json = readFileSync(join(out, "one.json"), "utf8");
    rmSync(join(out, "one.json"));
    const again = await run(out);
    expect(again.summary).toMatchObject({ done: 1, skipped: 1 });
    expect(again.types).not.toContain("engine-ready");
    expect(readFileSync(join(out, "one.json"), "utf8")).toBe(json);
  });

  it("a chunk that kills every worker fails its file only; the next run resumes just that file", async () => {
    const out = join(work, "out-chunk");
    const broken = await run(out, { seams: { faults: { abortMark: "two.flac#" } }, flags: { maxAttempts: 2 } });
    expect(broken.summary).toMatchObject({ status: "completed", done: 1, failed: 1 });
    expect(broken.summary.failures).toEqual([
      { file: join(inputs, "two.flac"), code: "CHUNK_FAILED", message: expect.stringMatching(/^chunk 0 \(.*\) failed after 2 attempts: worker crashed/) },
    ]);
    expect(
      chunkRows(out)
        .filter((c) => c.file === "two.flac")
        .map((c) => c.status),
    ).toEqual(["failed"]);
    const fixed = await run(out);
    expect(fixed.summary).toMatchObject({ done: 1, skipped: 1, failed: 0 });
    expect(chunkRows(out).every((c) => c.status === "done" && c.commits === 1)).toBe(true);
    expect(existsSync(join(out, "two.srt"))).toBe(true);
  });

  it("a run stopped mid-file leaves its inputs pending, lists them as interrupted, and the next run finishes them", async () => {
    const out = join(work, "out-stop");
    const controller = new AbortController();
    const stopped = await run(out, { signal: controller.signal, onEvent: (e) => e.type === "file-start" && controller.abort() });
    expect(stopped.summary).toMatchObject({ status: "interrupted", done: 0 });
    const manifest = readFileSync(join(out, "manifest.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: string });
    expect(manifest.map((m) => m.status)).toEqual(["interrupted", "interrupted"]);
    const db = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
    const statuses = db.prepare("SELECT status FROM files").all() as { status: string }[];
    db.close();
    expect(statuses.every((f) => f.status === "pending")).toBe(true);
    const resumed = await run(out);
    expect(resumed.summary).toMatchObject({ status: "completed", done: 2 });
  });

  it("a state database that refuses writes stops the run with a fatal error; the manifest is still written", async () => {
    const out = join(work, "out-dbfull");
    await expect(run(out, { seams: { faults: { dbFullAfter: 0 } } })).rejects.toMatchObject({ code: "STATE_DB_WRITE_FAILED" });
    expect(readFileSync(join(out, "manifest.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);
    expect(chunkRows(out)).toEqual([]);
  });
});
