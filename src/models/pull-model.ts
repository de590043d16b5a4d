import { createHash } from "node:crypto";
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { withRetry } from "../core/retry.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type CatalogEntry, modelFileName } from "./model-catalog.js";

export interface PullProgress {
  name: string;
  receivedBytes: number;
  totalBytes: number | undefined;
  resumedFrom: number;
}

export interface PullOptions {
  baseUrl: string;
  dir: string;
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
  /** attempts after a broken connection, each resuming with a Range request */
  attempts?: number;
  /** ms without data before a connection counts as broken */
  stallTimeoutMs?: number;
  /** first wait before a retry (default 500 ms); doubles with each further attempt, jittered */
  retryDelayMs?: number;
}

export interface PullResult {
  path: string;
  bytes: number;
  /** the verified checksum: SHA-1, or SHA-256 for entries that publish one */
  sha1: string;
  resumed: boolean;
}

async function digestOf(path: string, algorithm: "sha1" | "sha256"): Promise<ReturnType<typeof createHash>> {
  const hash = createHash(algorithm);
  if (!existsSync(path)) return hash;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

function describeNetworkError(error: unknown, url: string): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (cause?.code === "ECONNREFUSED") return `cannot reach ${host}: connection refused`;
  if (cause?.code === "ENOTFOUND" || cause?.code === "EAI_AGAIN") return `cannot resolve ${host} (no network, or a wrong model base URL)`;
  if (cause?.code === "ECONNRESET" || cause?.code === "UND_ERR_SOCKET") return `connection to ${host} was cut`;
  return `download from ${host} failed: ${cause?.message ?? (error as Error).message}`;
}

/** Why one attempt failed; `retryable` false ends the pull at once with the same final message. */
class PullAttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** the server closed cleanly before the end: resume at once rather than back off */
    readonly immediate = false,
  ) {
    super(message);
  }
}

/** Everything one attempt needs, and what attempts share (whether a Range request succeeded). */
interface PullJob {
  entry: CatalogEntry;
  options: PullOptions;
  url: string;
  partPath: string;
  finalPath: string;
  resumed: boolean;
}

const interrupted = () => new SpeechflowError("INTERRUPTED", "download interrupted; run the same command to resume it");

/**
 * Downloads `ggml-<name>.bin` into `dir`: streams into `<file>.part`, resumes an existing part with
 * an HTTP Range request (also after a connection breaks mid-way), checks the SHA-1 and renames the
 * file into place only when it matches. A mismatch removes the download.
 */
export async function pullModel(entry: CatalogEntry, options: PullOptions): Promise<PullResult> {
  mkdirSync(options.dir, { recursive: true });
  const finalPath = join(options.dir, entry.fileName ?? modelFileName(entry.name));
  const url = entry.url ?? `${options.baseUrl.replace(/\/+$/, "")}/${modelFileName(entry.name)}`;
  const job: PullJob = { entry, options, url, partPath: `${finalPath}.part`, finalPath, resumed: false };
  try {
    return await withRetry(() => pullOnce(job), {
      attempts: options.attempts ?? 5,
      baseDelayMs: options.retryDelayMs ?? 500,
      signal: options.signal,
      classify: (error) =>
        error instanceof PullAttemptError && error.retryable ? { retry: true, ...(error.immediate ? { delayMs: 0 } : {}) } : { retry: false },
    });
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw interrupted();
    if (!(error instanceof PullAttemptError)) throw error;
    const kept = existsSync(job.partPath) ? " (the part downloaded so far is kept; run the same command to resume)" : "";
    throw new SpeechflowError("MODEL_NOT_FOUND", `could not download model ${entry.name}: ${error.message}${kept}`, { retryable: true });
  }
}

/** One request: resumes the part if there is one, then verifies and places the file. */
async function pullOnce(job: PullJob): Promise<PullResult> {
  const have = existsSync(job.partPath) ? statSync(job.partPath).size : 0;
  const stall = new AbortController();
  const response = await request(job, have, stall.signal);
  if (response.status === 416 && have > 0) {
    // the part is already complete (or longer than the file): verify it as it is
    await response.body?.cancel();
  } else if (response.status === 404) {
    rmSync(job.partPath, { force: true });
    throw new SpeechflowError(
      "MODEL_NOT_FOUND",
      `model ${job.entry.name} is not at ${job.url} (HTTP 404); check the name (speechflow models list) or the mirror (modelBaseUrl)`,
    );
  } else if (!response.ok) {
    await response.body?.cancel();
    throw new PullAttemptError(`${job.url} answered HTTP ${response.status}`, response.status >= 500 || response.status === 429);
  } else {
    await receive(job, response, have, stall);
  }
  return verifyAndPlace(job);
}

async function request(job: PullJob, have: number, stall: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { "user-agent": "speechflow" };
  if (have > 0) headers.range = `bytes=${have}-`;
  const signals = [stall, ...(job.options.signal ? [job.options.signal] : [])];
  try {
    return await fetch(job.url, { headers, signal: AbortSignal.any(signals), redirect: "follow" });
  } catch (error) {
    if (job.options.signal?.aborted) throw interrupted();
    // nothing listens there: retrying will not change that
    const refused = (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
    throw new PullAttemptError(describeNetworkError(error, job.url), !refused);
  }
}

/** Streams the body into the part (appending after a 206); a stall or a cut is retryable. */
async function receive(job: PullJob, response: Response, have: number, stall: AbortController): Promise<void> {
  const partial = response.status === 206;
  if (have > 0 && partial) job.resumed = true;
  const start = partial ? have : 0;
  const length = Number(response.headers.get("content-length") ?? NaN);
  const total = Number.isFinite(length) ? start + length : undefined;
  const stallTimeoutMs = job.options.stallTimeoutMs ?? 30000;
  const fd = openSync(job.partPath, partial ? "a" : "w");
  let received = start;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), stallTimeoutMs);
  };
  try {
    arm();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk);
      received += chunk.length;
      arm();
      job.options.onProgress?.({ name: job.entry.name, receivedBytes: received, totalBytes: total, resumedFrom: start });
    }
    fsyncSync(fd);
  } catch (error) {
    if (job.options.signal?.aborted) throw interrupted();
    const why = stall.signal.aborted ? `no data from ${new URL(job.url).host} for ${stallTimeoutMs / 1000} s` : describeNetworkError(error, job.url);
    throw new PullAttemptError(why, true); // the next attempt resumes from what arrived
  } finally {
    clearTimeout(timer);
    closeSync(fd);
  }
  if (total !== undefined && received < total) throw new PullAttemptError(`connection closed after ${received} of ${total} bytes`, true, true);
}

async function verifyAndPlace(job: PullJob): Promise<PullResult> {
  const algorithm = job.entry.sha256 ? "sha256" : "sha1";
  const expected = job.entry.sha256 ?? job.entry.sha1;
  const actual = (await digestOf(job.partPath, algorithm)).digest("hex");
  if (actual !== expected) {
    rmSync(job.partPath, { force: true });
    const label = algorithm === "sha256" ? "SHA-256" : "SHA-1";
    throw new SpeechflowError(
      "MODEL_INVALID",
      `checksum mismatch for ${job.entry.name}: expected ${label} ${expected}, got ${actual}; the download was deleted (a broken mirror or a changed file)`,
    );
  }
  renameSync(job.partPath, job.finalPath);
  return { path: job.finalPath, bytes: statSync(job.finalPath).size, sha1: actual, resumed: job.resumed };
}
