import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpeechflowEvent } from "../../src/core/events.js";
import { type DownloadOptions, downloadUrl, urlOutputName } from "../../src/inputs/download-url.js";
import { sentenceClips } from "../helpers/corpus.js";
import { mediaRoute, startServer, type TestServer } from "../helpers/http-server.js";

let server: TestServer;
let wav: Buffer;
let cacheDir: string;
const events: SpeechflowEvent[] = [];

const options = (extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  cacheDir,
  timeoutMs: 2000,
  attempts: 3,
  maxBytes: 10 * 1048576,
  signal: new AbortController().signal,
  emit: (e) => events.push(e),
  env: { PATH: "/usr/bin:/bin" },
  offline: false,
  baseDelayMs: 20,
  ...extra,
});

beforeAll(async () => {
  wav = readFileSync(sentenceClips()[0]!);
  cacheDir = mkdtempSync(join(tmpdir(), "sf-dl-"));
  server = await startServer({
    "/talk.wav": mediaRoute(wav),
    "/flaky.wav": (_req, res, hit) => (hit < 3 ? res.writeHead(500).end("oops") : res.writeHead(200, { "content-type": "audio/wav" }).end(wav)),
    "/busy.wav": (_req, res, hit) =>
      hit === 1 ? res.writeHead(429, { "retry-after": "0" }).end() : res.writeHead(200, { "content-type": "audio/wav" }).end(wav),
    "/down.wav": (_req, res) => res.writeHead(503).end(),
    "/slow.wav": (_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav", "content-length": wav.length });
      res.write(wav.subarray(0, 1000)); // then nothing: the read timeout must fire
    },
    "/loop-a": (_req, res) => res.writeHead(302, { location: "/loop-b" }).end(),
    "/loop-b": (_req, res) => res.writeHead(302, { location: "/loop-a" }).end(),
    "/moved.wav": (_req, res) => res.writeHead(301, { location: "/talk.wav" }).end(),
    "/error-page.mp3": (_req, res) =>
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!DOCTYPE html><html><body>Sign in</body></html>"),
    "/disguised.mp3": (_req, res) =>
      res.writeHead(200, { "content-type": "audio/mpeg" }).end("<!doctype html><html><head><title>404</title></head><body>gone</body></html>".padEnd(400)),
    "/huge.wav": (_req, res) => res.writeHead(200, { "content-type": "audio/wav", "content-length": 50 * 1048576 }).end(),
    "/endless.wav": (_req, res) => {
      // no Content-Length: only counting the bytes can stop it
      res.writeHead(200, { "content-type": "audio/wav" });
      const block = Buffer.alloc(65536, 1);
      block.write("RIFF");
      const pump = () => {
        while (res.write(block)) if (res.writableLength > 1 << 22) break;
      };
      res.on("drain", pump);
      pump();
    },
    "/watch": (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html><video src='/talk.wav'></video></html>"),
    "/secret.wav": (req, res) =>
      req.headers.authorization === `Basic ${Buffer.from("me:hunter2").toString("base64")}`
        ? res.writeHead(200, { "content-type": "audio/wav" }).end(wav)
        : res.writeHead(401).end(),
  });
});

afterAll(() => server.close());

describe("downloadUrl against a real HTTP server", () => {
  it("downloads a 200, then revalidates with the ETag (304) instead of downloading again", async () => {
    const first = await downloadUrl(`${server.url}/talk.wav`, options());
    expect(first.cached).toBe(false);
    expect(readFileSync(first.path).equals(wav)).toBe(true);
    expect(first.path).toMatch(/media\.wav$/);
    const second = await downloadUrl(`${server.url}/talk.wav`, options());
    expect(second).toMatchObject({ cached: true, path: first.path });
    const asked = server.requests.filter((r) => r.path === "/talk.wav");
    expect(asked.at(-1)!.headers["if-none-match"]).toBe('"v1"');
  });

  it("fails a 404 at once with a clear message (no retries)", async () => {
    await expect(downloadUrl(`${server.url}/missing.wav`, options())).rejects.toThrow(/not found \(HTTP 404\)/);
    expect(server.hits("/missing.wav")).toBe(1);
  });

  it("retries 500s with backoff and succeeds on the third attempt; honours 429 Retry-After", async () => {
    const got = await downloadUrl(`${server.url}/flaky.wav`, options());
    expect(readFileSync(got.path).equals(wav)).toBe(true);
    expect(server.hits("/flaky.wav")).toBe(3);
    await downloadUrl(`${server.url}/busy.wav`, options());
    expect(server.hits("/busy.wav")).toBe(2);
  });

  it("gives up after the configured attempts on a server that keeps failing", async () => {
    await expect(downloadUrl(`${server.url}/down.wav`, options({ attempts: 2 }))).rejects.toThrow(/download failed after 2 attempts: HTTP 503/);
    expect(server.hits("/down.wav")).toBe(2);
  });

  it("times out a server that stops sending, and leaves no partial file", async () => {
    await expect(downloadUrl(`${server.url}/slow.wav`, options({ timeoutMs: 300, attempts: 1 }))).rejects.toThrow(/no data for 0.3 s after 1000 bytes/);
  });

  it("follows a redirect, and stops a redirect loop", async () => {
    const moved = await downloadUrl(`${server.url}/moved.wav`, options());
    expect(readFileSync(moved.path).equals(wav)).toBe(true);
    await expect(downloadUrl(`${server.url}/loop-a`, options())).rejects.toThrow(/redirect loop/);
  });

  it("refuses an HTML page served as .mp3, by content type and by its first bytes", async () => {
    await expect(downloadUrl(`${server.url}/error-page.mp3`, options())).rejects.toThrow(/sent text\/html, not audio or video/);
    await expect(downloadUrl(`${server.url}/disguised.mp3`, options())).rejects.toThrow(/sent an HTML page, not audio or video/);
  });

  it("refuses a response over the size limit, announced or not", async () => {
    await expect(downloadUrl(`${server.url}/huge.wav`, options({ maxBytes: 1048576 }))).rejects.toThrow(/50\.0 MiB is over the 1 MiB limit/);
    await expect(downloadUrl(`${server.url}/endless.wav`, options({ maxBytes: 1048576 }))).rejects.toThrow(/larger than the 1 MiB limit/);
  });

  it("sends URL credentials as Basic auth and never shows them", async () => {
    const before = events.length;
    const got = await downloadUrl(`http://me:hunter2@${server.url.slice(7)}/secret.wav`, options());
    expect(readFileSync(got.path).equals(wav)).toBe(true);
    const shown = JSON.stringify(events.slice(before)) + readFileSync(join(got.path, "..", "meta.json"), "utf8");
    expect(shown).not.toContain("hunter2");
    expect(shown).toContain("/secret.wav");
  });

  it("hands a page URL to yt-dlp, with a clear message when it is not installed", async () => {
    await expect(downloadUrl(`${server.url}/watch`, options({ env: { PATH: "/nonexistent" } }))).rejects.toThrow(/web page, not a media file: install yt-dlp/);
  });

  it("refuses to download in offline mode", async () => {
    await expect(downloadUrl(`${server.url}/talk.wav`, options({ offline: true }))).rejects.toThrow(/offline/);
  });
});

describe("urlOutputName", () => {
  it.each([
    ["https://example.org/media/Talk%20One.mp3", { host: "example.org", name: "Talk_One" }],
    ["https://example.org/a/..%2F..%2Fetc%2Fpasswd", { host: "example.org", name: "passwd" }],
    ["https://example.org/", { host: "example.org", name: "download" }],
    ["https://www.youtube.com/watch?v=dQw4w9WgXcQ", { host: "www.youtube.com", name: "watch" }],
    ["http://127.0.0.1:8080/-rf.wav", { host: "127.0.0.1_8080", name: "rf" }],
  ])("%s", (url, expected) => {
    const got = urlOutputName(url);
    expect(got).toEqual(expected);
    expect(got.name).not.toMatch(/[/\\]|^\.|^-/);
  });

  it("never lets a URL name climb out of the cache dir", () => {
    expect(existsSync(join(cacheDir, "..", "etc_passwd"))).toBe(false);
  });
});
