import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import type { Emit } from "../core/events.js";
import { parseRetryAfter, withRetry } from "../core/retry.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { isMediaPath, mediaExtension } from "./media-extensions.js";
import { redactUrl, splitCredentials } from "./redact-url.js";

export interface DownloadOptions {
  /** one sub-folder per URL is kept here, so a re-run can ask the server "changed since?" */
  cacheDir: string;
  timeoutMs: number;
  attempts: number;
  maxBytes: number;
  signal: AbortSignal;
  emit: Emit;
  env: NodeJS.ProcessEnv;
  offline: boolean;
  /** first retry delay; doubles each time (tests shorten it) */
  baseDelayMs?: number;
}

export interface Downloaded {
  path: string;
  bytes: number;
  cached: boolean;
}

interface CacheMeta {
  url: string;
  file: string;
  etag: string | null;
  lastModified: string | null;
  via: "http" | "yt-dlp";
}

const MAX_REDIRECTS = 5;

/** Sites whose pages hold the media: always handed to yt-dlp. */
const PAGE_HOSTS =
  /(^|\.)(youtube\.com|youtu\.be|vimeo\.com|soundcloud\.com|dailymotion\.com|twitch\.tv|twitter\.com|x\.com|tiktok\.com|facebook\.com|instagram\.com|bilibili\.com|archive\.org\/details)$/i;

export const isUrl = (input: string) => /^https?:\/\//i.test(input);

export function cacheKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 24);
}

/** File name for a URL's transcripts: the last path segment, tamed; never a path. */
export function urlOutputName(raw: string): { host: string; name: string } {
  const url = new URL(raw);
  const last = url.pathname.split("/").filter(Boolean).pop() ?? "";
  let decoded = last;
  try {
    // an encoded "/" must not smuggle a path in: only the last segment of the decoded name counts
    decoded = decodeURIComponent(last).split(/[/\\]/).filter(Boolean).pop() ?? "";
  } catch {
    // keep it encoded
  }
  const tame = (s: string) =>
    s
      .normalize("NFC")
      .replace(/[^\p{L}\p{N}._-]+/gu, "_")
      .replace(/^[._-]+/, "")
      .slice(0, 120);
  const stem = tame(decoded.replace(/\.[^.]*$/, "")) || tame(url.searchParams.get("v") ?? "") || "download";
  return { host: tame(url.host.replace(/:/g, "_")) || "host", name: stem };
}

/** Text where media was expected: an error page, a login page, a JSON error. */
function looksLikeText(head: Buffer): string | undefined {
  const s = head
    .subarray(0, 256)
    .toString("latin1")
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, "")
    .trimStart()
    .toLowerCase();
  if (s.startsWith("<!doctype html") || s.startsWith("<html") || s.startsWith("<head") || s.startsWith("<body")) return "an HTML page";
  if (s.startsWith("<?xml")) return "an XML document";
  if (s.startsWith("{") || s.startsWith("[")) return "JSON";
  return undefined;
}

function extensionFromMagic(head: Buffer, contentType: string): string {
  const ascii = head.subarray(0, 12).toString("latin1");
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WAVE") return "wav";
  if (ascii.startsWith("fLaC")) return "flac";
  if (ascii.startsWith("OggS")) return "ogg";
  if (ascii.startsWith("ID3") || (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0)) return "mp3";
  if (ascii.slice(4, 8) === "ftyp") return contentType.startsWith("video/") ? "mp4" : "m4a";
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return "webm";
  return "bin";
}

class RetryableDownloadError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Downloads a URL into the cache and returns the local file. Streams to disk (no size limit on
 * memory), bounds redirects and size, times out a silent server, retries 5xx/429/resets/timeouts
 * with backoff, and refuses text (an HTML error page named .mp3) before ffmpeg ever sees it.
 * Page URLs (YouTube and the like) go through yt-dlp.
 */
export async function downloadUrl(url: string, options: DownloadOptions): Promise<Downloaded> {
  const shown = redactUrl(url);
  const fail = (message: string, retryable = false) => new SpeechflowError("DOWNLOAD_FAILED", message, { file: shown, retryable });
  if (options.offline) throw new SpeechflowError("USAGE", "offline mode is on: not downloading", { file: shown });
  const dir = join(options.cacheDir, cacheKey(url));
  mkdirSync(dir, { recursive: true });
  const metaPath = join(dir, "meta.json");
  let meta: CacheMeta | undefined;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8")) as CacheMeta;
    if (!existsSync(join(dir, meta.file))) meta = undefined;
  } catch {
    meta = undefined;
  }

  if (PAGE_HOSTS.test(new URL(url).host)) return viaYtDlp(url, dir, meta, options);

  try {
    return await withRetry(() => fetchOnce(url, dir, meta, options), {
      attempts: options.attempts,
      baseDelayMs: options.baseDelayMs ?? 1000,
      signal: options.signal,
      classify: (error) => (error instanceof RetryableDownloadError ? { retry: true, delayMs: error.retryAfterMs } : { retry: false }),
      onRetry: ({ attempt, delayMs, error }) =>
        options.emit({
          type: "warning",
          file: shown,
          message: `${(error as Error).message}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${options.attempts})`,
        }),
    });
  } catch (error) {
    if (options.signal.aborted && error === options.signal.reason) throw new SpeechflowError("INTERRUPTED", "interrupted", { file: shown });
    if (error instanceof SpeechflowError) throw error;
    if (error instanceof PageUrl) return viaYtDlp(url, dir, meta, options);
    if (error instanceof RetryableDownloadError) {
      throw fail(`download failed after ${options.attempts} attempt${options.attempts > 1 ? "s" : ""}: ${error.message}`, true);
    }
    throw fail((error as Error).message);
  }
}

class PageUrl extends Error {}

/** One attempt's abort controller: aborted by the run's signal or when the server stays silent too long. */
class AttemptTimer {
  readonly controller = new AbortController();
  /** what timed out ("no response", "stalled"), empty while nothing did */
  timedOut = "";
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.controller.abort();

  constructor(
    private readonly signal: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** (re)starts the silence timer: each response and each piece of data must come within timeoutMs */
  arm(what: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = what;
      this.controller.abort();
    }, this.timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener("abort", this.onAbort);
  }
}

interface Attempt {
  url: string;
  shown: string;
  dir: string;
  meta: CacheMeta | undefined;
  options: DownloadOptions;
  timer: AttemptTimer;
}

async function fetchOnce(url: string, dir: string, meta: CacheMeta | undefined, options: DownloadOptions): Promise<Downloaded> {
  const attempt: Attempt = { url, shown: redactUrl(url), dir, meta, options, timer: new AttemptTimer(options.signal, options.timeoutMs) };
  const part = join(dir, "download.part");
  try {
    const { response, current } = await followRedirects(attempt);
    const cached = await checkResponse(response, current, attempt);
    if (cached) return cached;
    const length = Number(response.headers.get("content-length") ?? NaN);
    options.emit({ type: "download-start", file: attempt.shown, totalBytes: Number.isNaN(length) ? null : length });
    const { received, head } = await streamBody(response, part, length, attempt);
    return placeDownload(response, current, part, received, head, attempt);
  } finally {
    attempt.timer.dispose();
    rmSync(part, { force: true });
  }
}

/** GETs the URL, following at most MAX_REDIRECTS redirects (loops and non-HTTP targets refused). */
async function followRedirects(attempt: Attempt): Promise<{ response: Response; current: string }> {
  const { shown, meta, options, timer } = attempt;
  let current = attempt.url;
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    const { url: target, headers } = splitCredentials(current);
    const conditional: Record<string, string> = {};
    if (meta?.via === "http" && hop === 0) {
      if (meta.etag) conditional["if-none-match"] = meta.etag;
      if (meta.lastModified) conditional["if-modified-since"] = meta.lastModified;
    }
    timer.arm("no response");
    let response: Response;
    try {
      response = await fetch(target, {
        redirect: "manual",
        signal: timer.controller.signal,
        headers: { ...headers, ...conditional, "user-agent": `${TOOL_NAME}/${TOOL_VERSION}`, accept: "audio/*, video/*, */*;q=0.5" },
      });
    } catch (error) {
      if (options.signal.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted", { file: shown });
      if (timer.timedOut) throw new RetryableDownloadError(`no response within ${options.timeoutMs / 1000} s`);
      const e = error as Error & { cause?: { code?: string; message?: string } };
      throw new RetryableDownloadError(`connection failed (${e.cause?.code ?? e.cause?.message ?? e.message})`);
    }
    if (response.status < 300 || response.status >= 400 || response.status === 304) return { response, current };
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (!location) throw new SpeechflowError("DOWNLOAD_FAILED", `HTTP ${response.status} without a Location header`, { file: shown });
    const next = new URL(location, current).toString();
    if (seen.has(next) || next === attempt.url) throw new SpeechflowError("DOWNLOAD_FAILED", "redirect loop", { file: shown });
    if (hop + 1 > MAX_REDIRECTS) throw new SpeechflowError("DOWNLOAD_FAILED", `more than ${MAX_REDIRECTS} redirects`, { file: shown });
    if (!isUrl(next)) throw new SpeechflowError("DOWNLOAD_FAILED", `redirected to a non-HTTP URL (${redactUrl(next)})`, { file: shown });
    seen.add(next);
    current = next;
  }
}

/**
 * Judges the final response before any body is read: 304 = the cached copy (returned), 429/5xx =
 * retry, other errors, oversized and text bodies = refused, a page = yt-dlp.
 */
async function checkResponse(response: Response, current: string, attempt: Attempt): Promise<Downloaded | undefined> {
  const { shown, meta, options } = attempt;
  const refuse = async (error: Error) => {
    await response.body?.cancel();
    return error;
  };
  if (response.status === 304 && meta) {
    await response.body?.cancel();
    const path = join(attempt.dir, meta.file);
    const bytes = statSync(path).size;
    options.emit({ type: "download-done", file: shown, bytes, cached: true });
    return { path, bytes, cached: true };
  }
  if (response.status === 429 || response.status >= 500)
    throw await refuse(new RetryableDownloadError(`HTTP ${response.status}`, parseRetryAfter(response.headers.get("retry-after"))));
  if (response.status !== 200) {
    const reason =
      response.status === 404
        ? "not found (HTTP 404)"
        : response.status === 401 || response.status === 403
          ? `access denied (HTTP ${response.status})`
          : `HTTP ${response.status}`;
    throw await refuse(new SpeechflowError("DOWNLOAD_FAILED", reason, { file: shown }));
  }
  const contentType = (response.headers.get("content-type") ?? "").toLowerCase();
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (!Number.isNaN(length) && length > options.maxBytes) {
    const over = `${(length / 1048576).toFixed(1)} MiB is over the ${(options.maxBytes / 1048576).toFixed(0)} MiB limit (maxDownloadMiB)`;
    throw await refuse(new SpeechflowError("DOWNLOAD_FAILED", over, { file: shown }));
  }
  if (contentType.startsWith("text/html") && !isMediaPath(new URL(current).pathname)) throw await refuse(new PageUrl());
  if (/^(text\/|application\/(json|xml|xhtml))/.test(contentType)) {
    throw await refuse(new SpeechflowError("DOWNLOAD_FAILED", `the server sent ${contentType.split(";")[0]}, not audio or video`, { file: shown }));
  }
  return undefined;
}

/** Streams the body to `part`, counting bytes against the limit and sniffing the first bytes for text. */
async function streamBody(response: Response, part: string, length: number, attempt: Attempt): Promise<{ received: number; head: Buffer }> {
  const { shown, options, timer } = attempt;
  const limitMiB = (options.maxBytes / 1048576).toFixed(0);
  const out = createWriteStream(part);
  let received = 0;
  let head = Buffer.alloc(0);
  let lastProgress = 0;
  const reader = response.body!.getReader();
  try {
    for (;;) {
      timer.arm("stalled");
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > options.maxBytes) throw new SpeechflowError("DOWNLOAD_FAILED", `larger than the ${limitMiB} MiB limit (maxDownloadMiB)`, { file: shown });
      if (head.length < 512) {
        head = Buffer.concat([head, Buffer.from(value)]).subarray(0, 512);
        const text = head.length >= 64 || received === length ? looksLikeText(head) : undefined;
        if (text) throw new SpeechflowError("DOWNLOAD_FAILED", `the server sent ${text}, not audio or video`, { file: shown });
      }
      if (!out.write(value)) await new Promise<void>((r) => out.once("drain", () => r()));
      if (Date.now() - lastProgress > 250) {
        lastProgress = Date.now();
        options.emit({ type: "download-progress", file: shown, receivedBytes: received, totalBytes: Number.isNaN(length) ? null : length });
      }
    }
  } catch (error) {
    out.destroy();
    if (error instanceof SpeechflowError) throw error;
    if (options.signal.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted", { file: shown });
    if (timer.timedOut) throw new RetryableDownloadError(`no data for ${options.timeoutMs / 1000} s after ${received} bytes`);
    throw new RetryableDownloadError(
      `connection lost after ${received} bytes (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`,
    );
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (!Number.isNaN(length) && received !== length) throw new RetryableDownloadError(`connection closed after ${received} of ${length} bytes`);
  return { received, head };
}

/** Checks the finished body and moves it into the cache as media.<ext>, with its revalidation headers. */
function placeDownload(response: Response, current: string, part: string, received: number, head: Buffer, attempt: Attempt): Downloaded {
  const { shown, dir, options } = attempt;
  if (received === 0) throw new SpeechflowError("DOWNLOAD_FAILED", "the server sent an empty body", { file: shown });
  const text = looksLikeText(head);
  if (text) throw new SpeechflowError("DOWNLOAD_FAILED", `the server sent ${text}, not audio or video`, { file: shown });
  const contentType = (response.headers.get("content-type") ?? "").toLowerCase();
  const ext = mediaExtension(new URL(current).pathname) || extensionFromMagic(head, contentType);
  const file = `media.${isMediaPath(`x.${ext}`) ? ext : extensionFromMagic(head, contentType)}`;
  for (const old of readdirSync(dir)) if (old.startsWith("media.")) rmSync(join(dir, old), { force: true });
  renameSync(part, join(dir, file));
  const fresh: CacheMeta = { url: shown, file, etag: response.headers.get("etag"), lastModified: response.headers.get("last-modified"), via: "http" };
  writeFileSync(join(dir, "meta.json"), JSON.stringify(fresh, null, 2));
  options.emit({ type: "download-done", file: shown, bytes: received, cached: false });
  return { path: join(dir, file), bytes: received, cached: false };
}

/** yt-dlp fetches the media behind a page; argument array, and "--" before the URL. */
async function viaYtDlp(url: string, dir: string, meta: CacheMeta | undefined, options: DownloadOptions): Promise<Downloaded> {
  const shown = redactUrl(url);
  if (meta?.via === "yt-dlp") {
    const path = join(dir, meta.file);
    const bytes = statSync(path).size;
    options.emit({ type: "download-done", file: shown, bytes, cached: true });
    return { path, bytes, cached: true };
  }
  const ytDlp = options.env.SPEECHFLOW_YT_DLP || "yt-dlp";
  options.emit({ type: "download-start", file: shown, totalBytes: null });
  let printed: string;
  try {
    const result = await execa(
      ytDlp,
      [
        "--no-playlist",
        "--no-progress",
        "-f",
        "bestaudio/best",
        "--max-filesize",
        String(options.maxBytes),
        "-o",
        join(dir, "media.%(ext)s"),
        "--print",
        "after_move:filepath",
        "--",
        url,
      ],
      { env: options.env, extendEnv: false, cancelSignal: options.signal, timeout: 6 * 3600 * 1000, stripFinalNewline: true },
    );
    printed = result.stdout.split("\n").filter(Boolean).pop() ?? "";
  } catch (error) {
    const e = error as { code?: string; isCanceled?: boolean; stderr?: string; shortMessage?: string };
    if (e.isCanceled) throw new SpeechflowError("INTERRUPTED", "interrupted", { file: shown });
    if (e.code === "ENOENT") {
      throw new SpeechflowError(
        "DOWNLOAD_FAILED",
        "this is a web page, not a media file: install yt-dlp (https://github.com/yt-dlp/yt-dlp) to transcribe the media on it",
        { file: shown },
      );
    }
    const last =
      (e.stderr ?? "")
        .split("\n")
        .filter((l) => /error/i.test(l))
        .pop() ??
      e.shortMessage ??
      "failed";
    throw new SpeechflowError("DOWNLOAD_FAILED", `yt-dlp: ${last.replace(/^ERROR:\s*/, "").slice(0, 300)}`, { file: shown, retryable: true });
  }
  const file = printed.startsWith(dir) ? printed.slice(dir.length + 1) : (readdirSync(dir).find((f) => f.startsWith("media.")) ?? "");
  if (!file || !existsSync(join(dir, file))) throw new SpeechflowError("DOWNLOAD_FAILED", "yt-dlp finished but wrote no file", { file: shown });
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ url: shown, file, etag: null, lastModified: null, via: "yt-dlp" } satisfies CacheMeta, null, 2));
  const bytes = statSync(join(dir, file)).size;
  options.emit({ type: "download-done", file: shown, bytes, cached: false });
  return { path: join(dir, file), bytes, cached: false };
}
