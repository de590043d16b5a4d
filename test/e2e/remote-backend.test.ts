import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { meeting, sentenceClips } from "../helpers/corpus.js";
import { type FakeTranscriptionServer, startFakeTranscriptionServer } from "../helpers/fake-transcription-server.js";
import { compose } from "../helpers/media.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli, startCli, waitForEvents } from "../helpers/run-cli.js";

/**
 * --engine remote and --remote-fallback against a real HTTP server on 127.0.0.1 that speaks the
 * OpenAI audio API (multipart upload, decoded with ffmpeg to prove real audio was sent).
 */
const KEY = "sk-test-7f3a9c1e5b2d4f60a8e1";
let work: string;
let meetingDir: string;
let shortDir: string;
const servers: FakeTranscriptionServer[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-remote-"));
  meetingDir = join(work, "meeting");
  // ~90 s of speech with pauses: three or four windows of at most 30 s
  meeting(join(meetingDir, "standup.mp3"), 2, 3, ["-b:a", "48k"]);
  shortDir = join(work, "short");
  const clips = sentenceClips();
  compose([clips[0]!], join(shortDir, "one.wav"));
  compose([clips[1]!], join(shortDir, "two.wav"));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: Parameters<typeof startFakeTranscriptionServer>[0] = {}): Promise<FakeTranscriptionServer> {
  const s = await startFakeTranscriptionServer({ ...options, rules: { requireKey: KEY, ...options.rules } });
  servers.push(s);
  return s;
}

const env = (extra: Record<string, string> = {}) => minimalEnv(work, { SF_TEST_KEY: KEY, SPEECHFLOW_RETRY_BASE_MS: "50", ...extra });
const remote = (s: FakeTranscriptionServer, out: string, input: string, extra: string[] = []) => [
  "transcribe",
  input,
  "-o",
  out,
  "--engine",
  "remote",
  "--remote-base-url",
  s.url,
  "--remote-model",
  "whisper-1",
  "--remote-api-key-env",
  "SF_TEST_KEY",
  "--json",
  ...extra,
];

function chunksOf(out: string) {
  const db = new Database(join(out, ".speechflow", "state.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT idx, audio_ms AS audioMs, status, commits, backend, remote FROM chunks ORDER BY file_id, idx").all() as {
      idx: number;
      audioMs: number;
      status: string;
      commits: number;
      backend: string | null;
      remote: string | null;
    }[];
  } finally {
    db.close();
  }
}

/** every byte under `dir`, as text (the database included) */
function everyByte(dir: string): string {
  let all = "";
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) all += readFileSync(path).toString("latin1");
  }
  return all;
}

type Segment = { start: number; end: number; text: string };

describe("remote backend (--engine remote)", () => {
  it("sends each window once as real audio and maps the segments back onto the file; the key is nowhere", async () => {
    const s = await server();
    const out = join(work, "out-offsets");
    const r = await runCli(remote(s, out, meetingDir), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const chunks = chunksOf(out);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(s.requests).toHaveLength(chunks.length);
    // what arrived decodes to the windows' lengths: real audio, one window per request (in any order)
    const sent = s.requests.map((req) => req.durationMs!).sort((a, b) => a - b);
    const windowsMs = chunks.map((c) => c.audioMs).sort((a, b) => a - b);
    sent.forEach((ms, i) => {
      expect(Math.abs(ms - windowsMs[i]!)).toBeLessThan(40);
    });
    expect(s.requests.every((req) => req.file?.type === "audio/flac" && req.responseFormat === "verbose_json")).toBe(true);
    // no window under 10 s (the file is longer), and each is prompted with the end of the one before
    expect(Math.min(...s.requests.map((req) => req.durationMs!))).toBeGreaterThanOrEqual(10000);
    expect(s.requests[0]!.prompt).toBeUndefined();
    for (let i = 1; i < s.requests.length; i++) expect(s.requests[i]!.prompt).toMatch(new RegExp(`window ${s.requests[i - 1]!.number} part \\d+$`));
    const json = JSON.parse(readFileSync(join(out, "standup.json"), "utf8")) as {
      segments: Segment[];
      durationMs: number;
      chunks: { backend: string; requestIds: string[] }[];
      settings: { backend?: string };
    };
    const windows = new Set(json.segments.map((seg) => /window (\d+)/.exec(seg.text)![1]));
    expect(windows.size).toBe(chunks.length);
    // window k's segments start at or after window k-1's: one offset per window maps them back
    for (let i = 1; i < json.segments.length; i++) expect(json.segments[i]!.start).toBeGreaterThanOrEqual(json.segments[i - 1]!.start);
    const lastWindow = json.segments.filter((seg) => seg.text.includes(`window ${chunks.length} `));
    expect(lastWindow[0]!.start).toBeGreaterThan(json.durationMs / 2);
    const last = json.segments[json.segments.length - 1]!;
    expect(last.end, JSON.stringify(last)).toBeLessThanOrEqual(json.durationMs);
    expect(json.chunks.every((c) => c.backend.startsWith("remote:") && c.requestIds.length === 1)).toBe(true);
    expect(json.settings.backend).toBe(`remote:${new URL(s.url).host}:whisper-1`);
    const end = parseEvents(r.stdout).find((e) => e.type === "run-end") as { remote?: { requests: number; audioSeconds: number } };
    expect(end.remote?.requests).toBe(chunks.length);
    expect(Math.abs(end.remote!.audioSeconds * 1000 - chunks.reduce((a, c) => a + c.audioMs, 0))).toBeLessThan(50);
    expect(chunksOf(out).every((c) => c.backend?.startsWith("remote:") && JSON.parse(c.remote!).requestIds.length === 1)).toBe(true);
    for (const text of [everyByte(out), r.stdout, r.stderr]) expect(text).not.toContain(KEY);
    // a re-run sends nothing: every window is committed
    const again = await runCli(remote(s, out, meetingDir), { cwd: work, env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(s.requests).toHaveLength(chunks.length);
  });

  it("429 with Retry-After: 1 waits at least a second before the next request", async () => {
    const s = await server();
    s.script([{ status: 429, retryAfter: 1 }]);
    const out = join(work, "out-429");
    const r = await runCli(remote(s, out, shortDir, ["--remote-concurrency", "1"]), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests[0]!.status).toBe(429);
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(s.requests.slice(1).every((req) => req.status === 200)).toBe(true);
  });

  it("413 halves the window and never sends that size again", async () => {
    const probe = await server();
    await runCli(remote(probe, join(work, "out-413-probe"), meetingDir), { cwd: work, env: env() });
    const sizes = probe.requests.map((req) => req.file!.bytes.length);
    const limit = Math.floor(Math.max(...sizes) * 0.7);
    const s = await server({ rules: { rejectLargerThanBytes: limit } });
    const out = join(work, "out-413");
    const r = await runCli(remote(s, out, meetingDir, ["--remote-concurrency", "1"]), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const refused = s.requests.filter((req) => req.status === 413).map((req) => req.file!.bytes.length);
    expect(refused.length).toBeGreaterThan(0);
    // after a 413 at size n, nothing of size n or more is ever sent again
    s.requests.forEach((req, i) => {
      const earlier = s.requests.slice(0, i).filter((x) => x.status === 413);
      for (const x of earlier) expect(req.file!.bytes.length).toBeLessThan(x.file!.bytes.length);
    });
    const first = s.requests.findIndex((req) => req.status === 413);
    expect(Math.abs(s.requests[first + 1]!.durationMs! - s.requests[first]!.durationMs! / 2)).toBeLessThan(40);
    const json = JSON.parse(readFileSync(join(out, "standup.json"), "utf8")) as { segments: Segment[]; durationMs: number };
    for (let i = 1; i < json.segments.length; i++) expect(json.segments[i]!.start).toBeGreaterThanOrEqual(json.segments[i - 1]!.start);
  });

  it("401: one clear line, remote use stops for the run, the files fail resumably (exit 3)", async () => {
    const s = await server();
    const out = join(work, "out-401");
    const r = await runCli(remote(s, out, shortDir, ["--remote-concurrency", "1"]), { cwd: work, env: env({ SF_TEST_KEY: "sk-wrong" }) });
    expect(r.code).toBe(3);
    expect(s.requests).toHaveLength(1);
    const refusals = parseEvents(r.stdout).filter((e) => e.type === "warning" && String(e.message).includes("refused the key in SF_TEST_KEY (HTTP 401)"));
    expect(refusals).toHaveLength(1);
    const plain = await runCli(
      remote(s, join(work, "out-401-plain"), shortDir, ["--remote-concurrency", "1"]).filter((a) => a !== "--json"),
      { cwd: work, env: env({ SF_TEST_KEY: "sk-wrong" }) },
    );
    expect(plain.stderr.split("\n").filter((l) => l.includes("refused the key in SF_TEST_KEY (HTTP 401)"))).toHaveLength(1);
    expect(plain.stderr).toMatch(/one\.wav: chunk 0 \(.*\) failed after 1 attempt: remote transcription is off for this run/);
    expect(r.stderr).not.toContain("sk-wrong");
    const fixed = await runCli(remote(s, out, shortDir), { cwd: work, env: env() });
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it("a server that hangs past --remote-timeout-seconds is retried", async () => {
    const s = await server();
    s.script([{ hangMs: 30000 }]);
    const out = join(work, "out-hang");
    const r = await runCli(remote(s, out, shortDir, ["--remote-concurrency", "1", "--remote-timeout-seconds", "1"]), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests.length).toBe(3);
    expect(r.stderr + r.stdout).toMatch(/timed out/i);
  });

  it("gpt-4o-transcribe answers json only: one segment per window, said so in the output", async () => {
    const s = await server({ shape: "openai-json" });
    const out = join(work, "out-json");
    const r = await runCli(remote(s, out, shortDir, ["--remote-model", "gpt-4o-transcribe"]), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests.every((req) => req.responseFormat === "json" && req.timestampGranularities.length === 0)).toBe(true);
    const json = JSON.parse(readFileSync(join(out, "one.json"), "utf8")) as { segments: Segment[]; durationMs: number; chunks: { granularity?: string }[] };
    expect(json.segments).toHaveLength(1);
    expect(json.chunks.map((c) => c.granularity)).toEqual(["text"]);
    expect(json.segments[0]!.start).toBe(0);
  });

  it("a 400 naming an option is retried once without it", async () => {
    const s = await server({ rules: { unsupportedFields: ["timestamp_granularities"] } });
    const r = await runCli(remote(s, join(work, "out-400"), shortDir, ["--remote-concurrency", "1"]), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests.map((req) => req.status)).toEqual([400, 200, 200]);
    expect(s.requests.slice(1).every((req) => req.timestampGranularities.length === 0)).toBe(true);
  });

  it("a preset fills in limits and prices: Groq bills at least 10 s a request, and the run says what it cost", async () => {
    const s = await server();
    const out = join(work, "out-groq");
    const r = await runCli(
      remote(s, out, shortDir, ["--remote-preset", "groq"]).filter((a) => a !== "--json"),
      { cwd: work, env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    const billed = chunksOf(out).map((c) => JSON.parse(c.remote!) as { provider: string; model: string; billedSeconds: number });
    expect(billed.map((b) => [b.provider, b.model, b.billedSeconds])).toEqual([
      ["groq", "whisper-1", 10],
      ["groq", "whisper-1", 10],
    ]);
    // 20 s billed at $0.04 an hour
    expect(r.stderr).toMatch(/remote groq \(whisper-1\): 2 requests, 0\.\d min of audio sent, about \$0\.0002 \(0\.3 min billed\)/);
  });

  it("kill -9 mid-run, then the same command: no window is sent twice", async () => {
    const s = await server();
    const out = join(work, "out-kill");
    mkdirSync(out, { recursive: true });
    const args = remote(s, out, meetingDir, ["--remote-concurrency", "1"]);
    const { child, done } = startCli(args, { cwd: work, env: env() });
    await waitForEvents(child, (events) => events.some((e) => e.type === "chunk-done"));
    child.kill("SIGKILL");
    await done;
    const sentBefore = s.requests.length;
    const r = await runCli(args, { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const chunks = chunksOf(out);
    expect(chunks.every((c) => c.status === "done" && c.commits === 1)).toBe(true);
    // at most the one window in flight at the kill is sent again
    expect(s.requests.length).toBeLessThanOrEqual(chunks.length + 1);
    expect(sentBefore).toBeGreaterThanOrEqual(1);
  });
});

describe("remote fallback (--remote-fallback)", () => {
  const fallback = (s: FakeTranscriptionServer, out: string, extra: string[] = []) => [
    "transcribe",
    shortDir,
    "-o",
    out,
    "-m",
    MICRO_MODEL_PATH,
    "--threads",
    "1",
    "--no-temperature-fallback",
    "--max-attempts",
    "2",
    "--remote-fallback",
    "--remote-base-url",
    s.url,
    "--remote-model",
    "whisper-1",
    "--remote-api-key-env",
    "SF_TEST_KEY",
    "--json",
    ...extra,
  ];

  it("a chunk that crashes every local worker is sent to the remote backend; the others stay local", async () => {
    const s = await server();
    const out = join(work, "out-fallback");
    const r = await runCli(fallback(s, out), { cwd: work, env: env({ SPEECHFLOW_FAULT_ABORT_MARK: "two.wav#" }) });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests).toHaveLength(1);
    const two = JSON.parse(readFileSync(join(out, "two.json"), "utf8")) as { chunks?: { backend: string }[]; settings: { backend?: string } };
    expect(two.chunks?.map((c) => c.backend)).toEqual([`remote:${new URL(s.url).host}`]);
    const one = JSON.parse(readFileSync(join(out, "one.json"), "utf8")) as { chunks?: unknown; settings: { backend?: string } };
    expect(one.chunks).toBeUndefined();
    // local transcripts keep the local fingerprint: no backend in the settings
    expect(one.settings.backend).toBeUndefined();
  });

  it("nothing is uploaded when local transcription works", async () => {
    const s = await server();
    const r = await runCli(fallback(s, join(work, "out-fallback-idle")), { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it("with a refused key, local results are kept and the crashing file fails with one line (exit 3)", async () => {
    const s = await server();
    const out = join(work, "out-fallback-401");
    const r = await runCli(fallback(s, out), { cwd: work, env: env({ SPEECHFLOW_FAULT_ABORT_MARK: "two.wav#", SF_TEST_KEY: "sk-wrong" }) });
    expect(r.code).toBe(3);
    expect(readFileSync(join(out, "one.txt"), "utf8").length).toBeGreaterThan(0);
    const failed = parseEvents(r.stdout).filter((e) => e.type === "file-failed") as unknown as { file: string; message: string }[];
    expect(failed.map((f) => f.file)).toEqual([join(shortDir, "two.wav")]);
    expect(failed[0]!.message).toMatch(/locally: .*worker crashed.*; remotely: remote transcription is off for this run/);
  });
});
