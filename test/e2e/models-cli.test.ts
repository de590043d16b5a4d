import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { speak } from "../helpers/media.js";
import { type ModelServer, startModelServer } from "../helpers/model-server.js";
import { CLI, MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, runCli } from "../helpers/run-cli.js";

const execFileAsync = promisify(execFile);
let work: string;
let server: ModelServer;
let sha1: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sf-models-"));
  const model = readFileSync(MICRO_MODEL_PATH);
  sha1 = createHash("sha1").update(model).digest("hex");
  // served under a published name too, so that name's real checksum cannot match
  server = await startModelServer({ "ggml-micro.bin": model, "ggml-tiny.en.bin": model });
  env = minimalEnv(work, { SPEECHFLOW_MODELS: join(work, "models"), SPEECHFLOW_MODEL_BASE_URL: server.url });
  speak("A model is needed to transcribe this.", join(work, "rec", "a.wav"));
});
afterAll(() => server.close());

describe("speechflow models (built CLI, real HTTP server)", () => {
  it("pull downloads into $SPEECHFLOW_MODELS from the mirror; list, path, rm follow", async () => {
    const pull = await runCli(["models", "pull", "micro", "--sha1", sha1], { cwd: work, env });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(join(work, "models", "ggml-micro.bin"));
    const list = await runCli(["models", "list", "--json"], { cwd: work, env });
    const rows = JSON.parse(list.stdout) as { name: string; present: boolean; known: boolean }[];
    expect(rows.find((r) => r.name === "micro")).toMatchObject({ present: true, known: false });
    expect(rows.find((r) => r.name === "large-v3-turbo")).toMatchObject({ present: false, known: true });
    const path = await runCli(["models", "path", "micro"], { cwd: work, env });
    expect(path.stdout.trim()).toBe(join(work, "models", "ggml-micro.bin"));
    const run = await runCli(["transcribe", "rec", "-o", "out", "-m", "micro", "--no-temperature-fallback"], { cwd: work, env });
    expect(run.code, run.stderr).toBe(0);
    const rm = await runCli(["models", "rm", "micro"], { cwd: work, env });
    expect(rm.code).toBe(0);
    expect(existsSync(join(work, "models", "ggml-micro.bin"))).toBe(false);
    const gone = await runCli(["models", "path", "micro"], { cwd: work, env });
    expect(gone.code).toBe(1);
  });

  it("add copies a checked ggml file under a name", async () => {
    const add = await runCli(["models", "add", MICRO_MODEL_PATH, "--name", "mine"], { cwd: work, env });
    expect(add.code, add.stderr).toBe(0);
    expect(readFileSync(join(work, "models", "ggml-mine.bin")).equals(readFileSync(MICRO_MODEL_PATH))).toBe(true);
    const bad = await runCli(["models", "add", join(work, "rec", "a.wav")], { cwd: work, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a whisper\.cpp ggml model/);
  });

  it("a published model with the wrong bytes is rejected by its SHA-1 and nothing is left", async () => {
    const pull = await runCli(["models", "pull", "tiny.en"], { cwd: work, env });
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/checksum mismatch for tiny\.en: expected SHA-1 c78c86eb1a8faa21b369bcd33207cc90d64ae9df/);
    expect(existsSync(join(work, "models", "ggml-tiny.en.bin"))).toBe(false);
    expect(existsSync(join(work, "models", "ggml-tiny.en.bin.part"))).toBe(false);
  });

  it("pull-diarization checks each model's pinned SHA-256: wrong bytes from a mirror are refused and nothing is left", async () => {
    const mirror = await startModelServer({ "pyannote-segmentation-3.0.onnx": Buffer.from("not the model"), "nemo-titanet-small.onnx": Buffer.from("x") });
    try {
      const pull = await runCli(["models", "pull-diarization", "--mirror", mirror.url], { cwd: work, env });
      expect(pull.code).toBe(1);
      expect(pull.stderr).toMatch(
        /checksum mismatch for pyannote-segmentation-3\.0: expected SHA-256 220ad67ca923bef2fa91f2390c786097bf305bceb5e261d4af67b38e938e1079/,
      );
      expect(existsSync(join(work, "models", "pyannote-segmentation-3.0.onnx"))).toBe(false);
      expect(mirror.requests.map((r) => r.url)).toEqual(["/pyannote-segmentation-3.0.onnx"]);
      const offline = await runCli(["models", "pull-diarization", "--offline"], { cwd: work, env });
      expect(offline.code).toBe(2);
    } finally {
      await mirror.close();
    }
  });

  it("--offline refuses to download, with a message that says what to do", async () => {
    const before = server.requests.length;
    const run = await runCli(["transcribe", "rec", "-o", "out2", "-m", "base.en", "--offline"], { cwd: work, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/model base\.en is not downloaded and offline mode forbids downloading it; run `speechflow models pull base\.en`/);
    const pull = await runCli(["models", "pull", "base.en", "--offline"], { cwd: work, env });
    expect(pull.code).toBe(2);
    expect(server.requests.length).toBe(before);
  });

  it("unattended (no TTY) transcribe does not download; it says to pull", async () => {
    const run = await runCli(["transcribe", "rec", "-o", "out3", "-m", "tiny.en"], { cwd: work, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Unattended runs do not download models: run `speechflow models pull tiny\.en` once/);
  });

  it("on a terminal, transcribe pulls a missing published model first and says so", async () => {
    // `script` gives the CLI a pseudo-terminal; the served bytes are not the real tiny.en, so the
    // pull must end in a checksum error after announcing the download
    const command = `${process.execPath} ${CLI} transcribe rec -o out4 -m tiny.en; echo "exit=$?"`;
    // asynchronously: the model server lives in this process and must keep answering
    const { stdout: output } = await execFileAsync("script", ["-qec", command, "/dev/null"], { cwd: work, env, encoding: "utf8" });
    expect(output).toMatch(/model tiny\.en is not here yet: downloading 75 MiB from http:\/\/127\.0\.0\.1:\d+\/ggml-tiny\.en\.bin/);
    expect(output).toMatch(/checksum mismatch for tiny\.en/);
    expect(output).toMatch(/exit=1/);
  });
});
