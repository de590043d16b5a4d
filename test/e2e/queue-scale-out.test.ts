import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openBlobStore } from "../../src/blob/open-blob-store.js";
import { meeting } from "../helpers/corpus.js";
import { dbHealth, tree } from "../helpers/fault-tools.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type SpawnedWorker, startWorker, stopWorker } from "../helpers/queue-workers.js";
import { freePort, TestRedis } from "../helpers/redis-server.js";
import { minimalEnv, parseEvents, runCli, startCli, waitForEvents } from "../helpers/run-cli.js";
import { startS3Server } from "../helpers/s3-server.js";
import { writeTestModel } from "../support/write-test-model.js";

/**
 * Scale out through BullMQ on Redis, all real: each test starts its own redis-server, real
 * `speechflow worker` processes and a `speechflow transcribe --queue` coordinator, and compares
 * the outputs with a local run of the same files and settings.
 */
let work: string;
let rec: string;
let reference: Map<string, string>;
const settings = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1"];
const env = () => minimalEnv(work);

let redis: TestRedis | undefined;
let workers: SpawnedWorker[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sf-queue-e2e-"));
  rec = join(work, "recordings");
  // 3 files x ~90 s of meeting-like speech: about a dozen chunks
  for (let i = 0; i < 3; i++) meeting(join(rec, `meeting-${i}.mp3`), 2, i + 1, ["-b:a", "48k"]);
  const out = join(work, "local");
  const local = await runCli(["transcribe", rec, "-o", out, ...settings, "--json"], { cwd: work, env: env() });
  expect(local.code, local.stderr).toBe(0);
  reference = tree(out);
  expect(reference.size).toBeGreaterThanOrEqual(12);
});

afterEach(async () => {
  await Promise.all(workers.map((w) => stopWorker(w, "SIGKILL")));
  workers = [];
  await redis?.stop();
  redis = undefined;
});

afterAll(() => undefined);

/** A fresh Redis and blob folder for one test, and a way to start workers on them. */
async function setup(name: string, options: { aofDir?: string } = {}) {
  redis = await TestRedis.start(options);
  const blobDir = join(work, `${name}-blobs`);
  mkdirSync(blobDir, { recursive: true });
  const blob = pathToFileURL(blobDir).href;
  const queueArgs = ["--queue", redis.url, "--blob", blob];
  const worker = (extraEnv: Record<string, string> = {}, args: string[] = [], model = MICRO_MODEL_PATH) => {
    const w = startWorker({ queue: redis!.url, blob, model, cwd: work, env: { ...env(), ...extraEnv }, args: ["--lock-seconds", "2", ...args] });
    workers.push(w);
    return w;
  };
  const out = join(work, name);
  const transcribe = (extra: string[] = []) => ["transcribe", rec, "-o", out, ...settings, ...queueArgs, "--json", ...extra];
  const status = async () => {
    const r = await runCli(["queue", "status", "--queue", redis!.url, "--json"], { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as {
      queues: { counts: Record<string, number>; waitingBecause?: string; workers: string[] }[];
      workers: { id: string; modelName: string }[];
    };
  };
  return { blobDir, blob, queueArgs, worker, out, transcribe, status };
}

const blobsIn = (dir: string) => readdirSync(dir, { recursive: true }).filter((e) => String(e).startsWith("chunks/"));
const executions = (ws: SpawnedWorker[]) => ws.flatMap((w) => w.done());

describe("speechflow transcribe --queue with speechflow worker processes", () => {
  it("two workers: outputs byte-identical to a local run, every chunk committed once, nothing left on the queue or in the blob store", async () => {
    const t = await setup("two-workers");
    const metricsPort = await freePort();
    const a = t.worker({}, ["--metrics", `127.0.0.1:${metricsPort}`]);
    const b = t.worker();
    await Promise.all([a.waitFor(/ready on/), b.waitFor(/ready on/)]);
    const run = await runCli(t.transcribe(), { cwd: work, env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    const health = dbHealth(join(t.out, ".speechflow", "state.sqlite"));
    expect(health).toMatchObject({ integrity: "ok", maxCommits: 1 });
    // both workers took part, and no chunk ran twice
    const done = executions([a, b]);
    expect(a.done().length).toBeGreaterThan(0);
    expect(b.done().length).toBeGreaterThan(0);
    expect(done.length).toBe(health.doneChunks);
    expect(new Set(done).size).toBe(done.length);
    // the coordinator removed every job after committing it, and every blob with it
    const status = await t.status();
    expect(status.queues).toHaveLength(1);
    expect(Object.values(status.queues[0]!.counts).every((n) => n === 0)).toBe(true);
    expect(blobsIn(t.blobDir)).toEqual([]);
    // the worker's /metrics is Prometheus text and counts what it did
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(parsePrometheus(text).get("speechflow_worker_chunks_total")).toBe(a.done().length);
    expect(parsePrometheus(text).get("speechflow_worker_busy_seconds_total")).toBeGreaterThan(0);
  });

  it("three workers: outputs byte-identical to a local run, every chunk committed once", async () => {
    const t = await setup("three-workers");
    const ws = [t.worker(), t.worker(), t.worker()];
    await Promise.all(ws.map((w) => w.waitFor(/ready on/)));
    const run = await runCli(t.transcribe(), { cwd: work, env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    const health = dbHealth(join(t.out, ".speechflow", "state.sqlite"));
    expect(health).toMatchObject({ integrity: "ok", maxCommits: 1 });
    const done = executions(ws);
    expect(done.length).toBe(health.doneChunks);
    expect(new Set(done).size).toBe(done.length);
    // the run-start line names the queue, not a local layout
    const start = parseEvents(run.stdout).find((e) => e.type === "run-start");
    expect(start?.layout).toMatch(/^queue sf-\w+ at redis:\/\/127\.0\.0\.1:\d+\/0: remote workers$/);
    expect(blobsIn(t.blobDir)).toEqual([]);
  });

  it("s3:// blob store: outputs byte-identical to a local run, no blob and no job left behind", async () => {
    const s3 = await startS3Server("sf-queue-e2e");
    try {
      redis = await TestRedis.start();
      const blob = "s3://sf-queue-e2e/run";
      const s3env = () => ({ ...env(), ...s3.env });
      const ws = [0, 1].map(() => {
        const w = startWorker({ queue: redis!.url, blob, model: MICRO_MODEL_PATH, cwd: work, env: s3env(), args: ["--lock-seconds", "2"] });
        workers.push(w);
        return w;
      });
      await Promise.all(ws.map((w) => w.waitFor(/ready on/)));
      const out = join(work, "s3-blobs");
      const run = await runCli(["transcribe", rec, "-o", out, ...settings, "--queue", redis.url, "--blob", blob, "--json"], { cwd: work, env: s3env() });
      expect(run.code, run.stderr).toBe(0);
      expect(tree(out)).toEqual(reference);
      const health = dbHealth(join(out, ".speechflow", "state.sqlite"));
      expect(health).toMatchObject({ integrity: "ok", maxCommits: 1 });
      expect(executions(ws).length).toBe(health.doneChunks);
      const store = openBlobStore(blob, s3env());
      const left: string[] = [];
      for await (const key of store.list("chunks")) left.push(key);
      await store.close();
      expect(left).toEqual([]);
      const status = await runCli(["queue", "status", "--queue", redis.url, "--json"], { cwd: work, env: env() });
      const queues = (JSON.parse(status.stdout) as { queues: { counts: Record<string, number> }[] }).queues;
      expect(queues).toHaveLength(1);
      expect(Object.values(queues[0]!.counts).every((n) => n === 0)).toBe(true);
    } finally {
      await s3.stop();
    }
  });

  it("a worker with another model gets nothing and queue status says why; a matching worker then finishes the run", async () => {
    const t = await setup("other-model");
    const otherModel = join(work, "models", "ggml-other.bin");
    mkdirSync(join(work, "models"), { recursive: true });
    writeTestModel(otherModel, { nState: 64, nHead: 2, nAudioLayer: 1, nTextLayer: 1, decoder: "fixed", seed: 99 });
    const stranger = t.worker({}, [], otherModel);
    await stranger.waitFor(/ready on/);
    const run = startCli(t.transcribe(), { cwd: work, env: env() });
    let reason: string | undefined;
    expect(
      await waitUntilAsync(async () => {
        reason = (await t.status()).queues[0]?.waitingBecause;
        return reason !== undefined;
      }, 30000),
    ).toBe(true);
    expect(reason).toMatch(/no connected worker holds model ggml-micro\.bin .*connected workers hold ggml-other\.bin/);
    expect(stranger.log()).not.toMatch(/serving|took/);
    const matching = t.worker();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    expect(stranger.done()).toEqual([]);
    expect(matching.done().length).toBeGreaterThan(0);
  });

  it("kill -9 a worker mid-chunk: another worker runs the chunk again, outputs identical", async () => {
    const t = await setup("worker-killed");
    // this worker takes meeting-1's chunk 1 and never finishes it; the other starts only then
    const victim = t.worker({ SPEECHFLOW_FAULT_HOLD_MARK: "meeting-1.mp3#1" });
    await victim.waitFor(/ready on/);
    const run = startCli(t.transcribe(), { cwd: work, env: env() });
    await victim.waitFor(/holding .*meeting-1\.mp3#1/);
    const survivor = t.worker();
    victim.child.kill("SIGKILL");
    await victim.exited;
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    expect(dbHealth(join(t.out, ".speechflow", "state.sqlite"))).toMatchObject({ integrity: "ok", maxCommits: 1 });
    expect(survivor.done().filter((l) => l.endsWith("meeting-1.mp3#1"))).toHaveLength(1);
    expect(victim.done().some((l) => l.endsWith("meeting-1.mp3#1"))).toBe(false);
  });

  it("kill -9 the coordinator mid-run, run again: finished results are taken, no chunk runs or commits twice, outputs identical", async () => {
    const t = await setup("coordinator-killed");
    const ws = [t.worker(), t.worker()];
    await Promise.all(ws.map((w) => w.waitFor(/ready on/)));
    const first = startCli(t.transcribe(), { cwd: work, env: env() });
    await waitForEvents(first.child, (events) => events.filter((e) => e.type === "chunk-done").length >= 3);
    first.child.kill("SIGKILL");
    await first.done;
    const committedBefore = dbHealth(join(t.out, ".speechflow", "state.sqlite")).doneChunks;
    const rerun = await runCli(t.transcribe(), { cwd: work, env: env() });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    const health = dbHealth(join(t.out, ".speechflow", "state.sqlite"));
    expect(health).toMatchObject({ integrity: "ok", maxCommits: 1 });
    expect(parseEvents(rerun.stdout).filter((e) => e.type === "chunk-done")).toHaveLength(health.doneChunks - committedBefore);
    // jobs the workers finished while no coordinator was there were taken, not run again
    const done = executions(ws);
    expect(done.length).toBe(health.doneChunks);
    expect(new Set(done).size).toBe(done.length);
    // a job committed just before the kill may be left, and a blob the coordinator was writing when it died;
    // queue clean removes them and any audio no job needs
    const clean = await runCli(["queue", "clean", ...t.queueArgs, "--older-than", "0"], { cwd: work, env: env() });
    expect(clean.code, clean.stderr).toBe(0);
    // the queue is empty now, so it is forgotten (workers stop listening to it)
    expect(clean.stdout).toMatch(/^sf-\w+: \d+ completed removed, 0 failed removed, \(empty, forgotten\)$/m);
    expect((await t.status()).queues).toEqual([]);
    expect(blobsIn(t.blobDir)).toEqual([]);
  });

  it("a poison chunk fails after the attempts limit: the run exits 3 naming file and chunk; queue retry-failed recovers it once the cause is gone", async () => {
    const t = await setup("poison");
    const bad = t.worker({ SPEECHFLOW_FAULT_ABORT_MARK: "meeting-2.mp3#1" });
    await bad.waitFor(/ready on/);
    const run = await runCli(t.transcribe(["--max-attempts", "2"]), { cwd: work, env: env() });
    expect(run.code, run.stderr).toBe(3);
    const failed = parseEvents(run.stdout).filter((e) => e.type === "file-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      file: join(rec, "meeting-2.mp3"),
      message: expect.stringMatching(/^chunk 1 \(.*\) failed after 2 attempts: queue worker failed: /),
    });
    // SIGTERM: the worker finishes what it holds and exits 143
    expect((await stopWorker(bad)).code).toBe(143);
    const good = t.worker();
    await good.waitFor(/ready on/);
    const retried = await runCli(["queue", "retry-failed", "--queue", redis!.url], { cwd: work, env: env() });
    expect(retried.stdout).toMatch(/^sf-\w+: 1 retried$/m);
    expect(
      await waitUntilAsync(async () => {
        const counts = (await t.status()).queues[0]!.counts;
        return counts.completed === 1 && counts.failed === 0 && counts.waiting === 0 && counts.active === 0;
      }, 60000),
    ).toBe(true);
    const rerun = await runCli(t.transcribe(), { cwd: work, env: env() });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    // the recovered result was taken from the queue, not transcribed again
    expect(good.done().filter((l) => l.endsWith("meeting-2.mp3#1"))).toHaveLength(1);
  });

  it("Redis killed and restarted mid-run (AOF on): the run completes with identical outputs", async () => {
    const t = await setup("redis-restart", { aofDir: join(work, "aof") });
    const w = t.worker();
    await w.waitFor(/ready on/);
    const run = startCli(t.transcribe(), { cwd: work, env: env() });
    await waitForEvents(run.child, (events) => events.filter((e) => e.type === "chunk-done").length >= 2);
    await redis!.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis!.launch();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    expect(dbHealth(join(t.out, ".speechflow", "state.sqlite"))).toMatchObject({ integrity: "ok", maxCommits: 1 });
  });
});

async function waitUntilAsync(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Prometheus text exposition: every sample line parsed; a line that is neither a sample nor a comment fails. Label sets are summed per name. */
function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    values.set(m[1]!, (values.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return values;
}

describe("Redis restarted without AOF", () => {
  it("the coordinator notices the lost jobs, says so, queues them again, and the run completes with identical outputs", async () => {
    const t = await setup("redis-lost");
    // this worker holds meeting-1's chunk 1, so that job is certainly in Redis when Redis goes down
    const holder = t.worker({ SPEECHFLOW_FAULT_HOLD_MARK: "meeting-1.mp3#1" });
    await holder.waitFor(/ready on/);
    const run = startCli(t.transcribe(), { cwd: work, env: env() });
    await holder.waitFor(/holding .*meeting-1\.mp3#1/);
    await redis!.kill();
    await redis!.launch();
    holder.child.kill("SIGKILL");
    await holder.exited;
    t.worker();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(tree(t.out)).toEqual(reference);
    expect(dbHealth(join(t.out, ".speechflow", "state.sqlite"))).toMatchObject({ integrity: "ok", maxCommits: 1 });
    const warnings = parseEvents(result.stdout).filter((e) => e.type === "warning");
    expect(warnings.some((e) => /is gone from the queue \(Redis restarted without AOF, or drained\); queued again/.test(String(e.message)))).toBe(true);
  });
});

describe("speechflow doctor --queue", () => {
  it("checks the Redis: reachable, version, eviction policy, and warns when AOF is off; an unreachable one fails", async () => {
    redis = await TestRedis.start();
    const ok = await runCli(["doctor", "--queue", redis.url, "-o", join(work, "doctor")], { cwd: work, env: env() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/✓ queue: Redis \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+\/0, maxmemory-policy noeviction, AOF off/);
    expect(ok.stdout).toMatch(/queue \(warning\): AOF is off/);
    const port = await freePort();
    const down = await runCli(["doctor", "--queue", `redis://127.0.0.1:${port}/0`, "-o", join(work, "doctor")], { cwd: work, env: env() });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/✗ queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
  });
});
