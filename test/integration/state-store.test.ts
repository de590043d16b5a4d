import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION, StateStore } from "../../src/store/state-store.js";

const dir = () => mkdtempSync(join(tmpdir(), "sf-store-"));
const file = { path: "/data/a.wav", relPath: "a.wav", outputStem: "a", size: 10, mtimeMs: 1, contentHash: "h1", fingerprint: "f1" };

describe("StateStore (real SQLite file)", () => {
  it("creates a versioned schema in WAL mode and keeps committed chunks across reopen", () => {
    const path = join(dir(), "state.sqlite");
    const store = StateStore.open(path);
    const runId = store.beginRun("test", {});
    const { file: row } = store.files.prepare({ ...file, runId });
    store.chunks.commit({ fileId: row.id, idx: 0, spans: [{ start: 0, end: 16000 }], audioMs: 1000 }, [{ from: 0, to: 900, text: " hi" }], 12);
    store.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();

    const again = StateStore.open(path);
    const chunks = again.chunks.done(again.files.get("/data/a.wav")!.id);
    expect(chunks.get(0)?.segments[0]?.text).toBe(" hi");
    again.close();
  });

  it("forgets a file's chunks when its content or settings change, keeps them otherwise", () => {
    const store = StateStore.open(join(dir(), "s.sqlite"));
    const runId = store.beginRun("test", {});
    const { file: row } = store.files.prepare({ ...file, runId });
    store.chunks.commit({ fileId: row.id, idx: 0, spans: [{ start: 0, end: 10 }], audioMs: 1 }, [], 1);
    expect(store.files.prepare({ ...file, mtimeMs: 2, runId }).reset).toBe(false);
    expect(store.chunks.done(row.id).size).toBe(1);
    expect(store.files.prepare({ ...file, fingerprint: "f2", runId }).reset).toBe(true);
    expect(store.chunks.done(row.id).size).toBe(0);
    store.close();
  });

  it("turns files left 'processing' by a killed run back into pending work", () => {
    const path = join(dir(), "s.sqlite");
    const store = StateStore.open(path);
    const { file: row } = store.files.prepare({ ...file, runId: store.beginRun("t", {}) });
    store.files.markProcessing(row.id);
    store.close(); // as if killed
    const next = StateStore.open(path);
    next.beginRun("t", {});
    expect(next.files.get(file.path)?.status).toBe("pending");
    expect(next.status().lastRun?.status).toBe("running");
    next.close();
  });

  it("refuses a file that is not SQLite, and another program's database, without touching them", () => {
    const d = dir();
    writeFileSync(join(d, "junk.sqlite"), "definitely not a database, but long enough to be read");
    expect(() => StateStore.open(join(d, "junk.sqlite"))).toThrow(/not a speechflow state database \(not an SQLite file\)/);
    const foreign = new Database(join(d, "other.sqlite"));
    foreign.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x')");
    foreign.close();
    expect(() => StateStore.open(join(d, "other.sqlite"))).toThrow(/SQLite database of another program/);
    const check = new Database(join(d, "other.sqlite"), { readonly: true });
    expect(check.prepare("SELECT COUNT(*) AS n FROM customers").get()).toEqual({ n: 1 });
    check.close();
  });

  it("refuses a database written by a newer speechflow", () => {
    const path = join(dir(), "s.sqlite");
    StateStore.open(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => StateStore.open(path)).toThrow(/written by a newer speechflow/);
  });
});
