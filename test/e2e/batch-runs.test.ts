import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventSchema } from "../../src/core/events.js";
import { sentenceClips } from "../helpers/corpus.js";
import { mediaRoute, startServer, type TestServer } from "../helpers/http-server.js";
import { compose } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { recordReliability } from "../helpers/reliability-log.js";
import { type CliResult, minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";

const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1"];

interface ManifestLine {
  path: string;
  hash: string | null;
  durationMs: number | null;
  status: string;
  outputs: string[];
  error: { code: string; message: string } | null;
}
const manifest = (out: string) =>
  readFileSync(join(out, "manifest.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ManifestLine);
const byPath = (lines: ManifestLine[], suffix: string) => lines.find((l) => l.path.endsWith(suffix))!;

/** the recordings every test starts from (read-only; each test copies them into its own folder) */
let sources: string;
beforeAll(() => {
  sources = mkdtempSync(join(tmpdir(), "sf-batch-sources-"));
  const clips = sentenceClips();
  compose([clips[0]!, 0.5, clips[1]!], join(sources, "a.wav"));
  compose([clips[2]!], join(sources, "b.flac"));
  compose([clips[3]!], join(sources, "served.wav"));
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** One test's own world: a folder of recordings, an output folder, an HTTP server. */
interface Batch {
  work: string;
  rec: string;
  out: string;
  server: TestServer;
  /** the output subfolder of the server's URLs */
  host: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The state a test starts from, built from scratch for that test alone:
 * - "inputs": rec/ holds a.wav, b.flac and broken.wav (text); the server serves /media/talk.wav
 *   (with an ETag), /private/talk.wav (Basic auth ops:s3cret-pass) and /hook (503 on the first call)
 * - "first run": then `transcribe rec talk.wav gone.mp3` into out/ (exit 3: broken.wav and gone.mp3 fail)
 * - "nightly re-run": then new.wav is added and `transcribe rec talk.wav` runs again
 * - "retried": then broken.wav is replaced by a good recording and `retry` runs
 */
async function batch(stage: "inputs" | "first run" | "nightly re-run" | "retried"): Promise<Batch> {
  const work = mkdtempSync(join(tmpdir(), "sf-batch-"));
  const rec = join(work, "rec");
  mkdirSync(rec);
  copyFileSync(join(sources, "a.wav"), join(rec, "a.wav"));
  copyFileSync(join(sources, "b.flac"), join(rec, "b.flac"));
  writeFileSync(join(rec, "broken.wav"), "this is a text file, not a wav\n");
  const urlWav = readFileSync(join(sources, "served.wav"));
  const server = await startServer({
    "/media/talk.wav": mediaRoute(urlWav),
    "/hook": (_req, res, hit) => res.writeHead(hit === 1 ? 503 : 204).end(),
    "/private/talk.wav": (req, res) =>
      req.headers.authorization === `Basic ${Buffer.from("ops:s3cret-pass").toString("base64")}`
        ? res.writeHead(200, { "content-type": "audio/wav" }).end(urlWav)
        : res.writeHead(401).end(),
  });
  servers.push(server);
  const b: Batch = {
    work,
    rec,
    out: join(work, "out"),
    server,
    host: server.url.replace("http://", "").replace(":", "_"),
    env: minimalEnv(work, { SPEECHFLOW_RETRY_BASE_MS: "20" }),
  };
  if (stage === "inputs") return b;
  const first = await firstRun(b);
  expect(first.code, first.stderr).toBe(3);
  if (stage === "first run") return b;
  const nightly = await nightlyRun(b);
  expect(nightly.code, nightly.stderr).toBe(3);
  if (stage === "nightly re-run") return b;
  const retried = await retryRun(b);
  expect(retried.code, retried.stderr).toBe(3);
  return b;
}

const firstRun = (b: Batch): Promise<CliResult> =>
  runCli(
    [
      "transcribe",
      b.rec,
      `${b.server.url}/media/talk.wav`,
      `${b.server.url}/media/gone.mp3`,
      "-o",
      b.out,
      "--json",
      "--notify-url",
      `${b.server.url}/hook`,
      ...base,
    ],
    { cwd: b.work, env: b.env },
  );
const nightlyRun = (b: Batch): Promise<CliResult> => {
  compose([sentenceClips()[4]!], join(b.rec, "new.wav"));
  return runCli(["transcribe", b.rec, `${b.server.url}/media/talk.wav`, "-o", b.out, "--json", ...base], { cwd: b.work, env: b.env });
};
const retryRun = (b: Batch): Promise<CliResult> => {
  copyFileSync(sentenceClips()[5]!, join(b.rec, "broken.wav"));
  return runCli(["retry", "-o", b.out, "--json", ...base], { cwd: b.work, env: b.env });
};

describe("unattended batch runs", () => {
  it("transcribes folders and URLs, writes manifest.jsonl, prints schema-valid NDJSON and notifies the webhook", async () => {
    const b = await batch("inputs");
    const { out, server } = b;
    const r = await firstRun(b);
    expect(r.code, r.stderr).toBe(3);

    // every line is a documented event, with no field the schema does not know
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      const { time, ...event } = line;
      expect(typeof time).toBe("string");
      const parsed = eventSchema.safeParse(event);
      expect(parsed.success, JSON.stringify(line)).toBe(true);
      expect(Object.keys(parsed.data!).sort()).toEqual(Object.keys(event).sort());
    }
    const types = lines.map((l) => l.type);
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    for (const t of ["file-start", "chunk-done", "file-done", "file-failed", "download-done"]) expect(types).toContain(t);

    expect(existsSync(join(out, b.host, "talk.txt"))).toBe(true);
    const m = manifest(out);
    expect(m).toHaveLength(5);
    expect(byPath(m, "a.wav")).toMatchObject({ status: "done", outputs: ["a.txt", "a.srt", "a.vtt", "a.json"], error: null });
    expect(byPath(m, "a.wav").hash).toMatch(/^[0-9a-f]{64}$/);
    expect(byPath(m, "a.wav").durationMs).toBeGreaterThan(3000);
    expect(byPath(m, "talk.wav")).toMatchObject({ status: "done", path: `${server.url}/media/talk.wav` });
    expect(byPath(m, "broken.wav")).toMatchObject({ status: "failed", error: { code: "MEDIA_UNREADABLE" } });
    expect(byPath(m, "gone.mp3")).toMatchObject({ status: "failed", error: { code: "DOWNLOAD_FAILED", message: "not found (HTTP 404)" } });

    // cron mail: one summary line on stderr even in --json mode
    expect(r.stderr).toMatch(/^speechflow: 5 files, 3 done, 0 unchanged, 2 failed; /m);

    // the webhook got the run-end JSON, after one 503
    const hooks = server.requests.filter((q) => q.path === "/hook");
    expect(hooks).toHaveLength(2);
    const body = JSON.parse(hooks[1]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ type: "run-end", status: "completed", files: 5, done: 3, failed: 2 });
    expect(hooks[1]!.headers["content-type"]).toBe("application/json");
  });

  it("a nightly re-run does only new or changed work, and revalidates URLs instead of downloading", async () => {
    const b = await batch("first run");
    const { rec, out, server } = b;
    const downloads = server.hits("/media/talk.wav");
    const r = await nightlyRun(b);
    expect(r.code).toBe(3); // broken.wav still fails
    const events = parseEvents(r.stdout);
    expect(events.filter((e) => e.type === "file-start").map((e) => String(e.file))).toEqual([join(rec, "new.wav")]);
    expect(events.filter((e) => e.type === "file-skipped")).toHaveLength(3);
    // the corrupt file is reported again, not decoded again
    const broken = events.find((e) => e.type === "file-failed")!;
    expect(broken).toMatchObject({ file: join(rec, "broken.wav"), code: "MEDIA_UNREADABLE" });
    expect(String(broken.message)).toMatch(/\(unchanged since; fix the file, or run speechflow retry\)$/);
    expect(server.hits("/media/talk.wav")).toBe(downloads + 1);
    expect(server.requests.filter((q) => q.path === "/media/talk.wav").at(-1)!.headers["if-none-match"]).toBe('"v1"');
    const m = manifest(out);
    expect(byPath(m, "a.wav").status).toBe("unchanged");
    expect(byPath(m, "new.wav").status).toBe("done");
  });

  it("retry re-runs only the failed files, keeping their output paths", async () => {
    const b = await batch("nightly re-run");
    const { rec, out, server } = b;
    const r = await retryRun(b);
    expect(r.code, r.stderr).toBe(3); // gone.mp3 is still 404
    const events = parseEvents(r.stdout);
    expect(events.filter((e) => e.type === "file-start").map((e) => String(e.file))).toEqual([join(rec, "broken.wav")]);
    expect(events.filter((e) => e.type === "file-failed").map((e) => String(e.file))).toEqual([`${server.url}/media/gone.mp3`]);
    expect(existsSync(join(out, "broken.txt"))).toBe(true);
  });

  it("status --json reports counts, failures with causes and run timings", async () => {
    const { work, out, server, env } = await batch("retried");
    const r = await runCli(["status", "-o", out, "--json"], { cwd: work, env });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      files: Record<string, number>;
      failures: { path: string; code: string; error: string }[];
      runs: { status: string; elapsedMs: number; done: number }[];
    };
    expect(s.files).toMatchObject({ total: 6, done: 5, failed: 1 });
    expect(s.failures).toEqual([expect.objectContaining({ path: `${server.url}/media/gone.mp3`, code: "DOWNLOAD_FAILED", error: "not found (HTTP 404)" })]);
    expect(s.runs).toHaveLength(3);
    expect(s.runs[0]!.elapsedMs).toBeGreaterThan(0);
  });

  it("clean forgets files that no longer exist (and with --outputs their transcripts), nothing else", async () => {
    const { work, rec, out, env } = await batch("retried");
    rmSync(join(rec, "b.flac"));
    const dry = await runCli(["clean", "-o", out, "--dry-run"], { cwd: work, env });
    expect(dry.stdout).toContain(`would remove ${join(rec, "b.flac")}`);
    expect(existsSync(join(out, "b.txt"))).toBe(true);
    const r = await runCli(["clean", "-o", out, "--outputs"], { cwd: work, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("1 file(s) were forgotten; 5 remain");
    expect(existsSync(join(out, "b.txt"))).toBe(false);
    expect(existsSync(join(out, "a.txt"))).toBe(true);
    const s = JSON.parse((await runCli(["status", "-o", out, "--json"], { cwd: work, env })).stdout) as { files: { total: number } };
    expect(s.files.total).toBe(5);
  });

  it("a webhook that never answers is a warning, not a failure", async () => {
    const { work, rec, env } = await batch("inputs");
    const closed = await startServer({});
    await closed.close(); // a port where nothing listens any more
    const hook = `${closed.url}/hook`;
    const r = await runCli(["transcribe", join(rec, "a.wav"), "-o", join(work, "out-hook"), "--notify-url", hook, ...base], {
      cwd: work,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/run-end notification not delivered after 4 attempt\(s\): http:\/\/127\.0\.0\.1:\d+\/hook: ECONNREFUSED/);
  });
});

describe("credentials in URLs", () => {
  it("are used for the download and never written to the database, manifest, outputs or logs", async () => {
    const { work, server, host, env } = await batch("inputs");
    const credOut = join(work, "out-cred");
    const url = `http://ops:s3cret-pass@${server.url.slice(7)}/private/talk.wav?token=abc123secret`;
    const hook = `http://hookuser:hook-pass@${server.url.slice(7)}/hook`;
    const r = await runCli(["transcribe", url, "-o", credOut, "--json", "--notify-url", hook, ...base], { cwd: work, env });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(credOut, host, "talk.txt"))).toBe(true);
    const everything = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everything(join(dir, e.name)) : [join(dir, e.name)]));
    const leaks = [r.stdout, r.stderr, ...everything(credOut).map((f) => readFileSync(f, "latin1"))].filter((t) =>
      /s3cret-pass|abc123secret|hook-pass/.test(t),
    );
    expect(leaks).toEqual([]);
    expect(readFileSync(join(credOut, "manifest.jsonl"), "utf8")).toContain("/private/talk.wav?token=REDACTED");
    recordReliability("security-credentials", [
      {
        area: "security",
        case: "URL input with user:password and ?token=, webhook URL with user:password",
        expected: "downloads and notifies; secrets absent from DB, manifest, transcripts, NDJSON and stderr",
        observed: "downloaded with Basic auth; no secret in any file under the output folder or in the logs",
        pass: leaks.length === 0,
      },
    ]);
  });
});

describe("--quiet for cron", () => {
  it("prints nothing when everything succeeded, and the summary with the failures when not", async () => {
    const { work, rec, env } = await batch("inputs");
    const quietOut = join(work, "out-quiet");
    const ok = await runCli(["transcribe", join(rec, "a.wav"), "-o", quietOut, "-q", ...base], { cwd: work, env });
    expect(ok.code).toBe(0);
    expect(ok.stdout + ok.stderr).toBe("");
    const bad = await runCli(["transcribe", join(rec, "a.wav"), join(rec, "nope.wav"), "-o", quietOut, "-q", ...base], { cwd: work, env });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^speechflow: 2 files, 0 done, 1 unchanged, 1 failed; /),
      expect.stringMatching(/^ {2}✗ .*nope\.wav: no such file or directory \[INPUT_NOT_FOUND\]$/),
    ]);
  });
});
