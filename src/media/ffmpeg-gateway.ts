import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";
import { endianness } from "node:os";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { collectGarbage } from "../core/collect-garbage.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type PcmWavLayout, pcmWavLayout } from "./pcm-wav-layout.js";

/**
 * The one module that starts ffmpeg. Arguments are always an array (no shell), and local inputs
 * are passed as `file:<absolute path>` so that no file name can turn into an option or a protocol.
 */
export const SAMPLE_RATE = 16000;

export interface FfmpegInfo {
  path: string;
  source: "config" | "path" | "ffmpeg-static";
  version: string;
}

const INSTALL_HINT =
  "install one (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg) " +
  "or point --ffmpeg / SPEECHFLOW_FFMPEG at an ffmpeg binary";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === "win32" ? (env.PATHEXT ?? ".EXE").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, command + ext);
      if (existsSync(candidate) && isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function ffmpegStaticPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const path = require("ffmpeg-static") as unknown;
    return typeof path === "string" && existsSync(path) ? path : undefined;
  } catch {
    return undefined; // optional dependency: absent, or its binary download failed at install
  }
}

async function versionOf(path: string): Promise<string> {
  const result = await execa(path, ["-hide_banner", "-version"], { reject: false, timeout: 15000, stdin: "ignore" });
  if (result.exitCode !== 0) {
    throw new SpeechflowError("FFMPEG_NOT_FOUND", `ffmpeg at ${path} does not run (${result.shortMessage ?? "exit " + result.exitCode}); ${INSTALL_HINT}`);
  }
  const match = /ffmpeg version (\S+)/.exec(result.stdout);
  return match?.[1] ?? "unknown";
}

/** Order: explicit setting (--ffmpeg, SPEECHFLOW_FFMPEG, config) -> $PATH -> ffmpeg-static -> error. */
export async function resolveFfmpeg(configured: string, env: NodeJS.ProcessEnv = process.env): Promise<FfmpegInfo> {
  if (configured) {
    if (!existsSync(configured)) {
      throw new SpeechflowError("FFMPEG_NOT_FOUND", `ffmpeg not found at ${configured} (from --ffmpeg, SPEECHFLOW_FFMPEG or config); ${INSTALL_HINT}`);
    }
    return { path: configured, source: "config", version: await versionOf(configured) };
  }
  const onPath = findOnPath("ffmpeg", env);
  if (onPath) return { path: onPath, source: "path", version: await versionOf(onPath) };
  const bundled = ffmpegStaticPath();
  if (bundled) return { path: bundled, source: "ffmpeg-static", version: await versionOf(bundled) };
  throw new SpeechflowError("FFMPEG_NOT_FOUND", `ffmpeg not found on PATH nor from the ffmpeg-static package; ${INSTALL_HINT}`);
}

export interface DecodeResult {
  /** samples delivered */
  samples: number;
  /**
   * duration the container declares, if ffmpeg printed one and it can be compared with the audio:
   * left undefined for files with a video stream, whose container length may be the video's
   */
  declaredMs: number | undefined;
}

function hasVideoStream(stderr: string): boolean {
  return stderr.split("\n").some((line) => /Stream #\S+.*: Video: /.test(line) && !/attached pic/.test(line));
}

function parseDurationMs(stderr: string): number | undefined {
  const m = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (!m) return undefined;
  return Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000);
}

function decodeFailure(rawStderr: string, file: string, exitCode: number | undefined): SpeechflowError {
  // ffmpeg echoes the path; one with a newline in it would split ffmpeg's message across lines
  const stderr = rawStderr.split(`file:${file}`).join("file:input");
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.filter((l) => !/^(Input|Output|Stream|Metadata|Duration|encoder|Press|\s)/.test(l)).pop() ?? lines.pop() ?? `exit code ${exitCode}`;
  const reason = last.replace(/^file:.*?: /, "").replace(/^\[[^\]]+\] /, "");
  if (/does not contain any stream|matches no streams|no audio/i.test(stderr)) {
    return new SpeechflowError("MEDIA_NO_AUDIO", "no audio track", { file });
  }
  if (/Invalid data found|could not find codec|Failed to read frame|moov atom not found|Invalid argument|End of file/i.test(stderr)) {
    return new SpeechflowError("MEDIA_UNREADABLE", `not a readable audio/video file (ffmpeg: ${reason})`, { file });
  }
  if (/Permission denied/i.test(stderr)) {
    return new SpeechflowError("MEDIA_UNREADABLE", "permission denied", { file });
  }
  return new SpeechflowError("FFMPEG_FAILED", `ffmpeg failed (${reason})`, { file, retryable: true });
}

interface DecodeOptions {
  signal?: AbortSignal;
  onDeclaredDuration?: (ms: number) => void;
  channels?: 1 | 2;
}

/**
 * Streams the first audio track of `file` as 16 kHz mono float32 PCM. Blocks arrive as ffmpeg
 * writes them; the consumer's pace back-pressures ffmpeg through the pipe, so memory stays
 * bounded whatever the file's length. A WAV file that already holds 16 kHz mono 16-bit PCM is
 * read directly (see pcmWavLayout): the same samples, without an ffmpeg process.
 */
export async function* decodePcm(ffmpegPath: string, file: string, options: DecodeOptions = {}): AsyncGenerator<Float32Array, DecodeResult> {
  const wav = (options.channels ?? 1) === 1 ? await wavLayout(file) : undefined;
  if (wav) return yield* readPcmWav(file, wav, options);
  return yield* decodeWithFfmpeg(ffmpegPath, file, options);
}

/** The layout of a whisper-ready WAV file; undefined for anything else, or when it cannot be read here (ffmpeg then says why). */
async function wavLayout(file: string): Promise<PcmWavLayout | undefined> {
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(size, 65536));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return pcmWavLayout(head.subarray(0, bytesRead), size);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** WAV samples are little-endian: viewed as they are on such a machine (every one Node ships for but s390x) */
const LITTLE_ENDIAN = endianness() === "LE";
/** 256 KiB: 8 s of audio per read */
const WAV_BLOCK_BYTES = 1 << 18;
/**
 * Consumers copy what they keep of a block (the planner, the VAD) and drop it: the blocks are
 * collected every few MB of audio, not whenever V8 gets to them (see collectGarbage).
 */
const COLLECT_EVERY_BYTES = 4 << 20;

/** Counts the bytes of the blocks handed out; collects the young garbage every COLLECT_EVERY_BYTES. */
function blockCollector(): (block: Float32Array) => void {
  let since = 0;
  return (block) => {
    since += block.byteLength;
    if (since < COLLECT_EVERY_BYTES) return;
    since = 0;
    collectGarbage("minor");
  };
}

async function* readPcmWav(file: string, wav: PcmWavLayout, options: DecodeOptions): AsyncGenerator<Float32Array, DecodeResult> {
  const declaredMs = Math.round(wav.dataBytes / 2 / (SAMPLE_RATE / 1000));
  options.onDeclaredDuration?.(declaredMs);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    throw new SpeechflowError("MEDIA_UNREADABLE", `cannot read the file (${(error as Error).message})`, { file });
  }
  let samples = 0;
  const handedOut = blockCollector();
  try {
    const bytes = Buffer.alloc(Math.min(WAV_BLOCK_BYTES, wav.dataBytes));
    for (let at = 0; at < wav.dataBytes; ) {
      if (options.signal?.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted", { file });
      const { bytesRead } = await handle.read(bytes, 0, Math.min(bytes.length, wav.dataBytes - at), wav.dataOffset + at);
      // the file shrank since its header was read: what was read stands, the shortfall is reported as for ffmpeg
      if (bytesRead < 2) break;
      const usable = bytesRead - (bytesRead % 2);
      const block = new Float32Array(usable / 2);
      if (LITTLE_ENDIAN) {
        const s16 = new Int16Array(bytes.buffer, bytes.byteOffset, block.length);
        for (let i = 0; i < block.length; i++) block[i] = s16[i]! / 32768;
      } else {
        for (let i = 0; i < block.length; i++) block[i] = bytes.readInt16LE(i * 2) / 32768;
      }
      at += usable;
      samples += block.length;
      yield block;
      handedOut(block);
    }
  } finally {
    await handle.close();
  }
  return { samples, declaredMs };
}

async function* decodeWithFfmpeg(ffmpegPath: string, file: string, options: DecodeOptions): AsyncGenerator<Float32Array, DecodeResult> {
  // the consumer pulls from ffmpeg's stdout pipe: while it waits (engine busy), ffmpeg blocks
  const child = spawn(
    ffmpegPath,
    [
      "-nostdin",
      "-hide_banner",
      "-nostats",
      "-i",
      `file:${file}`,
      "-vn",
      "-sn",
      "-dn",
      "-ac",
      String(options.channels ?? 1),
      "-ar",
      String(SAMPLE_RATE),
      "-f",
      "f32le",
      "pipe:1",
    ],
    // on abort SIGKILL: ffmpeg takes SIGTERM as a request to finish, and one blocked writing into a
    // full pipe (a consumer that stopped reading) never gets to it, so the run could not exit
    { stdio: ["ignore", "pipe", "pipe"], ...(options.signal ? { signal: options.signal, killSignal: "SIGKILL" as const } : {}) },
  );
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  });
  let stderr = "";
  let declaredMs: number | undefined;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    // keep the head (stream info) and a bounded tail (errors)
    stderr = stderr.length < 16384 ? stderr + text : stderr.slice(0, 8192) + stderr.slice(-8192) + text;
    if (declaredMs === undefined) {
      declaredMs = parseDurationMs(stderr);
      if (declaredMs !== undefined) options.onDeclaredDuration?.(declaredMs);
    }
  });
  let samples = 0;
  let carry: Buffer | undefined;
  const handedOut = blockCollector();
  try {
    for await (const raw of child.stdout as AsyncIterable<Buffer>) {
      const data = carry ? Buffer.concat([carry, raw]) : raw;
      const usable = data.length - (data.length % 4);
      carry = usable < data.length ? Buffer.from(data.subarray(usable)) : undefined;
      if (usable === 0) continue;
      // copy into an aligned buffer: Buffer slices from the pool may not be 4-byte aligned
      const block = new Float32Array(usable / 4);
      new Uint8Array(block.buffer).set(data.subarray(0, usable));
      samples += block.length;
      yield block;
      handedOut(block);
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const result = await exited;
  if (options.signal?.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted", { file });
  if (result.error) throw new SpeechflowError("FFMPEG_FAILED", `cannot start ffmpeg (${result.error.message})`, { file });
  if (result.code !== 0) throw decodeFailure(stderr, file, result.code ?? undefined);
  if (samples === 0) {
    if (/does not contain any stream|no audio|matches no streams/i.test(stderr)) throw decodeFailure(stderr, file, 0);
  }
  return { samples, declaredMs: hasVideoStream(stderr) ? undefined : declaredMs };
}

/** Frame length of channelLevels: 30 ms, as the chunk planner's VAD. */
const LEVEL_FRAME_MS = 30;

/**
 * Per-channel loudness of a file (dBFS per 30 ms frame, left and right; a mono file gives two
 * equal channels): what the stereo diarizer reads. Streams, so only the levels are kept.
 */
export async function channelLevels(ffmpegPath: string, file: string, signal?: AbortSignal): Promise<{ frameMs: number; db: [Float32Array, Float32Array] }> {
  const frame = (SAMPLE_RATE * LEVEL_FRAME_MS) / 1000;
  const levels: [number[], number[]] = [[], []];
  const sums = [0, 0];
  let inFrame = 0;
  // samples arrive interleaved (L R L R ...) and a block may end between the two of a pair
  let channel = 0;
  for await (const block of decodePcm(ffmpegPath, file, { channels: 2, ...(signal ? { signal } : {}) })) {
    for (const sample of block) {
      sums[channel]! += sample * sample;
      channel ^= 1;
      if (channel === 1 || ++inFrame < frame) continue;
      for (const c of [0, 1] as const) levels[c].push(10 * Math.log10(sums[c]! / frame + 1e-12));
      sums[0] = sums[1] = inFrame = 0;
    }
  }
  return { frameMs: LEVEL_FRAME_MS, db: [Float32Array.from(levels[0]), Float32Array.from(levels[1])] };
}

/** A file whose decoded audio is much shorter than its header declares was cut off. */
export function truncationMessage(decodedMs: number, declaredMs: number | undefined): string | undefined {
  if (declaredMs === undefined || declaredMs <= 0) return undefined;
  if (declaredMs - decodedMs > 1000 && decodedMs < declaredMs * 0.9) {
    return `truncated or damaged: decoded ${(decodedMs / 1000).toFixed(1)} s of the ${(declaredMs / 1000).toFixed(1)} s its header declares`;
  }
  return undefined;
}

/**
 * 16 kHz mono samples -> FLAC bytes (lossless, about 60% of 16-bit PCM): what remote backends
 * upload. The samples go in on stdin; nothing touches the disk.
 */
export async function encodeFlac(ffmpegPath: string, pcm: Float32Array, signal?: AbortSignal): Promise<Buffer> {
  const input = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", String(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0"];
  try {
    const result = await execa(ffmpegPath, [...args, "-c:a", "flac", "-f", "flac", "pipe:1"], {
      input,
      encoding: "buffer",
      stripFinalNewline: false,
      maxBuffer: 512 * 1048576,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    return Buffer.from(result.stdout);
  } catch (error) {
    if (signal?.aborted) throw new SpeechflowError("INTERRUPTED", "interrupted");
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new SpeechflowError("FFMPEG_FAILED", `ffmpeg could not encode FLAC: ${stderr || (error as Error).message}`, { retryable: true });
  }
}
