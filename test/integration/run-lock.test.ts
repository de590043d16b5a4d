import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunLock } from "../../src/store/run-lock.js";

const db = () => join(mkdtempSync(join(tmpdir(), "sf-lock-")), "state.sqlite");

describe("RunLock (real lock files, real processes)", () => {
  it("lets one holder in, refuses a second with exit code 75, and frees on release", () => {
    const path = db();
    const lock = RunLock.acquire(path);
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => RunLock.acquire(path)).toThrow(expect.objectContaining({ code: "LOCKED", exitCode: 75 }));
    lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    RunLock.acquire(path).release();
  });

  it("takes over a lock whose process is gone", () => {
    const path = db();
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: Number(child.stdout), host: hostname(), procStart: null, startedAt: "then" }));
    const lock = RunLock.acquire(path);
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over a lock whose pid now belongs to another process (start time differs)", () => {
    const path = db();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), procStart: "1", startedAt: "long ago" }));
    RunLock.acquire(path).release();
  });

  it("takes over a half-written lock file", () => {
    const path = db();
    writeFileSync(`${path}.lock`, '{"pid": 12');
    RunLock.acquire(path).release();
  });
});
