import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meeting } from "../helpers/corpus.js";
import { processesWithMarker, tree, waitUntil } from "../helpers/fault-tools.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type ReliabilityRow, recordReliability } from "../helpers/reliability-log.js";
import { minimalEnv, parseEvents, runCli, startCli, waitForEvents } from "../helpers/run-cli.js";

let work: string;
let rec: string;
const args = (out: string, extra: string[] = []) => [
  "transcribe",
  rec,
  "-o",
  out,
  "-m",
  MICRO_MODEL_PATH,
  "--no-temperature-fallback",
  "--threads",
  "1",
  "--json",
  ...extra,
];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-kill-"));
  rec = join(work, "recordings");
  // 4 files x ~90 s of meeting-like speech: a dozen chunks or more to interrupt
  for (let i = 0; i < 4; i++) meeting(join(rec, `day ${i}`, `meeting-${i}.mp3`), 2, i + 1, ["-b:a", "48k"]);
});

const rows: ReliabilityRow[] = [];
afterAll(() => recordReliability("worker-faults", rows));

describe("kill and resume (built CLI)", () => {
  let reference: Map<string, string>;

  beforeAll(async () => {
    const out = join(work, "reference");
    const result = await runCli(args(out), { cwd: work, env: minimalEnv(work) });
    expect(result.code, result.stderr).toBe(0);
    reference = tree(out);
  });

  it("kill -9 mid-run, then the same command: identical outputs, no chunk committed twice, no orphaned workers", async () => {
    const out = join(work, "killed");
    const marker = `SF_KILL_TEST_${process.pid}_${Date.now()}`;
    const env = minimalEnv(work, { SF_TEST_MARKER: marker });
    const first = startCli(args(out), { cwd: work, env });
    await waitForEvents(first.child, (events) => events.some((e) => e.type === "chunk-done"));
    expect(processesWithMarker(marker).length).toBeGreaterThan(1); // the CLI and its worker(s)
    // a second run on the same state database exits at once, without touching it
    const second = await runCli(args(out), { cwd: work, env });
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/another speechflow run \(pid \d+ .*\) is using .*state\.sqlite/);
    // kill in the middle of a file: a few more chunks done, one of them in a file not finished yet
    await waitForEvents(first.child, (events) => {
      const chunks = events.filter((e) => e.type === "chunk-done") as unknown as { file: string }[];
      const finished = new Set((events.filter((e) => e.type === "file-done") as unknown as { file: string }[]).map((e) => e.file));
      return chunks.length >= 3 && !finished.has(chunks.at(-1)!.file);
    });
    first.child.kill("SIGKILL");
    await first.done;
    // workers notice the parent is gone and exit by themselves
    expect(await waitUntil(() => processesWithMarker(marker).length === 0, 10000)).toBe(true);

    // read-write: after a kill the WAL index must be recovered, which a read-only connection cannot do
    const db = new Database(join(out, ".speechflow", "state.sqlite"));
    const committedBefore = (db.prepare("SELECT COUNT(*) AS n FROM chunks WHERE status = 'done'").get() as { n: number }).n;
    db.close();
    expect(committedBefore).toBeGreaterThanOrEqual(4);
    // nothing half-written is visible: every file present is complete (equal to the reference)
    for (const [path, content] of tree(out)) expect(content, path).toBe(reference.get(path));

    // the killed run's lock is stale (its process is gone): the re-run takes it over
    const rerun = await runCli(args(out), { cwd: work, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(existsSync(join(out, ".speechflow", "state.sqlite.lock"))).toBe(false);
    const events = parseEvents(rerun.stdout);
    const redone = events.filter((e) => e.type === "chunk-done").length;
    // the file cut short resumes from its committed chunks
    expect(events.some((e) => e.type === "file-start" && (e.resumedChunks as number) > 0)).toBe(true);

    expect(tree(out)).toEqual(reference);
    const after = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
    const stats = after.prepare("SELECT COUNT(*) AS n, MAX(commits) AS maxCommits, SUM(commits) AS commits FROM chunks").get() as {
      n: number;
      maxCommits: number;
      commits: number;
    };
    const files = after.prepare("SELECT status, COUNT(*) AS n FROM files GROUP BY status").all();
    after.close();
    expect(stats.maxCommits).toBe(1);
    expect(stats.commits).toBe(stats.n);
    // the re-run transcribed exactly what the killed run had not committed
    expect(redone + committedBefore).toBe(stats.n);
    expect(redone).toBeLessThan(stats.n);
    expect(files).toEqual([{ status: "done", n: 4 }]);
  });

  it("Ctrl-C (SIGINT) stops gracefully with exit 130, and a re-run completes", async () => {
    const out = join(work, "interrupted");
    const env = minimalEnv(work);
    const run = startCli(args(out), { cwd: work, env });
    await waitForEvents(run.child, (events) => events.filter((e) => e.type === "chunk-done").length >= 3);
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    const end = parseEvents(result.stdout).at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "interrupted" });
    const db = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM files WHERE status = 'processing'").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT status FROM runs ORDER BY id DESC LIMIT 1").get()).toEqual({ status: "interrupted" });
    db.close();
    const again = await runCli(args(out), { cwd: work, env });
    expect(again.code).toBe(0);
    expect(tree(out)).toEqual(reference);
  });

  it("a worker that aborts mid-chunk costs one retry; the run completes", async () => {
    const out = join(work, "crash-once");
    const result = await runCli(args(out), {
      cwd: work,
      env: minimalEnv(work, { SPEECHFLOW_FAULT_ABORT_NTH: "3", SPEECHFLOW_FAULT_ONCE_FILE: join(work, "fault-fired") }),
    });
    expect(result.code, result.stderr).toBe(0);
    const events = parseEvents(result.stdout);
    const exit = events.find((e) => e.type === "worker-exit" && e.reason === "killed by SIGABRT");
    expect(exit).toBeDefined();
    // alone on the worker, the chunk is retried (one attempt); with other chunks on board, the pool
    // reran each of them alone first, which costs no attempt
    if (exit!.inFlight === 1) expect(events.some((e) => e.type === "chunk-retry")).toBe(true);
    else expect(events.some((e) => e.type === "chunk-retry")).toBe(false);
    expect(tree(out)).toEqual(reference);
    rows.push({
      area: "fault",
      case: "a worker aborts (SIGABRT) on its 3rd chunk (SPEECHFLOW_FAULT_ABORT_NTH)",
      expected: "worker-exit reported (and chunk-retry when the chunk was alone on the worker); run completes with identical outputs",
      observed: "as expected, exit 0",
      pass: true,
    });
  });

  it("a chunk that crashes every worker fails its file after maxAttempts; the other files finish (exit 3)", async () => {
    const out = join(work, "crash-always");
    const result = await runCli(args(out, ["--max-attempts", "2"]), { cwd: work, env: minimalEnv(work, { SPEECHFLOW_FAULT_ABORT_MARK: "meeting-2.mp3#1" }) });
    expect(result.code).toBe(3);
    const failed = parseEvents(result.stdout).filter((e) => e.type === "file-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      code: "CHUNK_FAILED",
      message: expect.stringMatching(/chunk 1 \(.*\) failed after 2 attempts: worker crashed \(killed by SIGABRT\)/),
    });
    expect(String(failed[0]!.file)).toContain("meeting-2.mp3");
    for (const i of [0, 1, 3]) expect(existsSync(join(out, `day ${i}`, `meeting-${i}.txt`))).toBe(true);
    expect(existsSync(join(out, "day 2", "meeting-2.txt"))).toBe(false);
    rows.push({
      area: "fault",
      case: "one chunk crashes every worker that takes it (SPEECHFLOW_FAULT_ABORT_MARK)",
      expected: "that file fails with CHUNK_FAILED after maxAttempts; the other files finish; exit 3",
      observed: `exit 3; ${String(failed[0]!.message)}`,
      pass: true,
    });
  });
});
