import { createHash } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meeting } from "../helpers/corpus.js";
import { dbHealth, mountTmpfs, processesWithMarker, remount, seeded, tree, unmount, waitUntil } from "../helpers/fault-tools.js";
import { ffmpeg } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type ReliabilityRow, recordReliability } from "../helpers/reliability-log.js";
import { minimalEnv, parseEvents, runCli, startCli, waitForEvents } from "../helpers/run-cli.js";

let work: string;
let rec: string;
let reference: Map<string, string>;
const rows: ReliabilityRow[] = [];
const mounts: string[] = [];
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
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const row = (c: string, expected: string, observed: string, pass: boolean) => rows.push({ area: "fault", case: c, expected, observed, pass });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sf-faults-"));
  rec = join(work, "rec");
  // 5 files x ~90 s of meeting-like speech: enough chunks to interrupt at many points
  for (let i = 0; i < 5; i++) meeting(join(rec, `m${i}.mp3`), 2, i + 3, ["-b:a", "48k"]);
  const r = await runCli(args(join(work, "reference")), { cwd: work, env: minimalEnv(work) });
  expect(r.code, r.stderr).toBe(0);
  reference = tree(join(work, "reference"));
}, 180000);

afterAll(() => {
  for (const m of mounts) unmount(m);
  recordReliability("faults", rows);
});

describe("fault injection (docs/RELIABILITY.md)", () => {
  it("kill -9 at 20 seeded points: no partial output ever visible, no chunk committed twice, identical final outputs", async () => {
    const out = join(work, "killed");
    const db = join(out, ".speechflow", "state.sqlite");
    const rnd = seeded(20261126);
    const marker = `SF_FAULT_${process.pid}_${Date.now()}`;
    const env = minimalEnv(work, { SF_TEST_MARKER: marker });
    const points: string[] = [];
    for (let k = 0; k < 20; k++) {
      // kill after the n-th event of the run (1-10) plus 0-150 ms: inside decoding, chunking, transcribing, writing
      const n = 1 + Math.floor(rnd() * 10);
      const extra = Math.floor(rnd() * 150);
      const run = startCli(args(out), { cwd: work, env });
      let seen = 0;
      const enough = (events: { type: string }[]) => {
        seen = events.length;
        return events.length >= n;
      };
      await waitForEvents(run.child, enough, 60000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, extra));
      run.child.kill("SIGKILL");
      await run.done;
      // whatever is visible under the output folder is complete: identical to the uninterrupted run
      for (const [path, content] of tree(out)) expect(content, `kill ${k}: ${path} differs from the reference`).toBe(reference.get(path));
      if (existsSync(db)) {
        const health = dbHealth(db);
        expect(health.integrity).toBe("ok");
        expect(health.maxCommits).toBeLessThanOrEqual(1);
        points.push(`#${k} after event ${n}+${extra} ms (${seen} seen): ${health.doneChunks} chunks saved`);
      } else points.push(`#${k} after event ${n}+${extra} ms: before the database existed`);
      expect(await waitUntil(() => processesWithMarker(marker).length === 0, 10000), `kill ${k}: orphaned workers`).toBe(true);
    }
    const final = await runCli(args(out), { cwd: work, env });
    expect(final.code, final.stderr).toBe(0);
    const same = JSON.stringify([...tree(out)].sort()) === JSON.stringify([...reference].sort());
    expect(same).toBe(true);
    expect(dbHealth(db).maxCommits).toBe(1);
    row(
      "kill -9 of the main process at 20 seeded points (seed 20261126) across a 5-file run",
      "visible outputs always complete; no chunk committed twice; final outputs identical",
      `all 20 held; final run identical (${points.filter((p) => p.includes("chunks saved")).length} kills after work had been saved)`,
      same,
    );
  }, 600000);

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s stops gracefully within a bounded time, saves state, exits %i; a re-run completes",
    async (signal, code) => {
      const out = join(work, `signal-${signal}`);
      const run = startCli(args(out), { cwd: work, env: minimalEnv(work) });
      await waitForEvents(run.child, (events) => events.some((e) => e.type === "chunk-done"));
      const sent = Date.now();
      run.child.kill(signal);
      const result = await run.done;
      const took = Date.now() - sent;
      expect(result.code).toBe(code);
      expect(took).toBeLessThan(20000);
      expect(dbHealth(join(out, ".speechflow", "state.sqlite")).integrity).toBe("ok");
      const again = await runCli(args(out), { cwd: work, env: minimalEnv(work) });
      expect(again.code).toBe(0);
      const same = JSON.stringify([...tree(out)].sort()) === JSON.stringify([...reference].sort());
      expect(same).toBe(true);
      row(
        `${signal} during transcription`,
        `exit ${code} after the chunks in flight, state saved, re-run completes`,
        `exit ${result.code} after ${took} ms; re-run identical`,
        result.code === code && same,
      );
    },
    120000,
  );

  it("a worker killed from outside mid-run: its chunk is retried on a new worker and the run completes", async () => {
    const out = join(work, "worker-killed");
    const marker = `SF_WK_${process.pid}_${Date.now()}`;
    const run = startCli(args(out), { cwd: work, env: minimalEnv(work, { SF_TEST_MARKER: marker }) });
    await waitForEvents(run.child, (events) => events.filter((e) => e.type === "chunk-done").length >= 2);
    const workers = processesWithMarker(marker).filter((pid) => pid !== run.child.pid);
    expect(workers.length).toBeGreaterThan(0);
    process.kill(workers[0]!, "SIGKILL");
    const result = await run.done;
    const events = parseEvents(result.stdout);
    expect(result.code, result.stderr).toBe(0);
    const exited = events.some((e) => e.type === "worker-exit");
    expect(exited).toBe(true);
    const same = JSON.stringify([...tree(out)].sort()) === JSON.stringify([...reference].sort());
    expect(same).toBe(true);
    row(
      "a worker process killed with SIGKILL mid-run",
      "chunks in flight retried on a fresh worker; run completes; outputs identical",
      `worker-exit reported, exit ${result.code}, outputs identical`,
      same && exited,
    );
  }, 120000);

  it("disk full while writing transcripts: a clear error per file, database intact, resumable", async () => {
    const out = join(work, "full-out");
    mkdirSync(out, { recursive: true });
    const db = join(work, "full-out.sqlite");
    const mounted = mountTmpfs(out, "2m");
    if (mounted) {
      mounts.push(out);
      writeFileSync(join(out, "filler"), Buffer.alloc(2 * 1024 * 1024 - 48 * 1024)); // leave about 48 KiB
    }
    const env = minimalEnv(work, mounted ? {} : { SPEECHFLOW_FAULT_WRITE_ERROR: "ENOSPC", SPEECHFLOW_FAULT_WRITE_AFTER: "3" });
    const r = await runCli(args(out, ["--db", db]), { cwd: work, env });
    expect(r.code).toBe(3);
    const failed = parseEvents(r.stdout).filter((e) => e.type === "file-failed");
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed)
      expect(f).toMatchObject({ code: "OUTPUT_WRITE_FAILED", message: expect.stringMatching(/cannot write transcripts to .* \(ENOSPC\)$/) });
    expect(dbHealth(db).integrity).toBe("ok");
    if (mounted) rmSync(join(out, "filler"));
    const again = await runCli(args(out, ["--db", db]), { cwd: work, env: minimalEnv(work) });
    expect(again.code, again.stderr).toBe(0);
    const same = JSON.stringify([...tree(out)].filter(([p]) => p !== "filler").sort()) === JSON.stringify([...reference].sort());
    expect(same).toBe(true);
    row(
      `disk full under the output folder (${mounted ? "2 MiB tmpfs, 48 KiB left" : "injected ENOSPC"})`,
      "OUTPUT_WRITE_FAILED naming the file and ENOSPC, exit 3, DB integrity ok, re-run completes",
      `${failed.length} file(s) failed with ENOSPC, integrity ok, re-run identical`,
      same,
    );
  }, 120000);

  it("disk full under the state database: the run stops with a clear message, the database stays intact", async () => {
    const out = join(work, "full-db-out");
    const dbDir = join(work, "full-db");
    mkdirSync(dbDir, { recursive: true });
    const mounted = mountTmpfs(dbDir, "1m");
    if (mounted) mounts.push(dbDir);
    const db = join(dbDir, "state.sqlite");
    // room for the schema and a few chunks, not for the whole run
    if (mounted) writeFileSync(join(dbDir, "filler"), Buffer.alloc(1024 * 1024 - 120 * 1024));
    const r = await runCli(args(out, ["--db", db]), { cwd: work, env: minimalEnv(work, mounted ? {} : { SPEECHFLOW_FAULT_DB_FULL_AFTER: "3" }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /speechflow: error: the state database cannot be written \(database or disk is full\); free some space and run again: finished chunks are saved/,
    );
    expect(dbHealth(db).integrity).toBe("ok");
    if (mounted) rmSync(join(dbDir, "filler"));
    const again = await runCli(args(out, ["--db", db]), { cwd: work, env: minimalEnv(work) });
    expect(again.code, again.stderr).toBe(0);
    const same = JSON.stringify([...tree(out)].sort()) === JSON.stringify([...reference].sort());
    expect(same).toBe(true);
    row(
      `disk full under the state database (${mounted ? "1 MiB tmpfs, 120 KiB left" : "injected SQLITE_FULL after 3 commits"})`,
      "exit 1 with a one-line message, DB integrity ok, re-run completes",
      `exit ${r.code}: "${r.stderr.trim().split("\n").pop()!.slice(0, 90)}…"; integrity ok; re-run identical`,
      same,
    );
  }, 120000);

  it("output folder made read-only mid-run: clear errors, nothing lost, resumable", async () => {
    const out = join(work, "ro-out");
    mkdirSync(out, { recursive: true });
    const db = join(work, "ro.sqlite");
    const mounted = mountTmpfs(out, "64m");
    if (mounted) mounts.push(out);
    const env = minimalEnv(work, mounted ? {} : { SPEECHFLOW_FAULT_WRITE_ERROR: "EROFS", SPEECHFLOW_FAULT_WRITE_AFTER: "4" });
    const run = startCli(args(out, ["--db", db]), { cwd: work, env });
    if (mounted) {
      await waitForEvents(run.child, (events) => events.some((e) => e.type === "file-done"));
      remount(out, "ro");
    }
    const r = await run.done;
    expect(r.code).toBe(3);
    const failed = parseEvents(r.stdout).filter((e) => e.type === "file-failed");
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(String(f.message)).toMatch(/cannot write transcripts to .* \(EROFS\)$/);
    expect(dbHealth(db).integrity).toBe("ok");
    if (mounted) remount(out, "rw");
    const again = await runCli(args(out, ["--db", db]), { cwd: work, env: minimalEnv(work) });
    expect(again.code, again.stderr).toBe(0);
    const same = JSON.stringify([...tree(out)].sort()) === JSON.stringify([...reference].sort());
    expect(same).toBe(true);
    row(
      `output folder read-only mid-run (${mounted ? "tmpfs remounted ro after the first file" : "injected EROFS"})`,
      "OUTPUT_WRITE_FAILED (EROFS) per file, exit 3, re-run completes",
      `${failed.length} file(s) failed with EROFS; re-run identical`,
      same,
    );
  }, 120000);

  it("an input deleted mid-run fails alone; an input rewritten while it is decoded is not saved as done", async () => {
    const dir = join(work, "mid");
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 4; i++) copyFileSync(join(rec, `m${i}.mp3`), join(dir, `m${i}.mp3`));
    // a long file (an hour of near-silence) keeps ffmpeg busy long enough to change it meanwhile
    ffmpeg(["-f", "lavfi", "-t", "3600", "-i", "anoisesrc=r=16000:a=0.0005:c=pink", "-c:a", "flac", join(dir, "a-long.flac")]);
    const out = join(work, "mid-out");
    // the energy VAD: this is about inputs changing, and Silero would spend a minute on the hour of noise
    const args = ["transcribe", dir, "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--vad", "energy", "--json"];
    const run = startCli(args, {
      cwd: work,
      env: minimalEnv(work),
    });
    await waitForEvents(run.child, (events) => events.some((e) => e.type === "file-start" && String((e as { file?: string }).file).endsWith("a-long.flac")));
    rmSync(join(dir, "m3.mp3"));
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(join(dir, "a-long.flac"), Buffer.alloc(1024));
    const r = await run.done;
    expect(r.code).toBe(3);
    const failed = new Map(
      parseEvents(r.stdout)
        .filter((e) => e.type === "file-failed")
        .map((e) => [String(e.file).split("/").pop(), e]),
    );
    expect(failed.get("m3.mp3")).toMatchObject({ code: "INPUT_NOT_FOUND", message: "file disappeared before it was read" });
    expect(failed.get("a-long.flac")).toMatchObject({
      code: "INPUT_CHANGED",
      message: "file changed while it was being transcribed; run again to transcribe the new content",
    });
    expect(existsSync(join(out, "m0.txt")) && existsSync(join(out, "m2.txt"))).toBe(true);
    const again = await runCli(args, { cwd: work, env: minimalEnv(work) });
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(out, "a-long.txt"))).toBe(true);
    row(
      "an input deleted before its turn",
      "INPUT_NOT_FOUND for it alone, the others finish, exit 3",
      `${failed.get("m3.mp3")?.code}: ${failed.get("m3.mp3")?.message}`,
      true,
    );
    row(
      "an input appended to while ffmpeg decodes it",
      "INPUT_CHANGED (not saved as done); the next run transcribes the new content",
      `${failed.get("a-long.flac")?.code}; next run: done`,
      true,
    );
  }, 180000);

  it("a corrupted, foreign or non-SQLite state database is refused with a clear message and left untouched", async () => {
    const good = join(work, "reference", ".speechflow", "state.sqlite");
    const cases: [string, (path: string) => void, RegExp][] = [
      [
        "a state database with garbage written over its pages",
        (p) => {
          copyFileSync(good, p);
          const b = readFileSync(p);
          for (let i = 4096; i < Math.min(b.length, 4096 * 3); i++) b[i] = (i * 7919) & 0xff;
          writeFileSync(p, b);
        },
        /(failed its integrity check|is damaged|malformed).*(left untouched|move it away)/,
      ],
      [
        "an SQLite database of another program",
        (p) => {
          const other = new Database(p);
          other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
          other.close();
        },
        /is an SQLite database of another program; it was left untouched/,
      ],
      [
        "a text file where the database should be",
        (p) => writeFileSync(p, "not a database\n".repeat(100)),
        /is not a speechflow state database \(not an SQLite file\)/,
      ],
    ];
    for (const [what, make, message] of cases) {
      const db = join(work, `bad-${rows.length}.sqlite`);
      make(db);
      const before = sha(db);
      const r = await runCli(args(join(work, "bad-db-out"), ["--db", db]), { cwd: work, env: minimalEnv(work) });
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(sha(db), what).toBe(before);
      row(what, "exit 1, one-line message, file left byte-identical", `exit ${r.code}: ${r.stderr.trim().slice(0, 100)}`, true);
    }
  }, 120000);

  it("two runs at once on the same output folder: the second exits 75 at once, the first finishes", async () => {
    const out = join(work, "twice");
    const first = startCli(args(out), { cwd: work, env: minimalEnv(work) });
    await waitForEvents(first.child, (events) => events.some((e) => e.type === "chunk-done"));
    const started = Date.now();
    const second = await runCli(args(out), { cwd: work, env: minimalEnv(work) });
    const took = Date.now() - started;
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/another speechflow run .* is using/);
    const r = await first.done;
    expect(r.code).toBe(0);
    row(
      "a second transcribe on the same output folder while one runs",
      "the second exits 75 at once; the first completes",
      `second: exit 75 after ${took} ms; first: exit ${r.code}`,
      true,
    );
  }, 120000);
});
