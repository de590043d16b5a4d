import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sentenceClips } from "../helpers/corpus.js";
import { compose } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, runCli } from "../helpers/run-cli.js";

/** status, clean and doctor find the state database the same way transcribe does: config file, env, flags. */
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sf-statecfg-"));
  compose([sentenceClips()[0]!], join(work, "in", "one.wav"));
  writeFileSync(join(work, "speechflow.config.json"), JSON.stringify({ output: "out", model: MICRO_MODEL_PATH, threads: 1, temperatureFallback: false }));
  const r = await runCli(["transcribe", "in", "-q"], { cwd: work, env: minimalEnv(work) });
  expect(r.code, r.stderr).toBe(0);
});

describe("state commands honour the config file", () => {
  it("status reads <output from config>/.speechflow/state.sqlite", async () => {
    const r = await runCli(["status", "--json"], { cwd: work, env: minimalEnv(work) });
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as { db: string; files: { total: number; done: number } };
    expect(status.db).toBe(join(work, "out", ".speechflow", "state.sqlite"));
    expect(status.files).toMatchObject({ total: 1, done: 1 });
  });

  it("clean and doctor use the same database; -o and the environment still override the file", async () => {
    const clean = await runCli(["clean", "--dry-run"], { cwd: work, env: minimalEnv(work) });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/0 file\(s\) would be forgotten; 1 remain/);
    const doctor = await runCli(["doctor", "--json"], { cwd: work, env: minimalEnv(work) });
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; detail: string }[] }).checks;
    const check = checks.find((c) => c.name === "state database");
    expect(check?.detail).toBe(join(work, "out", ".speechflow", "state.sqlite"));
    // the CLI's own process pinned malloc's threshold at startup (bin/speechflow.js)
    const glibc = typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === "string";
    expect(checks.find((c) => c.name === "malloc tuning")?.detail).toMatch(
      glibc && process.platform === "linux" ? /^mmap threshold pinned at 128 KiB/ : /^not needed/,
    );
    const other = await runCli(["status", "-o", "elsewhere"], { cwd: work, env: minimalEnv(work) });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`no state database at ${join(work, "elsewhere", ".speechflow", "state.sqlite")}`);
    const viaEnv = await runCli(["status"], { cwd: work, env: minimalEnv(work, { SPEECHFLOW_OUTPUT: "nowhere" }) });
    expect(viaEnv.stderr).toContain(join(work, "nowhere", ".speechflow", "state.sqlite"));
  });

  it("a bad unrelated setting does not stop status, doctor or models list (only what they read is checked)", async () => {
    const broken = join(work, "broken");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "speechflow.config.json"), JSON.stringify({ output: "../out", workers: "many" }));
    const status = await runCli(["status", "--json"], { cwd: broken, env: minimalEnv(work) });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { files: { total: number } }).files.total).toBe(1);
    const doctor = await runCli(["doctor", "--json"], { cwd: broken, env: minimalEnv(work, { SPEECHFLOW_WORKERS: "lots" }) });
    expect(JSON.parse(doctor.stdout)).not.toHaveProperty("ok");
    expect(doctor.stderr).not.toMatch(/workers/);
    const list = await runCli(["models", "list", "--json"], { cwd: broken, env: minimalEnv(work) });
    expect(list.code, list.stderr).toBe(0);
    const bad = await runCli(["status", "--db", ""], { cwd: broken, env: minimalEnv(work, { SPEECHFLOW_OUTPUT: "" }) });
    expect(bad.code).toBe(0);
    // a transcribe run still checks everything
    const run = await runCli(["transcribe", "in"], { cwd: broken, env: minimalEnv(work) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"workers"/);
  });
});
