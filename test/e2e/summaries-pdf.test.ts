import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sentenceClips } from "../helpers/corpus.js";
import { type FakeOpenAi, startFakeOpenAi, summaryReply } from "../helpers/fake-openai-server.js";
import { compose } from "../helpers/media.js";
import { ARTIFACTS, MICRO_MODEL_PATH } from "../helpers/paths.js";
import { minimalEnv, parseEvents, runCli } from "../helpers/run-cli.js";

const KEY = "sk-e2e-DO-NOT-LEAK-4242424242";
let work: string;
let rec: string;
let out: string;
let llm: FakeOpenAi;
const base = ["-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1"];
const env = () => minimalEnv(work, { OPENAI_API_KEY: KEY, SPEECHFLOW_RETRY_BASE_MS: "10" });

function everyFile(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everyFile(join(dir, e.name)) : [join(dir, e.name)]));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sf-summary-"));
  rec = join(work, "rec");
  out = join(work, "out");
  const clips = sentenceClips();
  compose([clips[0]!, 0.6, clips[1]!], join(rec, "standup.wav"));
  // leading silence: its transcript starts later, so the two transcripts (and summaries) differ
  compose([3, clips[2]!], join(rec, "retro.flac"));
  llm = await startFakeOpenAi(() => ({ kind: "reply", content: summaryReply() }));
});

afterAll(() => llm.close());

describe("--summarize --pdf --report through the CLI", () => {
  it("writes summaries, per-file PDFs and report.pdf that poppler reads back, Unicode intact", async () => {
    const r = await runCli(
      ["transcribe", rec, "-o", out, "--summarize", "--pdf", "--report", "--llm-base-url", llm.baseURL, "--llm-model", "fake-4o", ...base],
      {
        cwd: work,
        env: env(),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(llm.requests).toHaveLength(2);
    expect(r.stderr).toMatch(/summaries: 2 written, 0 failed; LLM: 2 requests, [\d,]+ prompt \+ [\d,]+ completion tokens/);

    const md = readFileSync(join(out, "standup.summary.md"), "utf8");
    expect(md).toContain("# Weekly planning: Zürich office");
    expect(md).toContain("- [ ] Send the release notes (Maria)");
    const json = JSON.parse(readFileSync(join(out, "standup.summary.json"), "utf8")) as { kind: string; model: string; chapters: unknown[] };
    expect(json).toMatchObject({ kind: "llm", model: "fake-4o" });

    const pdf = join(out, "standup.pdf");
    const text = execFileSync("pdftotext", ["-enc", "UTF-8", pdf, "-"]).toString("utf8");
    expect(text).toContain("Weekly planning: Zürich office");
    expect(text).toContain("déjà-vu release plan");
    expect(text).toContain("Привет from the Kyiv office");
    expect(text).toContain("Ελληνικά");
    expect(text).toContain("zażółć gęślą jaźń");
    expect(text).toContain("Café budget approved");
    expect(text).toContain("Send the release notes (Maria)");
    expect(text).toMatch(/\[00:0\d\] +mebe/); // the transcript, with timestamps
    const info = execFileSync("pdfinfo", [pdf]).toString("utf8");
    expect(info).toMatch(/^Title:\s+Weekly planning: Zürich office$/m);
    expect(Number(/^Pages:\s+(\d+)$/m.exec(info)![1])).toBeGreaterThanOrEqual(2);
    // the outline (bookmarks) holds the sections and the chapters
    const xml = execFileSync("pdftohtml", ["-xml", "-stdout", "-i", "-q", pdf]).toString("utf8");
    const outline = xml.slice(xml.indexOf("<outline>"));
    for (const item of ["Summary", "Key points", "Action items", "Transcript", "00:00 Opening", "00:04 Budget"]) expect(outline).toContain(`>${item}</item>`);

    const report = execFileSync("pdftotext", ["-enc", "UTF-8", join(out, "report.pdf"), "-"]).toString("utf8");
    expect(report).toContain(join(rec, "standup.wav"));
    expect(report).toContain(join(rec, "retro.flac"));
    expect(report).toContain("déjà-vu release plan");

    // page 1 as an image, for a person to look at (test/.artifacts/pdf)
    const shots = join(ARTIFACTS, "pdf");
    mkdirSync(shots, { recursive: true });
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, join(shots, "standup-page1")]);
    expect(statSync(join(shots, "standup-page1.png")).size).toBeGreaterThan(5000);
  });

  it("never writes the API key anywhere: outputs, PDFs, manifest, state database, logs", async () => {
    const r = await runCli(["status", "-o", out, "--json"], { cwd: work, env: env() });
    expect(r.stdout).not.toContain(KEY);
    for (const file of everyFile(out)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(KEY), file).toBe(false);
      expect(bytes.includes(Buffer.from(KEY, "utf16le")), file).toBe(false);
    }
  });

  it("re-runs pay nothing: up-to-date summaries are kept, deleted ones come from the cache", async () => {
    const before = llm.requests.length;
    const again = await runCli(
      ["transcribe", rec, "-o", out, "--summarize", "--pdf", "--llm-base-url", llm.baseURL, "--llm-model", "fake-4o", "--json", ...base],
      {
        cwd: work,
        env: env(),
      },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(llm.requests.length).toBe(before);
    rmSync(join(out, "retro.summary.json"));
    rmSync(join(out, "retro.pdf"));
    const r = await runCli(["summarize", "-o", out, "--pdf", "--llm-base-url", llm.baseURL, "--llm-model", "fake-4o", "--json"], { cwd: work, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(llm.requests.length).toBe(before);
    const done = parseEvents(r.stdout).filter((e) => e.type === "summary-done");
    expect(done).toEqual([expect.objectContaining({ file: join(rec, "retro.flac"), cached: true, kind: "llm" })]);
    expect(existsSync(join(out, "retro.pdf"))).toBe(true);
  });

  it("a dead endpoint never costs the transcript: extractive summary, exit 3; the next run tries the model again", async () => {
    let down = true;
    const flaky = await startFakeOpenAi(() => (down ? { kind: "status", status: 503 } : { kind: "reply", content: summaryReply() }));
    try {
      const out2 = join(work, "out-dead");
      const args = ["transcribe", rec, "-o", out2, "--summarize", "--llm-base-url", flaky.baseURL, "--llm-model", "m", "--llm-max-retries", "1", ...base];
      const r = await runCli(args, { cwd: work, env: env() });
      expect(r.code).toBe(3);
      expect(existsSync(join(out2, "standup.txt"))).toBe(true);
      expect(readFileSync(join(out2, "standup.summary.md"), "utf8")).toMatch(/Extractive summary .*the LLM summary failed/);
      expect(r.stderr).toMatch(/summary: .*HTTP 503/);
      // breaker: 1 retry -> 3 failures in a row open it. The two files' summaries may run side by
      // side (llmConcurrency 2): one request can already be in flight when the third failure opens it
      expect(flaky.requests.length).toBeLessThanOrEqual(4);
      const status = JSON.parse((await runCli(["status", "-o", out2, "--json"], { cwd: work, env: env() })).stdout) as { files: { done: number } };
      expect(status.files.done).toBe(2);

      down = false;
      const again = await runCli(args, { cwd: work, env: env() });
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(join(out2, "standup.summary.md"), "utf8")).toContain("# Weekly planning: Zürich office");
    } finally {
      await flaky.close();
    }
  });

  it("tells the user when llmBaseUrl is set without a model (exit 2)", async () => {
    const r = await runCli(["transcribe", rec, "-o", join(work, "o3"), "--summarize", "--llm-base-url", llm.baseURL, ...base], { cwd: work, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/llmBaseUrl is set but llmModel is empty/);
  });
});
