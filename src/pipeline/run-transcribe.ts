import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import PQueue from "p-queue";
import type { RunContext } from "../core/run-context.js";
import type { FailureInfo, SpeechflowEvent } from "../core/events.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { SpeechflowError, toSpeechflowError, type ErrorCode } from "../errors/speechflow-error.js";
import { scanInputs, type InputProblem, type MediaInput } from "../inputs/scan-inputs.js";
import { decodePcm, resolveFfmpeg, SAMPLE_RATE, truncationMessage, type DecodeResult } from "../media/ffmpeg-gateway.js";
import { ChunkPlanner, type PlannedChunk, type Span } from "../chunking/chunk-planner.js";
import { WorkerPool } from "../engine/worker-pool.js";
import { planWorkers, threadsPerJob } from "../engine/devices.js";
import type { EngineParams } from "../engine/worker-protocol.js";
import { ensureModel } from "../models/ensure-model.js";
import { StateStore, type FileRow } from "../store/state-store.js";
import { RunLock } from "../store/run-lock.js";
import { assembleTranscript } from "../outputs/transcript.js";
import { renderFormat, tmpDirOf, writeOutputFile, writeOutputs } from "../outputs/write-outputs.js";
import { formatClock as clock } from "../outputs/format-time.js";
import { manifestJsonl, type ManifestEntry } from "../outputs/manifest-jsonl.js";
import { notifyWebhook } from "../outputs/notify-webhook.js";
import { downloadUrl } from "../inputs/download-url.js";
import { EVENTS_SCHEMA_VERSION } from "../core/events.js";
import { SummaryStage } from "./summary-stage.js";
import type { JsonMetadata } from "../outputs/format-json.js";
import { decodingSettings, hashFile, settingsFingerprint, transcriptionSettings } from "./settings-fingerprint.js";

export interface TranscribeRequest {
  inputs: string[];
  listEntries?: string[];
  /** media already resolved by the caller (eval's dataset loader): no scanning */
  media?: { items: MediaInput[]; problems: InputProblem[] };
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** try files that failed for good (corrupt media) again even when unchanged: `speechflow retry` */
  retryFailed?: boolean;
  /** download a missing published model (interactive runs); unattended runs get an error instead */
  allowModelDownload?: boolean;
}

/** the run-end event's totals; a returned run is never "failed" (that one throws) */
export type RunSummary = Omit<Extract<SpeechflowEvent, { type: "run-end" }>, "type" | "status"> & { status: "completed" | "interrupted" };

type FileOutcome = "done" | "skipped" | "failed" | "interrupted";
type ChunkOutcome = { ok: true } | { ok: false; interrupted: boolean; message: string };

export function defaultDbPath(outputDir: string): string {
  return join(outputDir, ".speechflow", "state.sqlite");
}

function readFailure(error: unknown, file: string): SpeechflowError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new SpeechflowError("INPUT_NOT_FOUND", "file disappeared before it was read", { file });
  if (code === "EACCES" || code === "EPERM") return new SpeechflowError("MEDIA_UNREADABLE", "permission denied", { file });
  if (code === "EISDIR") return new SpeechflowError("MEDIA_UNREADABLE", "is a directory, not a file", { file });
  if (code === "INTERRUPTED" || (error as SpeechflowError).code === "INTERRUPTED" || (error as Error).name === "AbortError") {
    return new SpeechflowError("INTERRUPTED", "interrupted", { file });
  }
  return new SpeechflowError("MEDIA_UNREADABLE", `cannot read the file (${code ?? (error as Error).message})`, { file, retryable: true });
}

/** failures that come from the file itself: trying the same bytes again cannot help */
const PERMANENT_FAILURES = new Set(["MEDIA_UNREADABLE", "MEDIA_EMPTY", "MEDIA_NO_AUDIO"]);

const spansEqual = (a: Span[], b: Span[]) => a.length === b.length && a.every((s, i) => s.start === b[i]!.start && s.end === b[i]!.end);

/**
 * The transcribe pipeline: inputs -> media (ffmpeg) -> chunking -> engine -> store -> outputs.
 * Emits lifecycle events and returns totals; it never prints and never exits the process.
 */
export async function runTranscribe(request: TranscribeRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const { config, emit, signal } = ctx;
  const env = request.env ?? process.env;
  const outputDir = resolve(request.cwd, config.output);
  const dbPath = config.db ? resolve(request.cwd, config.db) : defaultDbPath(outputDir);

  const ffmpeg = await resolveFfmpeg(config.ffmpeg, env);
  const model = await ensureModel(config, { cwd: request.cwd, env, allowDownload: request.allowModelDownload ?? false, emit, signal });
  const scan = request.media
    ? { media: request.media.items, problems: request.media.problems }
    : await scanInputs({ inputs: request.inputs, listEntries: request.listEntries ?? [], cwd: request.cwd, skipDirs: [outputDir] }, ctx);

  mkdirSync(dirname(dbPath), { recursive: true });
  const lock = RunLock.acquire(dbPath);
  let store: StateStore;
  let summaries: SummaryStage;
  try {
    store = StateStore.open(dbPath);
    try {
      summaries = new SummaryStage(config, store, outputDir, emit, signal, env, model.name);
    } catch (error) {
      store.close();
      throw error;
    }
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    const summaryJobs: Promise<void>[] = [];
    const settings = transcriptionSettings(config, model);
    const fingerprint = settingsFingerprint(settings);
    const runId = store.beginRun(TOOL_VERSION, { ...settings, model: model.name, formats: config.formats });
    rmSync(tmpDirOf(outputDir), { recursive: true, force: true });

    const slots = planWorkers(config.device, config.workers);
    const threads = threadsPerJob(config.threads, slots.length * config.jobsPerWorker);
    emit({ type: "run-start", schema: EVENTS_SCHEMA_VERSION, runId, inputs: scan.media.length + scan.problems.length, model: model.path, workers: slots.length, threads, db: dbPath, output: outputDir });

    const failures: FailureInfo[] = [];
    const counts = { done: 0, skipped: 0, failed: 0, interrupted: 0 };
    const manifest = new Map<string, ManifestEntry>();
    const record = (path: string, entry: Omit<ManifestEntry, "path">) => manifest.set(path, { path, ...entry });
    const fromRow = (row: FileRow) => ({
      hash: row.content_hash || null,
      durationMs: row.duration_ms,
      outputs: row.outputs ? (JSON.parse(row.outputs) as string[]) : [],
    });
    const fail = (file: string, error: SpeechflowError) => {
      const info = { file, code: error.code, message: error.message };
      failures.push(info);
      const row = store.getFile(file);
      record(file, { ...(row ? { ...fromRow(row), outputs: [] } : { hash: null, durationMs: null, outputs: [] }), status: "failed", error: { code: error.code, message: error.message } });
      emit({ type: "file-failed", ...info });
    };
    for (const problem of scan.problems) fail(problem.input, new SpeechflowError(problem.code, problem.message, { file: problem.input }));

    let pool: WorkerPool | undefined;
    let poolStarting: Promise<WorkerPool> | undefined;
    const getPool = (): Promise<WorkerPool> => {
      poolStarting ??= (async () => {
        const p = new WorkerPool({ modelPath: model.path, slots, jobsPerWorker: config.jobsPerWorker, emit, env });
        const loadMs = await p.start();
        pool = p;
        emit({ type: "engine-ready", workers: p.size, loadMs, device: p.devices });
        return p;
      })();
      return poolStarting;
    };

    const params: EngineParams = { ...decodingSettings(config), threads };
    const meta = (row: FileRow, durationMs: number, language: string | null): JsonMetadata => ({
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      source: { path: row.rel_path, size: row.size, sha256: row.content_hash },
      model: { name: model.name, file: model.path.split("/").pop() ?? model.path },
      language,
      durationMs,
      settings: { ...settings, model: model.name },
    });

    const render = (row: FileRow): string[] => {
      const chunks = [...store.doneChunks(row.id).values()].sort((a, b) => a.idx - b.idx);
      const transcript = assembleTranscript(chunks, { sampleRate: SAMPLE_RATE, words: config.wordTimestamps });
      const durationMs = row.duration_ms ?? 0;
      const outputs = writeOutputs(outputDir, row.output_stem, config.formats, (format) => renderFormat(format, transcript, meta(row, durationMs, transcript.language), config.maxLineWidth), row.path);
      store.finishFile(row.id, { durationMs, chunkCount: chunks.length, language: transcript.language, outputs });
      return outputs;
    };

    let audioMs = 0;

    const transcribeChunk = async (row: FileRow, chunk: PlannedChunk): Promise<ChunkOutcome> => {
      const chunkAudioMs = Math.round((chunk.pcm.length * 1000) / SAMPLE_RATE);
      let attempts = store.chunkAttempts(row.id, chunk.index);
      for (;;) {
        if (signal.aborted) return { ok: false, interrupted: true, message: "interrupted" };
        try {
          const engine = await getPool();
          const result = await engine.run({ label: `${row.path}#${chunk.index}`, pcm: chunk.pcm, params }, signal);
          store.commitChunk(row.id, chunk.index, chunk.spans, chunkAudioMs, result.segments, result.elapsedMs);
          emit({ type: "chunk-done", file: row.path, index: chunk.index, audioMs: chunkAudioMs, elapsedMs: result.elapsedMs });
          return { ok: true };
        } catch (raw) {
          if (signal.aborted) return { ok: false, interrupted: true, message: "interrupted" };
          const error = toSpeechflowError(raw);
          if (error.code === "MODEL_INVALID" || error.code === "STATE_DB_WRITE_FAILED") throw error;
          const final = !error.retryable || attempts + 1 >= config.maxAttempts;
          attempts = store.recordChunkFailure(row.id, chunk.index, chunk.spans, chunkAudioMs, error.message, final);
          if (final) {
            const at = chunk.spans[0]!.start / (SAMPLE_RATE / 1000);
            const end = chunk.spans[chunk.spans.length - 1]!.end / (SAMPLE_RATE / 1000);
            return { ok: false, interrupted: false, message: `chunk ${chunk.index} (${clock(at)}-${clock(end)}) failed after ${attempts} attempt${attempts > 1 ? "s" : ""}: ${error.message}` };
          }
          emit({ type: "chunk-retry", file: row.path, index: chunk.index, attempt: attempts + 1, message: error.message });
        }
      }
    };

    const outputsPresent = (row: FileRow) => config.formats.every((f) => existsSync(join(outputDir, `${row.output_stem}.${f}`)));

    const processFile = async (media: MediaInput): Promise<FileOutcome> => {
      if (signal.aborted) return "interrupted";
      const fileStarted = Date.now();
      const local = media.url
        ? (
            await downloadUrl(media.url, {
              cacheDir: join(dirname(dbPath), "downloads"),
              timeoutMs: config.downloadTimeoutSeconds * 1000,
              attempts: config.downloadAttempts,
              maxBytes: config.maxDownloadMiB * 1048576,
              signal,
              emit,
              env,
              offline: config.offline,
              baseDelayMs: Number(env.SPEECHFLOW_RETRY_BASE_MS ?? 1000),
            })
          ).path
        : media.path;
      const info = statSync(local, { throwIfNoEntry: false });
      if (!info) throw new SpeechflowError("INPUT_NOT_FOUND", "file disappeared before it was read", { file: media.path });
      if (!info.isFile()) throw new SpeechflowError("MEDIA_UNREADABLE", "not a regular file", { file: media.path });
      if (info.size === 0) throw new SpeechflowError("MEDIA_EMPTY", "empty file (0 bytes)", { file: media.path });

      const previous = store.getFile(media.path);
      const sameAsBefore = previous !== undefined && previous.fingerprint === fingerprint && previous.size === info.size && previous.mtime_ms === info.mtimeMs;
      if (sameAsBefore && previous.status === "failed" && PERMANENT_FAILURES.has(previous.error_code ?? "") && !request.retryFailed) {
        // a corrupt file does not heal overnight: report it again without decoding it again
        fail(media.path, new SpeechflowError(previous.error_code as ErrorCode, `${previous.error ?? "failed"} (unchanged since; fix the file, or run speechflow retry)`, { file: media.path }));
        return "failed";
      }
      const unchangedByStat =
        previous?.status === "done" && previous.fingerprint === fingerprint && previous.size === info.size && previous.mtime_ms === info.mtimeMs && previous.output_stem === media.outputStem;
      if (unchangedByStat && outputsPresent(previous)) {
        record(media.path, { ...fromRow(previous), status: "unchanged", error: null });
        emit({ type: "file-skipped", file: media.path, reason: "unchanged" });
        return "skipped";
      }
      let contentHash: string;
      try {
        contentHash = await hashFile(local, signal);
      } catch (error) {
        throw readFailure(error, media.path);
      }
      const { row, reset } = store.prepareFile({ ...media, size: info.size, mtimeMs: info.mtimeMs, contentHash, fingerprint, runId });
      if (!reset && row.status === "done") {
        if (outputsPresent(row)) {
          record(media.path, { ...fromRow(row), status: "unchanged", error: null });
          emit({ type: "file-skipped", file: media.path, reason: "unchanged" });
          return "skipped";
        }
        // transcribed before; only output files are missing (deleted, or a new format asked for)
        const outputs = render(row);
        record(media.path, { hash: row.content_hash, durationMs: row.duration_ms, outputs, status: "done", error: null });
        emit({ type: "file-done", file: media.path, durationMs: row.duration_ms ?? 0, chunks: row.chunk_count ?? 0, outputs, elapsedMs: Date.now() - fileStarted });
        return "done";
      }

      store.resetFailedChunks(row.id);
      store.markProcessing(row.id);
      const done = store.doneChunks(row.id);
      emit({ type: "file-start", file: media.path, relPath: media.relPath, resumedChunks: done.size });

      const planner = new ChunkPlanner({
        maxChunkSeconds: config.maxChunkSeconds,
        skipSilenceSeconds: config.skipSilenceSeconds,
        silenceThresholdDb: config.silenceThresholdDb,
      });
      const pending: Promise<ChunkOutcome>[] = [];
      let chunkCount = 0;
      const handle = async (chunk: PlannedChunk) => {
        chunkCount++;
        const previousResult = done.get(chunk.index);
        if (previousResult && spansEqual(previousResult.spans, chunk.spans)) return;
        const engine = await getPool();
        // pace decoding to the engine: never more than a couple of chunks waiting per slot
        await engine.waitForBacklogBelow(slots.length * config.jobsPerWorker * 2);
        const outcome = transcribeChunk(row, chunk);
        pending.push(outcome);
      };

      let decoded: DecodeResult | undefined;
      let decodeError: SpeechflowError | undefined;
      try {
        const stream = decodePcm(ffmpeg.path, local, {
          signal,
          onDeclaredDuration: (ms) => emit({ type: "file-duration", file: media.path, durationMs: ms }),
        });
        for (;;) {
          const next = await stream.next();
          if (next.done) {
            decoded = next.value;
            break;
          }
          for (const chunk of planner.push(next.value)) await handle(chunk);
          if (signal.aborted) break;
        }
        if (!signal.aborted) for (const chunk of planner.finish()) await handle(chunk);
      } catch (error) {
        decodeError = toSpeechflowError(error);
      }
      // chunks already handed to the engine finish (and are committed) whatever happened to decoding
      const outcomes = await Promise.all(pending);
      if (signal.aborted || decodeError?.code === "INTERRUPTED" || outcomes.some((o) => !o.ok && o.interrupted)) {
        return "interrupted";
      }
      if (decodeError) throw new SpeechflowError(decodeError.code, decodeError.message, { file: media.path, retryable: decodeError.retryable });
      // the bytes transcribed must be the bytes hashed: a file rewritten meanwhile is done next run
      const after = statSync(local, { throwIfNoEntry: false });
      if (!after) throw new SpeechflowError("INPUT_NOT_FOUND", "file was deleted while it was being transcribed", { file: media.path });
      if (after.size !== info.size || after.mtimeMs !== info.mtimeMs) {
        store.markPending(row.id);
        throw new SpeechflowError("INPUT_CHANGED", "file changed while it was being transcribed; run again to transcribe the new content", { file: media.path, retryable: true });
      }
      const durationMs = Math.round(((decoded?.samples ?? 0) * 1000) / SAMPLE_RATE);
      store.setDuration(row.id, durationMs);
      const truncated = truncationMessage(durationMs, decoded?.declaredMs);
      if (truncated) throw new SpeechflowError("MEDIA_UNREADABLE", truncated, { file: media.path });
      const failedChunk = outcomes.find((o): o is Extract<ChunkOutcome, { ok: false }> => !o.ok);
      if (failedChunk) throw new SpeechflowError("CHUNK_FAILED", failedChunk.message, { file: media.path });

      const outputs = render({ ...row, duration_ms: durationMs });
      record(media.path, { hash: contentHash, durationMs, outputs, status: "done", error: null });
      audioMs += durationMs;
      emit({ type: "file-done", file: media.path, durationMs, chunks: chunkCount, outputs, elapsedMs: Date.now() - fileStarted });
      return "done";
    };

    let fatal: unknown;
    // a few files in flight at once: the next file decodes while the engine works on the previous
    const files = new PQueue({ concurrency: slots.length * config.jobsPerWorker + 1 });
    try {
      await Promise.all(
        scan.media.map((media) =>
          files.add(async () => {
            if (fatal !== undefined) return;
            try {
              const outcome = await processFile(media);
              counts[outcome]++;
              if (summaries.wanted && (outcome === "done" || outcome === "skipped")) {
                const row = store.getFile(media.path);
                if (row?.status === "done") summaryJobs.push(summaries.process(row));
              }
              if (outcome === "interrupted") {
                const row = store.getFile(media.path);
                if (row && row.status === "processing") store.markPending(row.id);
                record(media.path, { ...(row ? fromRow(row) : { hash: null, durationMs: null, outputs: [] }), status: "interrupted", error: null });
              }
            } catch (raw) {
              const error = toSpeechflowError(raw);
              if (error.code === "INTERRUPTED" || signal.aborted) {
                counts.interrupted++;
                const row = store.getFile(media.path);
                if (row && row.status === "processing") store.markPending(row.id);
                record(media.path, { ...(row ? fromRow(row) : { hash: null, durationMs: null, outputs: [] }), status: "interrupted", error: null });
                return;
              }
              if (error.code === "MODEL_INVALID" || error.code === "STATE_DB_INVALID" || error.code === "STATE_DB_WRITE_FAILED") {
                fatal ??= error;
                return;
              }
              counts.failed++;
              const row = store.getFile(media.path);
              if (row) store.failFile(row.id, error.code, error.message);
              else store.recordUnreadFailure({ ...media, runId }, error.code, error.message);
              fail(media.path, error);
            }
          }),
        ),
      );
    } finally {
      await pool?.close();
      if (!pool && poolStarting) await poolStarting.then((p) => p.close()).catch(() => undefined);
      // summaries run beside transcription; they finish before the state database closes
      await Promise.all(summaryJobs);
    }
    // inputs the run never reached (stopped early) are listed too: one line per input, always
    for (const media of scan.media) if (!manifest.has(media.path)) record(media.path, { hash: null, durationMs: null, outputs: [], status: "interrupted", error: null });
    // input order, not completion order: the same inputs give the same line order every night
    const order = new Map([...scan.problems.map((p) => p.input), ...scan.media.map((m) => m.path)].map((path, i) => [path, i]));
    const entries = [...manifest.values()].sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
    let manifestPath: string | undefined;
    try {
      manifestPath = writeOutputFile(outputDir, "manifest.jsonl", manifestJsonl(entries, outputDir));
    } catch (error) {
      emit({ type: "warning", message: toSpeechflowError(error).message });
    }
    let reportPath: string | undefined;
    if (!signal.aborted) {
      try {
        reportPath = await summaries.writeBatchReport(entries.map((e) => ({ path: e.path, status: e.status, durationMs: e.durationMs, error: e.error?.message ?? null })));
      } catch (error) {
        emit({ type: "warning", message: toSpeechflowError(error).message });
      }
    }
    const interrupted = signal.aborted || counts.interrupted > 0;
    const summary: RunSummary = {
      status: interrupted ? "interrupted" : "completed",
      files: scan.media.length + scan.problems.length,
      done: counts.done,
      skipped: counts.skipped,
      failed: counts.failed + scan.problems.length,
      audioMs,
      elapsedMs: Date.now() - started,
      failures,
      ...(manifestPath ? { manifest: manifestPath } : {}),
      ...(reportPath ? { report: reportPath } : {}),
      ...(summaries.wanted ? { summaries: { ...summaries.totals } } : {}),
    };
    try {
      store.endRun(runId, fatal !== undefined ? "failed" : summary.status, { ...summary });
    } catch {
      // a full disk may refuse even this; the files and chunks are what matters, and they are saved
    }
    if (fatal !== undefined) throw fatal;
    emit({ type: "run-end", ...summary });
    if (config.notifyUrl) {
      const sent = await notifyWebhook(config.notifyUrl, { type: "run-end", ...summary }, { baseDelayMs: Number(env.SPEECHFLOW_RETRY_BASE_MS ?? 500) });
      if (!sent.ok) emit({ type: "warning", message: `run-end notification not delivered after ${sent.attempts} attempt(s): ${sent.message}` });
    }
    return summary;
  } finally {
    store.close();
    lock.release();
  }
}
