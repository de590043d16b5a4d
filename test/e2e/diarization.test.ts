import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { sentenceClips } from "../helpers/corpus.js";
import { mdEvalDer } from "../helpers/md-eval.js";
import { compose, ffmpegPcmWav as writePcmWav } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli, startCli, waitForEvents } from "../helpers/run-cli.js";
import { stereoCall, writeRttm } from "../helpers/stereo-call.js";
import { twoVoices } from "../helpers/two-voices.js";
import { writeEmbeddingModel, writeSegmentationModel } from "../support/write-diarization-models.js";

/**
 * --diarize on real synthesized speech: a two-party stereo call (espeak-ng voices, one per channel,
 * with pauses, an overlap, a noise floor and bleed), scored against its true turns by NIST md-eval.
 */
let work: string;
let calls: string;
let reference: string;
let callTurns: { start: number; end: number; speaker: string }[];
const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--json"];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-diarize-"));
  calls = join(work, "calls");
  callTurns = stereoCall(join(calls, "call.wav"), join(work, "voices")).turns;
  reference = writeRttm(join(work, "ref.rttm"), "call", callTurns);
});

const db = (out: string) => new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });

describe("diarization (--diarize)", () => {
  it("stereo: one speaker per channel, in every output, with a DER under 5% by md-eval at collar 0.25", async () => {
    const out = join(work, "out-stereo");
    const r = await runCli(["transcribe", calls, "-o", out, "--diarize", "stereo", "--speaker-names", "Alice,Bob", "--pdf", ...base], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(r.code, r.stderr).toBe(0);
    const der = mdEvalDer(reference, join(out, "call.rttm"), { collar: 0.25 });
    expect(der).toBeLessThan(5);
    const json = JSON.parse(readFileSync(join(out, "call.json"), "utf8")) as {
      speakers: { id: string; name: string; talkMs: number }[];
      segments: { speaker?: string }[];
    };
    expect(json.speakers.map((s) => [s.id, s.name])).toEqual([
      ["SPEAKER_00", "Alice"],
      ["SPEAKER_01", "Bob"],
    ]);
    expect(json.segments.every((s) => s.speaker === "Alice" || s.speaker === "Bob")).toBe(true);
    expect(readFileSync(join(out, "call.srt"), "utf8")).toMatch(/^\[(Alice|Bob)\] /m);
    expect(readFileSync(join(out, "call.vtt"), "utf8")).toMatch(/^<v (Alice|Bob)>/m);
    expect(readFileSync(join(out, "call.txt"), "utf8")).toMatch(/^\[(Alice|Bob)\] /);
    // the PDF: a talk-time table and speaker labels in the transcript
    const pdf = execFileSync("pdftotext", ["-enc", "UTF-8", join(out, "call.pdf"), "-"]).toString("utf8");
    expect(pdf).toMatch(/Speakers[\s\S]*Alice \(SPEAKER_00\):\s+00:0\d\s+\(\d+%\)/);
    expect(pdf).toMatch(/\] (Alice|Bob): /);
    const done = parseEvents(r.stdout).find((e) => e.type === "diarization-done") as unknown as { engine: string; speakers: number };
    expect(done).toMatchObject({ engine: "stereo", speakers: 2 });
  });

  it("new diarization settings re-diarize and re-render without transcribing again", async () => {
    const out = join(work, "out-rediarize");
    const first = await runCli(["transcribe", calls, "-o", out, "--diarize", "stereo", ...base], { cwd: work, env: minimalEnv(work) });
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(["transcribe", calls, "-o", out, "--diarize", "stereo", "--diarize-min-off-seconds", "1.5", ...base], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(again.code, again.stderr).toBe(0);
    const types = parseEvents(again.stdout).map((e) => e.type);
    expect(types).toContain("diarization-done");
    expect(types).not.toContain("engine-ready");
    const d = db(out);
    expect(d.prepare("SELECT MAX(commits) AS n FROM chunks").get()).toEqual({ n: 1 });
    d.close();
    // and the same settings once more: nothing to do at all
    const third = await runCli(["transcribe", calls, "-o", out, "--diarize", "stereo", "--diarize-min-off-seconds", "1.5", ...base], {
      cwd: work,
      env: minimalEnv(work),
    });
    expect(parseEvents(third.stdout).filter((e) => e.type === "file-skipped")).toHaveLength(1);
  });

  it("auto takes stereo for a call; on mono audio without registered models it says how to get them (exit 3)", async () => {
    const auto = await runCli(["transcribe", calls, "-o", join(work, "out-auto"), "--diarize", "auto", ...base], { cwd: work, env: minimalEnv(work) });
    expect(auto.code, auto.stderr).toBe(0);
    expect(parseEvents(auto.stdout).find((e) => e.type === "diarization-done")).toMatchObject({ engine: "stereo" });
    const mono = join(work, "mono");
    compose([sentenceClips()[0]!], join(mono, "memo.wav"));
    const r = await runCli(["transcribe", mono, "-o", join(work, "out-mono"), "--diarize", "auto", ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code).toBe(3);
    const failed = parseEvents(r.stdout).find((e) => e.type === "file-failed") as unknown as { code: string; message: string };
    expect(failed.code).toBe("DIARIZATION_FAILED");
    expect(failed.message).toMatch(/segmentation model "pyannote-segmentation-3.0" not found.*speechflow models pull-diarization/);
  });

  it("kill -9 during diarization: the same command finishes, diarizing only what was not stored", async () => {
    const many = join(work, "many");
    mkdirSync(many, { recursive: true });
    for (const n of [1, 2, 3, 4]) copyFileSync(join(calls, "call.wav"), join(many, `call-${n}.wav`));
    const out = join(work, "out-kill");
    const args = ["transcribe", many, "-o", out, "--diarize", "stereo", ...base];
    const { child, done } = startCli(args, { cwd: work, env: minimalEnv(work) });
    await waitForEvents(child, (events) => events.some((e) => e.type === "diarization-done"));
    child.kill("SIGKILL");
    await done;
    const d = db(out);
    const stored = (d.prepare("SELECT COUNT(*) AS n FROM diarizations").get() as { n: number }).n;
    d.close();
    expect(stored).toBeGreaterThanOrEqual(1);
    const r = await runCli(args, { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    const again = parseEvents(r.stdout).filter((e) => e.type === "diarization-done");
    expect(again.length).toBe(4 - stored);
    const after = db(out);
    expect(after.prepare("SELECT COUNT(*) AS n FROM diarizations").get()).toEqual({ n: 4 });
    expect(after.prepare("SELECT MAX(commits) AS n FROM chunks").get()).toEqual({ n: 1 });
    after.close();
    for (const n of [1, 2, 3, 4]) {
      const ref = writeRttm(join(work, `ref-${n}.rttm`), `call-${n}`, callTurns);
      expect(mdEvalDer(ref, join(out, `call-${n}.rttm`), { collar: 0.25 })).toBeLessThan(5);
    }
  });

  it("eval --diarization scores DER and JER against reference RTTM, agreeing with md-eval over the same region", async () => {
    const dataset = join(work, "dataset");
    mkdirSync(dataset, { recursive: true });
    copyFileSync(join(calls, "call.wav"), join(dataset, "call.wav"));
    writeRttm(join(dataset, "call.rttm"), "call", callTurns);
    const out = join(work, "out-eval");
    for (const collar of ["0.25", "0"]) {
      const r = await runCli(["eval", dataset, "-o", out, "--diarization", "--diarize", "stereo", "--collar", collar, ...base], {
        cwd: work,
        env: minimalEnv(work),
      });
      expect(r.code, r.stderr).toBe(0);
      const end = parseEvents(r.stdout).find((e) => e.type === "diarization-eval-end") as unknown as { der: number; jer: number; files: number };
      const report = JSON.parse(readFileSync(join(out, "der.json"), "utf8")) as { overall: { der: number }; collar: number };
      expect(report.collar).toBe(Number(collar));
      expect(report.overall.der).toBe(end.der);
      expect(end.files).toBe(1);
      expect(end.der).toBeLessThan(0.05);
      // md-eval over the whole recording (-u), as speechflow scores it
      const durationMs = (JSON.parse(readFileSync(join(out, "call.json"), "utf8")) as { durationMs: number }).durationMs;
      const uem = join(work, "call.uem");
      writeFileSync(uem, `call 1 0 ${(durationMs / 1000).toFixed(3)}\n`);
      const nist = mdEvalDer(join(dataset, "call.rttm"), join(out, "call.rttm"), { collar: Number(collar), uem });
      expect(Math.abs(end.der * 100 - nist)).toBeLessThan(0.01);
    }
    expect(readFileSync(join(out, "der.md"), "utf8")).toMatch(/DER/);
  });

  it("without --diarize nothing changes: no RTTM, no speaker fields", async () => {
    const out = join(work, "out-plain");
    const r = await runCli(["transcribe", calls, "-o", out, ...base], { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, "call.json"), "utf8")).not.toContain("speaker");
  });
});

describe("diarization with models (--diarize model|auto, generated ONNX models, real sherpa-onnx)", () => {
  let models: string;
  let memos: string;
  let truthRttm: string;
  const env = () => minimalEnv(work, { SPEECHFLOW_MODELS: models });

  beforeAll(async () => {
    models = join(work, "registered-models");
    memos = join(work, "memos");
    const { audio, truth } = twoVoices(join(work, "two-voices"));
    mkdirSync(memos, { recursive: true });
    writePcmWav(join(memos, "standup.wav"), audio);
    truthRttm = writeRttm(
      join(work, "standup.rttm"),
      "standup",
      truth.map((t) => ({ ...t, speaker: `S${t.speaker}` })),
    );
    const seg = writeSegmentationModel(join(work, "gen", "seg.onnx"));
    const emb = writeEmbeddingModel(join(work, "gen", "emb.onnx"));
    for (const [file, name] of [
      [seg, "pyannote-segmentation-3.0"],
      [emb, "nemo-titanet-small"],
    ] as const) {
      const added = await runCli(["models", "add", file, "--name", name], { cwd: work, env: env() });
      expect(added.code, added.stderr).toBe(0);
    }
  });

  it("auto on a mono recording runs the registered models: two speakers, DER under 5% by md-eval", async () => {
    const out = join(work, "out-model");
    const r = await runCli(["transcribe", memos, "-o", out, "--diarize", "auto", "--num-speakers", "2", ...base], { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(parseEvents(r.stdout).find((e) => e.type === "diarization-done")).toMatchObject({ engine: "model", speakers: 2 });
    expect(mdEvalDer(truthRttm, join(out, "standup.rttm"), { collar: 0.25 })).toBeLessThan(5);
  });

  it("a model file that is not a model: a clean error for the file, the run goes on (exit 3), nothing crashes", async () => {
    const junk = join(work, "junk.onnx");
    writeFileSync(junk, "not a model");
    const r = await runCli(["transcribe", memos, "-o", join(work, "out-junk"), "--diarize", "model", "--diarization-segmentation-model", junk, ...base], {
      cwd: work,
      env: env(),
    });
    expect(r.code).toBe(3);
    const failed = parseEvents(r.stdout).find((e) => e.type === "file-failed") as unknown as { code: string; message: string };
    expect(failed.code).toBe("DIARIZATION_FAILED");
    expect(failed.message).toContain("junk.onnx");
    const add = await runCli(["models", "add", junk], { cwd: work, env: env() });
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(/junk\.onnx is neither a pyannote segmentation model nor a speaker-embedding model/);
  });
});
