import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sentenceClips } from "../helpers/corpus.js";
import { compose } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";

let work: string;
let rec: string;
const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--json"];
const done = (stdout: string) =>
  parseEvents(stdout)
    .filter((e) => e.type === "file-done")
    .map((e) => String(e.file))
    .sort();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-inputs-"));
  rec = join(work, "rec");
  const clips = sentenceClips();
  compose([clips[0]!], join(rec, "en", "one.wav"));
  compose([clips[1]!], join(rec, "en", "two.ogg"), ["-c:a", "libvorbis"]);
  compose([clips[2]!], join(rec, "de", "drei.flac"));
  compose([clips[3]!], join(rec, "de", "vier.opus"), ["-c:a", "libopus"]);
});

describe("inputs", () => {
  it("takes globs, --include and --exclude", async () => {
    const out = join(work, "out-glob");
    const r = await runCli(["transcribe", "rec/**/*.{wav,flac,opus}", "--exclude", "**/vier.*", "-o", out, ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    expect(done(r.stdout)).toEqual([join(rec, "de", "drei.flac"), join(rec, "en", "one.wav")]);
    expect(existsSync(join(out, "en", "one.txt"))).toBe(true);
    const inc = await runCli(["transcribe", "rec", "--include", "en/**", "-o", join(work, "out-inc"), ...base], { cwd: work, env: minimalEnv(work) });
    expect(done(inc.stdout)).toEqual([join(rec, "en", "one.wav"), join(rec, "en", "two.ogg")]);
  });

  it("reads --from-list from stdin, ignoring blank lines and comments", async () => {
    const list = `# nightly list\n${join(rec, "en", "two.ogg")}\n\nrec/de/vier.opus\n`;
    const r = await runCli(["transcribe", "--from-list", "-", "-o", join(work, "out-list"), ...base], { cwd: work, env: minimalEnv(work), input: list });
    expect(r.code, r.stderr).toBe(0);
    expect(done(r.stdout)).toEqual([join(rec, "de", "vier.opus"), join(rec, "en", "two.ogg")]);
    expect(existsSync(join(work, "out-list", "two.txt"))).toBe(true);
  });

  it("reports an input that does not exist and goes on (exit 3)", async () => {
    const r = await runCli(["transcribe", "rec/en", "nope.mp3", "-o", join(work, "out-missing"), ...base.filter((a) => a !== "--json")], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/✗ nope\.mp3: no such file or directory/);
    expect(existsSync(join(work, "out-missing", "one.txt"))).toBe(true);
  });

  it("fails clearly with exit 1 when ffmpeg cannot be found, and 2 on usage errors", async () => {
    const noFfmpeg = await runCli(["transcribe", "rec", "-o", join(work, "o1"), ...base], {
      cwd: work,
      env: minimalEnv(work, { SPEECHFLOW_FFMPEG: "/opt/none/ffmpeg" }),
    });
    expect(noFfmpeg.code).toBe(1);
    expect(noFfmpeg.stderr).toMatch(/ffmpeg not found at \/opt\/none\/ffmpeg .*apt-get install ffmpeg/);
    const noInputs = await runCli(["transcribe", "-o", join(work, "o2")], { cwd: work, env: minimalEnv(work) });
    expect(noInputs.code).toBe(2);
    expect(noInputs.stderr).toMatch(/no inputs/);
    const badFlag = await runCli(["transcribe", "rec", "--workers", "0"], { cwd: work, env: minimalEnv(work) });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--workers: Too small/);
  });

  it("says where to put a model that is missing", async () => {
    const r = await runCli(["transcribe", "rec", "-o", join(work, "o3"), "-m", "small.en"], {
      cwd: work,
      env: minimalEnv(work, { SPEECHFLOW_MODELS: join(work, "models") }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model "small\.en" not found .*ggml-small\.en\.bin/);
  });

  it("finds a model by name in $SPEECHFLOW_MODELS", async () => {
    mkdirSync(join(work, "models"), { recursive: true });
    symlinkSync(MICRO_MODEL_PATH, join(work, "models", "ggml-micro.bin"));
    const r = await runCli(["transcribe", "rec/en/one.wav", "-o", join(work, "o4"), ...base, "-m", "micro"], {
      cwd: work,
      env: minimalEnv(work, { SPEECHFLOW_MODELS: join(work, "models") }),
    });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("word timestamps", () => {
  it("adds words with timings inside their segment to the json output", async () => {
    const out = join(work, "out-words");
    const r = await runCli(["transcribe", "rec/en/two.ogg", "-o", out, ...base, "--word-timestamps", "--formats", "json"], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, "two.txt"))).toBe(false);
    const json = JSON.parse(readFileSync(join(out, "two.json"), "utf8")) as {
      settings: { wordTimestamps: boolean };
      segments: { start: number; end: number; text: string; words: { start: number; end: number; text: string }[] }[];
    };
    expect(json.settings.wordTimestamps).toBe(true);
    for (const segment of json.segments) {
      expect(segment.words.length).toBeGreaterThan(0);
      expect(segment.words.map((w) => w.text).join(" ")).toBe(segment.text);
      for (const w of segment.words) {
        expect(w.start).toBeGreaterThanOrEqual(segment.start);
        expect(w.end).toBeLessThanOrEqual(segment.end);
        expect(w.end).toBeGreaterThanOrEqual(w.start);
      }
    }
  });
});

describe("re-runs", () => {
  it("redo only changed files, and every file when a transcription setting changes", async () => {
    const out = join(work, "out-nightly");
    const run = (extra: string[] = []) => runCli(["transcribe", "rec", "-o", out, ...base, ...extra], { cwd: work, env: minimalEnv(work) });
    expect((await run()).code).toBe(0);
    const unchanged = await run();
    expect(done(unchanged.stdout)).toEqual([]);
    expect(parseEvents(unchanged.stdout).filter((e) => e.type === "file-skipped")).toHaveLength(4);

    compose([sentenceClips()[9]!], join(rec, "en", "one.wav")); // new content, same name
    const changed = await run();
    expect(done(changed.stdout)).toEqual([join(rec, "en", "one.wav")]);

    const otherLanguage = await run(["--language", "de"]);
    expect(done(otherLanguage.stdout)).toHaveLength(4);
    // output-only settings (subtitle line width) are not a reason to transcribe again
    const moreFormats = await run(["--language", "de", "--max-line-width", "30"]);
    expect(parseEvents(moreFormats.stdout).filter((e) => e.type === "chunk-done")).toHaveLength(0);
  });
});
