import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { OutputFormat } from "../config/config-schema.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { formatJson, type JsonMetadata } from "./format-json.js";
import { formatSrt } from "./format-srt.js";
import { formatTxt } from "./format-txt.js";
import { formatVtt } from "./format-vtt.js";
import type { Transcript } from "./transcript.js";

export function renderFormat(format: OutputFormat, transcript: Transcript, meta: JsonMetadata, maxLineWidth: number): string {
  switch (format) {
    case "txt":
      return formatTxt(transcript);
    case "srt":
      return formatSrt(transcript, maxLineWidth);
    case "vtt":
      return formatVtt(transcript, maxLineWidth);
    case "json":
      return formatJson(transcript, meta);
  }
}

/** Scratch space for atomic writes: inside the output folder (same filesystem), but hidden. */
export function tmpDirOf(outputDir: string): string {
  return join(outputDir, ".speechflow", "tmp");
}

let writesSoFar = 0;
let writeFault: { code: string; after: number } | undefined;

/**
 * Fault injection for tests where a small tmpfs cannot be mounted: every output write fails with
 * `code` after `after` successful ones. Armed once per run from the run context's fault plan.
 */
export function armWriteFault(fault: { code: string; after: number } | undefined): void {
  writeFault = fault;
  writesSoFar = 0;
}

function injectedWriteFault(): void {
  if (!writeFault) return;
  if (writesSoFar++ < writeFault.after) return;
  throw Object.assign(new Error(`${writeFault.code}: injected write failure`), { code: writeFault.code });
}

/**
 * Writes `content` beside nothing: a temp file in `tmpDir` (same filesystem), fsync, rename.
 * A reader, or a kill at any moment, sees the old file or the new one, never half of one.
 */
function replaceFileAtomic(tmpDir: string, target: string, content: string | Uint8Array): void {
  injectedWriteFault();
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(tmpDir, `${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, content);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes `relPath` under the output folder atomically, with a one-line error naming the file. */
export function writeOutputFile(outputDir: string, relPath: string, content: string | Uint8Array): string {
  const target = join(outputDir, relPath);
  try {
    replaceFileAtomic(tmpDirOf(outputDir), target, content);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpeechflowError("OUTPUT_WRITE_FAILED", `cannot write ${target} (${code ?? (error as Error).message})`, { file: target, retryable: false });
  }
  return target;
}

/**
 * Writes every format to a temp file and renames it into place, so a reader (or a kill) never
 * sees a half-written transcript under the output folder.
 */
export function writeOutputs(outputDir: string, outputStem: string, formats: OutputFormat[], render: (format: OutputFormat) => string, file: string): string[] {
  const tmpDir = tmpDirOf(outputDir);
  const written: string[] = [];
  try {
    mkdirSync(tmpDir, { recursive: true });
    for (const format of formats) {
      const target = join(outputDir, `${outputStem}.${format}`);
      mkdirSync(dirname(target), { recursive: true });
      replaceFileAtomic(tmpDir, target, render(format));
      written.push(target);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpeechflowError("OUTPUT_WRITE_FAILED", `cannot write transcripts to ${outputDir} (${code ?? (error as Error).message})`, {
      file,
      retryable: code !== "ENOSPC" && code !== "EACCES" && code !== "EROFS",
    });
  }
  return written;
}
