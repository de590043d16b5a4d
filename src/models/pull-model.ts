import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, renameSync, rmSync, statSync, writeSync, fsyncSync } from "node:fs";
import { join } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { modelFileName, type CatalogEntry } from "./model-catalog.js";

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
  retryDelayMs?: number;
}

export interface PullResult {
  path: string;
  bytes: number;
  sha1: string;
  resumed: boolean;
}

async function sha1Of(path: string): Promise<ReturnType<typeof createHash>> {
  const hash = createHash("sha1");
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

/**
 * Downloads `ggml-<name>.bin` into `dir`: streams into `<file>.part`, resumes an existing part with
 * an HTTP Range request (also after a connection breaks mid-way), checks the SHA-1 and renames the
 * file into place only when it matches. A mismatch removes the download.
 */
export async function pullModel(entry: CatalogEntry, options: PullOptions): Promise<PullResult> {
  mkdirSync(options.dir, { recursive: true });
  const finalPath = join(options.dir, modelFileName(entry.name));
  const partPath = `${finalPath}.part`;
  const url = `${options.baseUrl.replace(/\/+$/, "")}/${modelFileName(entry.name)}`;
  const attempts = options.attempts ?? 5;
  let resumed = false;
  let lastError = "";

  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted) throw new SpeechflowError("INTERRUPTED", "download interrupted; run the same command to resume it");
    const have = existsSync(partPath) ? statSync(partPath).size : 0;
    const headers: Record<string, string> = { "user-agent": "speechflow" };
    if (have > 0) headers.range = `bytes=${have}-`;
    const stall = new AbortController();
    const signals = [stall.signal, ...(options.signal ? [options.signal] : [])];
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.any(signals), redirect: "follow" });
    } catch (error) {
      if (options.signal?.aborted) throw new SpeechflowError("INTERRUPTED", "download interrupted; run the same command to resume it");
      lastError = describeNetworkError(error, url);
      if ((error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED" || attempt === attempts) break;
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 500) * attempt));
      continue;
    }
    if (response.status === 416 && have > 0) {
      // the part is already complete (or longer than the file): verify it as it is
      await response.body?.cancel();
    } else if (response.status === 404) {
      rmSync(partPath, { force: true });
      throw new SpeechflowError("MODEL_NOT_FOUND", `model ${entry.name} is not at ${url} (HTTP 404); check the name (speechflow models list) or the mirror (modelBaseUrl)`);
    } else if (!response.ok) {
      await response.body?.cancel();
      lastError = `${url} answered HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 500) * attempt));
      continue;
    } else {
      const partial = response.status === 206;
      if (have > 0 && partial) resumed = true;
      const start = partial ? have : 0;
      const length = Number(response.headers.get("content-length") ?? NaN);
      const total = Number.isFinite(length) ? start + length : undefined;
      const fd = openSync(partPath, partial ? "a" : "w");
      let received = start;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(), options.stallTimeoutMs ?? 30000);
      };
      try {
        arm();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          writeSync(fd, chunk);
          received += chunk.length;
          arm();
          options.onProgress?.({ name: entry.name, receivedBytes: received, totalBytes: total, resumedFrom: start });
        }
        fsyncSync(fd);
      } catch (error) {
        clearTimeout(timer);
        closeSync(fd);
        if (options.signal?.aborted) throw new SpeechflowError("INTERRUPTED", "download interrupted; run the same command to resume it");
        lastError = stall.signal.aborted ? `no data from ${new URL(url).host} for ${(options.stallTimeoutMs ?? 30000) / 1000} s` : describeNetworkError(error, url);
        await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 500) * attempt));
        continue; // resume from what arrived
      }
      clearTimeout(timer);
      closeSync(fd);
      if (total !== undefined && received < total) {
        lastError = `connection closed after ${received} of ${total} bytes`;
        continue;
      }
    }
    const sha1 = (await sha1Of(partPath)).digest("hex");
    if (sha1 !== entry.sha1) {
      rmSync(partPath, { force: true });
      throw new SpeechflowError(
        "MODEL_INVALID",
        `checksum mismatch for ${entry.name}: expected SHA-1 ${entry.sha1}, got ${sha1}; the download was deleted (a broken mirror or a changed file)`,
      );
    }
    renameSync(partPath, finalPath);
    return { path: finalPath, bytes: statSync(finalPath).size, sha1, resumed };
  }
  throw new SpeechflowError("MODEL_NOT_FOUND", `could not download model ${entry.name}: ${lastError}${existsSync(partPath) ? " (the part downloaded so far is kept; run the same command to resume)" : ""}`, {
    retryable: true,
  });
}
