import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { sentenceClips } from "../helpers/corpus.js";
import { compose, ffmpeg, speak } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";

let work: string;
let rec: string;
const FORMATS = ["txt", "srt", "vtt", "json"];
const GOOD = ["a/b/talk one", "Ünïcödé dir/café", "video clip", "top"];

function srtTimes(srt: string): number[][] {
  return [...srt.matchAll(/(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})/g)].map((m) => {
    const t = (h: string, mi: string, s: string, ms: string) => ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + Number(ms);
    return [t(m[1]!, m[2]!, m[3]!, m[4]!), t(m[5]!, m[6]!, m[7]!, m[8]!)];
  });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-messy-"));
  rec = join(work, "recordings");
  const clips = sentenceClips();
  mkdirSync(join(rec, "a", "b"), { recursive: true });
  mkdirSync(join(rec, "Ünïcödé dir"), { recursive: true });
  mkdirSync(join(rec, "bad"), { recursive: true });
  compose([clips[0]!, 2, clips[1]!, 0.5, clips[2]!], join(rec, "a", "b", "talk one.mp3"), ["-b:a", "64k"]);
  compose([clips[3]!, 1, clips[4]!], join(rec, "Ünïcödé dir", "café.m4a"), ["-c:a", "aac"]);
  const speech = speak("This sentence is the sound track of a short video clip.", join(work, "v.wav"));
  ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "color=c=blue:s=160x120:r=10",
    "-i",
    speech,
    "-shortest",
    "-c:v",
    "libx264",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    join(rec, "video clip.mp4"),
  ]);
  compose([2, clips[5]!, 40, clips[6]!], join(rec, "top.flac"));
  // bad inputs
  writeFileSync(join(rec, "bad", "empty.wav"), "");
  const full = compose([clips[7]!, 1, clips[8]!, 1, clips[9]!], join(work, "full.mp3"), ["-b:a", "64k"]);
  const bytes = readFileSync(full);
  writeFileSync(join(rec, "bad", "truncated.mp3"), bytes.subarray(0, Math.floor(bytes.length * 0.3)));
  writeFileSync(join(rec, "bad", "notes.wav"), "meeting notes, not audio\n");
  // skipped: hidden file, non-media file, symlink loop
  copyFileSync(join(rec, "top.flac"), join(rec, ".hidden.flac"));
  writeFileSync(join(rec, "readme.txt"), "not media");
  symlinkSync("..", join(rec, "a", "loop"));
});

describe("speechflow transcribe on a messy folder (built CLI, real ffmpeg + whisper.cpp)", () => {
  let result: Awaited<ReturnType<typeof runCli>>;
  let out: string;

  beforeAll(async () => {
    out = join(work, "transcripts");
    result = await runCli(["transcribe", rec, "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1"], {
      cwd: work,
      env: minimalEnv(work),
    });
  });

  it("exits 3 because some inputs failed", () => {
    expect(result.stderr).not.toMatch(/Error:|at .*\.js:\d+/);
    expect(result.code).toBe(3);
  });

  it("writes every format for every good file, mirroring the input tree", () => {
    for (const stem of GOOD) for (const f of FORMATS) expect(existsSync(join(out, `${stem}.${f}`)), `${stem}.${f}`).toBe(true);
  });

  it("names each bad file with its cause on stderr", () => {
    const lines = result.stderr.split("\n");
    const line = (name: string) => lines.find((l) => l.includes("✗") && l.includes(name)) ?? "";
    expect(line("empty.wav")).toMatch(/empty file \(0 bytes\)/);
    expect(line("truncated.mp3")).toMatch(/truncated or damaged: decoded .* of the .* s its header declares/);
    expect(line("notes.wav")).toMatch(/not a readable audio\/video file \(ffmpeg: Invalid data found/);
    for (const bad of ["empty", "truncated", "notes"]) for (const f of FORMATS) expect(existsSync(join(out, "bad", `${bad}.${f}`))).toBe(false);
  });

  it("skips hidden and non-media files and survives the symlink loop", () => {
    expect(existsSync(join(out, ".hidden.txt"))).toBe(false);
    expect(existsSync(join(out, "readme.txt"))).toBe(false);
    expect(result.stderr).toMatch(/7 files, 4 done, 0 unchanged, 3 failed/);
    expect(result.stderr).not.toMatch(/hidden|readme/);
  });

  it("writes json with metadata and ordered segments inside the file's duration", () => {
    for (const stem of GOOD) {
      const json = JSON.parse(readFileSync(join(out, `${stem}.json`), "utf8")) as {
        durationMs: number;
        model: { name: string };
        tool: { version: string };
        settings: Record<string, unknown>;
        segments: { start: number; end: number; text: string }[];
      };
      expect(json.durationMs).toBeGreaterThan(1000);
      expect(json.tool.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(json.settings.language).toBe("auto");
      expect(json.segments.length).toBeGreaterThan(0);
      let last = 0;
      for (const s of json.segments) {
        expect(s.start).toBeGreaterThanOrEqual(last);
        expect(s.end).toBeGreaterThanOrEqual(s.start);
        expect(s.end).toBeLessThanOrEqual(json.durationMs);
        expect(s.text.length).toBeGreaterThan(0);
        last = s.end;
      }
      const srt = srtTimes(readFileSync(join(out, `${stem}.srt`), "utf8"));
      expect(srt.length).toBeGreaterThan(0);
      for (let i = 1; i < srt.length; i++) expect(srt[i]![0]!).toBeGreaterThanOrEqual(srt[i - 1]![1]!);
    }
  });

  it("does not transcribe the 40 s silence of top.flac", () => {
    const db = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
    const row = db
      .prepare(
        "SELECT f.duration_ms AS duration, SUM(c.audio_ms) AS sent, GROUP_CONCAT(c.spans, ';') AS spans FROM files f JOIN chunks c ON c.file_id = f.id WHERE f.rel_path = 'top.flac'",
      )
      .get() as { duration: number; sent: number; spans: string };
    db.close();
    // 2 s of silence, a sentence, 40 s of silence, a sentence: only the sentences reach whisper
    expect(row.duration).toBeGreaterThan(45000);
    expect(row.sent).toBeLessThan(row.duration - 38000);
    const spans = row.spans.split(";").flatMap((s) => JSON.parse(s) as { start: number; end: number }[]);
    const inSilence = spans.filter((s) => s.start / 16 > 12000 && s.end / 16 < 40000);
    expect(inSilence).toEqual([]);
  });

  it("leaves no temporary files in the output folder", () => {
    const tmp = join(out, ".speechflow", "tmp");
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  });

  it("re-runs as a no-op for finished files and still reports the bad ones", async () => {
    const again = await runCli(["transcribe", rec, "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--json"], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(again.code).toBe(3);
    const events = parseEvents(again.stdout);
    expect(events.filter((e) => e.type === "file-skipped")).toHaveLength(4);
    expect(events.filter((e) => e.type === "chunk-done")).toHaveLength(0);
    expect(events.filter((e) => e.type === "file-failed")).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: "run-end", done: 0, skipped: 4, failed: 3 });
  });

  it("renders a missing output again from the database without transcribing", async () => {
    rmSync(join(out, "top.vtt"));
    const again = await runCli(["transcribe", join(rec, "top.flac"), "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--json"], {
      cwd: rec,
      env: minimalEnv(work),
    });
    // a single file given directly maps to its basename, as the folder run did for the top level
    expect(again.code).toBe(0);
    expect(parseEvents(again.stdout).filter((e) => e.type === "chunk-done")).toHaveLength(0);
    expect(existsSync(join(out, "top.vtt"))).toBe(true);
  });

  it("status --json reports done and failed files with causes", async () => {
    const status = await runCli(["status", "-o", out, "--json"], { cwd: work, env: minimalEnv(work) });
    expect(status.code).toBe(0);
    const summary = JSON.parse(status.stdout) as { files: { done: number; failed: number }; failures: { path: string; code: string }[] };
    expect(summary.files).toMatchObject({ done: 4, failed: 3 });
    expect(summary.failures.map((f) => f.code).sort()).toEqual(["MEDIA_EMPTY", "MEDIA_UNREADABLE", "MEDIA_UNREADABLE"]);
  });
});
