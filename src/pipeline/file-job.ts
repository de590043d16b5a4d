import { type Stats, statSync } from "node:fs";
import { ChunkPlanner, type PlannedChunk, type Span } from "../chunking/chunk-planner.js";
import { ShortTailMerger } from "../chunking/merge-short-tail.js";
import { createClassifier, type VadChoice } from "../chunking/resolve-vad.js";
import type { SpeechflowConfig } from "../config/config-schema.js";
import type { Emit } from "../core/events.js";
import type { RunPaths } from "../core/paths.js";
import type { Diarization } from "../diarization/diarize-file.js";
import type { ChunkJob, ChunkTranscriber } from "../engine/chunk-transcriber.js";
import type { DecodingParams } from "../engine/worker-protocol.js";
import { chunkFailureAction, failureScope, fileReadError } from "../errors/failure-class.js";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { downloadUrl } from "../inputs/download-url.js";
import type { MediaInput } from "../inputs/scan-inputs.js";
import { type DecodeResult, decodePcm, SAMPLE_RATE, truncationMessage } from "../media/ffmpeg-gateway.js";
import { formatClock as clock } from "../outputs/format-time.js";
import { chunkJobId } from "../queue/queue-names.js";
import type { DoneChunk } from "../store/chunk-table.js";
import type { StateStore } from "../store/state-store.js";
import type { TrackedFile } from "../store/tracked-file.js";
import { decideFileAction, type FileAction, type FileFacts } from "./file-action.js";
import type { FileRenderer } from "./file-renderer.js";
import type { LazyEngine } from "./lazy-engine.js";
import type { FileOutcome, RunLedger } from "./run-ledger.js";
import { hashFile } from "./settings-fingerprint.js";

export interface FileJobDeps {
  config: SpeechflowConfig;
  store: StateStore;
  engine: LazyEngine;
  renderer: FileRenderer;
  ledger: RunLedger;
  ffmpegPath: string;
  paths: RunPaths;
  emit: Emit;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  runId: number;
  fingerprint: string;
  params: DecodingParams;
  /** the VAD that plans the chunks (resolved once per run) */
  vad: VadChoice;
  retryFailed: boolean;
  retryBaseDelayMs: number;
  /** speaker diarization, when on: the settings' fingerprint and how to diarize a local file */
  diarization?: { fingerprint: string; run: (localPath: string, file: string) => Promise<Diarization> } | undefined;
  /** the engine's ChunkTranscriber capabilities.chainsWindows (remote APIs): in-order windows, prompted, no short tail */
  chainsWindows?: { minWindowSeconds: number } | undefined;
}

interface JobInput {
  media: MediaInput;
  local: string;
  info: Stats;
  started: number;
  hooks: FileHooks;
}

/** What the run learns of a file's progress, to pace the others and the engine. */
export interface FileHooks {
  /** its first chunk is with the engine */
  dispatched?: () => void;
  /** all its chunks are with the engine (or failed to decode) */
  decoded?: () => void;
}

type ChunkOutcome = { ok: true; text: string } | { ok: false; interrupted: boolean; message: string };

interface Decoded {
  decoded: DecodeResult | undefined;
  error: SpeechflowError | undefined;
  outcomes: ChunkOutcome[];
  chunkCount: number;
}

const spansEqual = (a: Span[], b: Span[]) => a.length === b.length && a.every((s, i) => s.start === b[i]!.start && s.end === b[i]!.end);
/** what closing a decode early hands back; never read */
const NOT_DECODED: DecodeResult = { samples: 0, declaredMs: undefined };
const msOf = (samples: number) => Math.round((samples * 1000) / SAMPLE_RATE);
const textOf = (segments: { text: string }[]) => segments.map((s) => s.text.trim()).join(" ");

/**
 * One input through the stages: fetch (URLs) -> stat -> rerun decision -> hash -> decode + chunk
 * -> engine -> commit -> outputs. Every outcome goes to the run's ledger; only a failure that stops
 * the whole run (see errors/failure-class) is thrown.
 */
export class FileJob {
  constructor(private readonly deps: FileJobDeps) {}

  async run(media: MediaInput, hooks: FileHooks = {}): Promise<FileOutcome> {
    try {
      return await this.process(media, hooks);
    } catch (raw) {
      const error = toSpeechflowError(raw);
      const scope = failureScope(error, this.deps.signal.aborted);
      if (scope === "interrupted") return this.interrupted(media.path);
      if (scope === "run") throw error;
      const { store, runId } = this.deps;
      const file = store.files.get(media.path);
      if (file) store.files.fail(file.id, error.code, error.message);
      else store.files.recordUnreadFailure({ ...media, runId }, error.code, error.message);
      return this.failed(media.path, error, file);
    }
  }

  private async process(media: MediaInput, hooks: FileHooks): Promise<FileOutcome> {
    const { store, signal, renderer, fingerprint, retryFailed } = this.deps;
    if (signal.aborted) return this.interrupted(media.path);
    const started = Date.now();
    const local = media.url ? await this.download(media.url) : media.path;
    const info = statInput(local, media.path);
    const stored = store.files.get(media.path);
    const facts: FileFacts = {
      size: info.size,
      mtimeMs: info.mtimeMs,
      outputStem: media.outputStem,
      outputsPresent: renderer.outputsPresent(media.outputStem),
      diarizationCurrent: this.diarizationCurrent(stored),
    };
    const settings = { fingerprint, retryFailed };
    const first = decideFileAction(facts, stored, settings);
    if (first.kind !== "hash") return this.act(first, stored!, { media, local, info, started, hooks });
    const contentHash = await hashFile(local, signal).catch((error: unknown) => {
      throw fileReadError(error, media.path);
    });
    const action = decideFileAction({ ...facts, contentHash }, stored, settings);
    const { file } = store.files.prepare({ ...media, size: info.size, mtimeMs: info.mtimeMs, contentHash, fingerprint, runId: this.deps.runId });
    return this.act(action, file, { media, local, info, started, hooks });
  }

  private async act(action: FileAction, file: TrackedFile, input: JobInput): Promise<FileOutcome> {
    const { emit, ledger } = this.deps;
    const path = input.media.path;
    switch (action.kind) {
      case "report-failure-again":
        return this.failed(path, new SpeechflowError(action.code, action.message, { file: path }), file);
      case "skip-unchanged":
        ledger.skipped(path, file);
        emit({ type: "file-skipped", file: path, reason: "unchanged" });
        return "skipped";
      case "render-outputs": {
        await this.ensureDiarization(file, input.local);
        const outputs = this.deps.renderer.render(file);
        ledger.done(path, { hash: file.contentHash, durationMs: file.durationMs, outputs }, false);
        emit({ type: "file-done", file: path, durationMs: file.durationMs ?? 0, chunks: file.chunkCount ?? 0, outputs, elapsedMs: Date.now() - input.started });
        return "done";
      }
      case "transcribe":
        return this.transcribe(file, action.resume, input);
      case "hash":
        throw new SpeechflowError("INTERNAL", "file decision asked for a hash twice", { file: path });
    }
  }

  private async transcribe(file: TrackedFile, resume: boolean, input: JobInput): Promise<FileOutcome> {
    const { store, emit, signal } = this.deps;
    const path = input.media.path;
    this.deps.engine.warm();
    store.chunks.resetFailed(file.id);
    store.files.markProcessing(file.id);
    // new content or settings: the store has just forgotten the old chunks, there is nothing to resume
    const done = resume ? store.chunks.done(file.id) : new Map<number, DoneChunk>();
    emit({ type: "file-start", file: path, relPath: input.media.relPath, resumedChunks: done.size });
    const result = await this.decodeAndDispatch(file, input.local, done, input.hooks);
    if (signal.aborted || result.error?.code === "INTERRUPTED" || result.outcomes.some((o) => !o.ok && o.interrupted)) return this.interrupted(path);
    if (result.error) throw new SpeechflowError(result.error.code, result.error.message, { file: path, retryable: result.error.retryable });
    this.verifyUnchanged(file, input);
    const durationMs = msOf(result.decoded?.samples ?? 0);
    store.files.setDuration(file.id, durationMs);
    const truncated = truncationMessage(durationMs, result.decoded?.declaredMs);
    if (truncated) throw new SpeechflowError("MEDIA_UNREADABLE", truncated, { file: path });
    const failedChunk = result.outcomes.find((o): o is Extract<ChunkOutcome, { ok: false }> => !o.ok);
    if (failedChunk) throw new SpeechflowError("CHUNK_FAILED", failedChunk.message, { file: path });
    await this.ensureDiarization(file, input.local);
    const outputs = this.deps.renderer.render({ ...file, durationMs });
    this.deps.ledger.done(path, { hash: file.contentHash, durationMs, outputs }, true);
    emit({ type: "file-done", file: path, durationMs, chunks: result.chunkCount, outputs, elapsedMs: Date.now() - input.started });
    return "done";
  }

  /** Decodes and plans the file, handing each new chunk to the engine; chunks done in an earlier run are kept. */
  private async decodeAndDispatch(file: TrackedFile, local: string, done: Map<number, DoneChunk>, hooks: FileHooks): Promise<Decoded> {
    const { config, signal, emit } = this.deps;
    const planner = new ChunkPlanner({
      maxChunkSeconds: config.maxChunkSeconds,
      skipSilenceSeconds: config.skipSilenceSeconds,
      silenceThresholdDb: config.silenceThresholdDb,
      classifier: createClassifier(this.deps.vad, config.silenceThresholdDb),
    });
    const pending: Promise<ChunkOutcome>[] = [];
    let chunkCount = 0;
    const chain = this.deps.chainsWindows;
    const tail = new ShortTailMerger(chain ? chain.minWindowSeconds * SAMPLE_RATE : 0);
    // chained windows: each waits for the one before and is prompted with its text
    let lastText = "";
    let last: Promise<ChunkOutcome> | undefined;
    const handle = async (chunk: PlannedChunk) => {
      chunkCount++;
      const previous = done.get(chunk.index);
      if (previous && spansEqual(previous.spans, chunk.spans)) {
        lastText = textOf(previous.segments);
        return;
      }
      const engine = await this.deps.engine.get();
      await engine.waitForCapacity();
      if (chain) {
        const before = await last;
        if (before?.ok) lastText = before.text;
      }
      last = this.transcribeChunk(file, chunk, chain ? lastText : undefined);
      pending.push(last);
      hooks.dispatched?.();
    };
    let decoded: DecodeResult | undefined;
    let error: SpeechflowError | undefined;
    const stream = decodePcm(this.deps.ffmpegPath, local, {
      signal,
      onDeclaredDuration: (ms) => emit({ type: "file-duration", file: file.path, durationMs: ms }),
    });
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          decoded = next.value;
          break;
        }
        for (const chunk of tail.push(planner.push(next.value))) await handle(chunk);
        if (signal.aborted) break;
      }
      if (!signal.aborted) for (const chunk of tail.finish(planner.finish())) await handle(chunk);
    } catch (raw) {
      error = toSpeechflowError(raw);
    } finally {
      // a decode left early (interrupted, or a chunk failed the run) is closed: ffmpeg, blocked
      // writing into a pipe nobody reads, would otherwise outlive the run and keep the process alive
      if (decoded === undefined) await stream.return(NOT_DECODED).catch(() => undefined);
    }
    hooks.decoded?.();
    // chunks already handed to the engine finish (and are committed) whatever happened to decoding
    return { decoded, error, outcomes: await Promise.all(pending), chunkCount };
  }

  /** Runs one chunk with its attempts; each finished chunk is committed on its own. */
  private async transcribeChunk(file: TrackedFile, chunk: PlannedChunk, previousText?: string): Promise<ChunkOutcome> {
    const { store, signal, emit, config } = this.deps;
    const key = { fileId: file.id, idx: chunk.index, spans: chunk.spans, audioMs: msOf(chunk.pcm.length) };
    let attempts = store.chunks.attempts(file.id, chunk.index);
    for (;;) {
      if (signal.aborted) return { ok: false, interrupted: true, message: "interrupted" };
      try {
        const engine = await this.deps.engine.get();
        const job = {
          ...{ label: `${file.path}#${chunk.index}`, pcm: chunk.pcm, params: this.deps.params },
          ...{ id: chunkJobId(file.contentHash, chunk.index, this.deps.fingerprint), ...(previousText ? { previousText } : {}) },
        };
        const result = await engine.transcribe(job, signal);
        store.chunks.commit(key, result.segments, result.elapsedMs, { backend: result.backend, remote: result.remote });
        emit({ type: "chunk-done", file: file.path, index: chunk.index, audioMs: key.audioMs, elapsedMs: result.elapsedMs });
        await this.release(engine, job);
        return { ok: true, text: textOf(result.segments) };
      } catch (raw) {
        if (signal.aborted) return { ok: false, interrupted: true, message: "interrupted" };
        const error = toSpeechflowError(raw);
        const next = chunkFailureAction(error, attempts, config.maxAttempts);
        if (next === "stop-run") throw error;
        attempts = store.chunks.recordFailure(key, error.message, next === "give-up");
        if (next === "give-up") return { ok: false, interrupted: false, message: chunkFailureMessage(chunk, attempts, error.message) };
        emit({ type: "chunk-retry", file: file.path, index: chunk.index, attempt: attempts + 1, message: error.message });
      }
    }
  }

  /** After the commit: the engine may drop what it kept for the chunk (queue job, blob); failing to is only a warning. */
  private async release(engine: ChunkTranscriber, job: ChunkJob): Promise<void> {
    try {
      await engine.committed?.(job);
    } catch (raw) {
      this.deps.emit({ type: "warning", message: `could not release the engine's copy of ${job.label}: ${toSpeechflowError(raw).message}` });
    }
  }

  private diarizationCurrent(stored: TrackedFile | undefined): boolean {
    const wanted = this.deps.diarization;
    return !wanted || (stored !== undefined && this.deps.store.diarizations.get(stored.id)?.fingerprint === wanted.fingerprint);
  }

  /** Speaker turns for the file, made once per content and diarization settings, stored before any output uses them. */
  private async ensureDiarization(file: TrackedFile, local: string): Promise<void> {
    const wanted = this.deps.diarization;
    if (!wanted || this.deps.store.diarizations.get(file.id)?.fingerprint === wanted.fingerprint) return;
    const started = Date.now();
    let result: Diarization;
    try {
      result = await wanted.run(local, file.path);
    } catch (raw) {
      const error = toSpeechflowError(raw);
      if (error.code === "INTERRUPTED" || this.deps.signal.aborted) throw error;
      // a model that cannot load fails this file's speakers, not the run (the transcript is kept)
      throw new SpeechflowError("DIARIZATION_FAILED", `speaker diarization failed: ${error.message}`, { file: file.path, retryable: true });
    }
    this.deps.store.diarizations.put(file.id, { fingerprint: wanted.fingerprint, engine: result.engine, turns: result.turns });
    const speakers = new Set(result.turns.map((t) => t.speaker)).size;
    this.deps.emit({ type: "diarization-done", file: file.path, engine: result.engine, speakers, elapsedMs: Date.now() - started });
  }

  /** The bytes transcribed must be the bytes hashed: a file rewritten meanwhile is done next run. */
  private verifyUnchanged(file: TrackedFile, input: { media: MediaInput; local: string; info: Stats }): void {
    const after = statSync(input.local, { throwIfNoEntry: false });
    if (!after) throw new SpeechflowError("INPUT_NOT_FOUND", "file was deleted while it was being transcribed", { file: input.media.path });
    if (after.size !== input.info.size || after.mtimeMs !== input.info.mtimeMs) {
      this.deps.store.files.markPending(file.id);
      throw new SpeechflowError("INPUT_CHANGED", "file changed while it was being transcribed; run again to transcribe the new content", {
        file: input.media.path,
        retryable: true,
      });
    }
  }

  private download(url: string): Promise<string> {
    const { config, signal, emit, env } = this.deps;
    return downloadUrl(url, {
      cacheDir: this.deps.paths.downloadsDir,
      timeoutMs: config.downloadTimeoutSeconds * 1000,
      attempts: config.downloadAttempts,
      maxBytes: config.maxDownloadMiB * 1048576,
      signal,
      emit,
      env,
      offline: config.offline,
      baseDelayMs: this.deps.retryBaseDelayMs,
    }).then((r) => r.path);
  }

  private failed(path: string, error: SpeechflowError, file: TrackedFile | undefined): FileOutcome {
    this.deps.emit({ type: "file-failed", ...this.deps.ledger.failed(path, error, file) });
    return "failed";
  }

  /** Stopped (Ctrl-C/SIGTERM): the file is left pending so the next run resumes it. */
  private interrupted(path: string): FileOutcome {
    const file = this.deps.store.files.get(path);
    if (file?.status === "processing") this.deps.store.files.markPending(file.id);
    this.deps.ledger.interrupted(path, file);
    return "interrupted";
  }
}

function statInput(local: string, path: string): Stats {
  const info = statSync(local, { throwIfNoEntry: false });
  if (!info) throw new SpeechflowError("INPUT_NOT_FOUND", "file disappeared before it was read", { file: path });
  if (!info.isFile()) throw new SpeechflowError("MEDIA_UNREADABLE", "not a regular file", { file: path });
  if (info.size === 0) throw new SpeechflowError("MEDIA_EMPTY", "empty file (0 bytes)", { file: path });
  return info;
}

function chunkFailureMessage(chunk: PlannedChunk, attempts: number, message: string): string {
  const at = chunk.spans[0]!.start / (SAMPLE_RATE / 1000);
  const end = chunk.spans[chunk.spans.length - 1]!.end / (SAMPLE_RATE / 1000);
  return `chunk ${chunk.index} (${clock(at)}-${clock(end)}) failed after ${attempts} attempt${attempts > 1 ? "s" : ""}: ${message}`;
}
