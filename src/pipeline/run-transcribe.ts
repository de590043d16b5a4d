import { rmSync } from "node:fs";
import PQueue from "p-queue";
import { resolveVad } from "../chunking/resolve-vad.js";
import { EVENTS_SCHEMA_VERSION } from "../core/events.js";
import { resolvePaths } from "../core/paths.js";
import type { RunContext } from "../core/run-context.js";
import { TOOL_VERSION } from "../core/tool-version.js";
import { diarizationFingerprint, diarizeFile, type ModelRunner } from "../diarization/diarize-file.js";
import { diarizeWithModels } from "../diarization/model-diarizer.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type MediaInput, type ScanResult, scanInputs } from "../inputs/scan-inputs.js";
import { resolveFfmpeg } from "../media/ffmpeg-gateway.js";
import { ensureModel } from "../models/ensure-model.js";
import type { ResolvedModel } from "../models/resolve-model.js";
import { armWriteFault, tmpDirOf } from "../outputs/write-outputs.js";
import { type RemoteSettings, resolveRemoteSettings } from "../remote/remote-settings.js";
import { createTranscriber } from "./create-transcriber.js";
import { type FileHooks, FileJob } from "./file-job.js";
import { FileRenderer } from "./file-renderer.js";
import { finishRun } from "./finish-run.js";
import { LazyEngine } from "./lazy-engine.js";
import { RunLedger } from "./run-ledger.js";
import { openRunResources, type RunResources } from "./run-resources.js";
import type { RunSummary } from "./run-summary.js";
import { decodingSettings, settingsFingerprint, transcriptionSettings } from "./settings-fingerprint.js";

export type { RunSummary } from "./run-summary.js";

export interface TranscribeRequest {
  inputs: string[];
  listEntries?: string[];
  /** media already resolved by the caller (eval's dataset loader, retry): no scanning */
  media?: ScanResult;
  /** try files that failed for good (corrupt media) again even when unchanged: `speechflow retry` */
  retryFailed?: boolean;
  /** download a missing published model (interactive runs); unattended runs get an error instead */
  allowModelDownload?: boolean;
}

/**
 * The transcribe pipeline: inputs -> media (ffmpeg) -> chunking -> engine -> store -> outputs.
 * Emits lifecycle events and returns totals; it never prints and never exits the process.
 */
export async function runTranscribe(request: TranscribeRequest, ctx: RunContext): Promise<RunSummary> {
  const startedAt = Date.now();
  const { config, emit, signal, env } = ctx;
  const paths = resolvePaths(config, ctx.cwd);
  const ffmpeg = await resolveFfmpeg(config.ffmpeg, env);
  // a remote engine needs no local model: the service's model name stands in for it
  const model =
    config.engine === "remote"
      ? remoteModel(resolveRemoteSettings(config, env))
      : await ensureModel(config, {
          cwd: ctx.cwd,
          env,
          allowDownload: request.allowModelDownload ?? false,
          emit,
          signal,
          retryDelayMs: ctx.seams?.retryBaseDelayMs,
        });
  const scan =
    request.media ?? (await scanInputs({ inputs: request.inputs, listEntries: request.listEntries ?? [], cwd: ctx.cwd, skipDirs: [paths.outputDir] }, ctx));
  const transcriber = await createTranscriber({ model, ffmpegPath: ffmpeg.path }, ctx);
  const vad = resolveVad(config.vad);
  const settings = transcriptionSettings(config, model, transcriber.capabilities.fingerprint, vad.kind);
  const resources = openRunResources(paths, ctx, model.name);
  try {
    armWriteFault(ctx.seams?.faults?.writeError);
    const { store } = resources;
    const runId = store.beginRun(TOOL_VERSION, { ...settings, model: model.name, formats: config.formats });
    rmSync(tmpDirOf(paths.outputDir), { recursive: true, force: true });
    const { workers, slots, threads, layout } = transcriber.capabilities;
    emit({
      type: "run-start",
      schema: EVENTS_SCHEMA_VERSION,
      runId,
      inputs: scan.media.length + scan.problems.length,
      model: model.path,
      workers,
      slots,
      threads,
      ...(layout ? { layout } : {}),
      db: paths.dbPath,
      output: paths.outputDir,
    });
    if (config.vad === "auto" && vad.kind === "energy") emit({ type: "warning", message: vad.why });
    const ledger = new RunLedger();
    for (const p of scan.problems)
      emit({ type: "file-failed", ...ledger.failed(p.input, new SpeechflowError(p.code, p.message, { file: p.input }), store.files.get(p.input)) });
    const engine = new LazyEngine(transcriber, emit);
    const renderer = new FileRenderer(config, store, paths.outputDir, model, { ...settings });
    const job = new FileJob({
      ...{ config, store, engine, renderer, ledger, paths, emit, signal, env, runId },
      ...{ ffmpegPath: ffmpeg.path, fingerprint: settingsFingerprint(settings), params: decodingSettings(config), vad },
      ...{ retryFailed: request.retryFailed ?? false, retryBaseDelayMs: ctx.seams?.retryBaseDelayMs ?? 1000 },
      diarization: diarizationStage(ctx, ffmpeg.path),
      chainsWindows: transcriber.capabilities.chainsWindows,
    });
    const fatal = await runFiles(scan.media, job, engine, resources, transcriber.capabilities.slots);
    const inputOrder = [...scan.problems.map((p) => p.input), ...scan.media.map((m) => m.path)];
    return await finishRun({ paths, store, summaries: resources.summaries, ledger, runId, inputOrder, startedAt, fatal, usage: transcriber.usage() }, ctx);
  } finally {
    resources.close();
  }
}

const STAGGER_MS = 1000;

/** Resolves with `promise` or after `ms`, whichever is first (the timer never keeps the process alive). */
async function firstOf(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
  clearTimeout(timer);
}

/** The model engine: sherpa-onnx's pyannote pipeline in a child process (a crashing model costs only that file's speakers). */
const runSherpaDiarization: ModelRunner = (pcm, options, _signal, onProgress) => diarizeWithModels(pcm, options, onProgress);

/** Diarization for the run when --diarize is on: its fingerprint, and how one file is diarized. */
function diarizationStage(ctx: RunContext, ffmpegPath: string) {
  const fingerprint = diarizationFingerprint(ctx.config, ctx.cwd, ctx.env);
  if (fingerprint === undefined) return undefined;
  const deps = { config: ctx.config, ffmpegPath, cwd: ctx.cwd, env: ctx.env, signal: ctx.signal, runModel: runSherpaDiarization };
  return {
    fingerprint,
    run: (localPath: string, file: string) =>
      diarizeFile(localPath, { ...deps, onProgress: (p) => ctx.emit({ type: "diarization-progress", file, done: p.done, total: p.total }) }),
  };
}

/** The remote service's model in the place of a local model file: names outputs and the fingerprint. */
const remoteModel = (s: RemoteSettings): ResolvedModel => ({
  name: `${s.provider}/${s.model}`,
  path: `remote:${s.provider}:${s.model}`,
  size: 0,
  identity: "remote",
});

/**
 * Runs every file's job, a few at once (the next file decodes while the engine works on the
 * previous), with summaries beside them. Returns the error that stopped the run, if any.
 */
async function runFiles(media: MediaInput[], job: FileJob, engine: LazyEngine, resources: RunResources, slots: number): Promise<unknown> {
  const { store, summaries } = resources;
  const summaryJobs: Promise<void>[] = [];
  const files = new PQueue({ concurrency: slots + 1 });
  let fatal: unknown;
  // A file starts once the one before it has handed the engine its first chunk (or after a second, so
  // a file that is silent for a long stretch does not hold the others up): at the start they would
  // otherwise share this thread's decoding and VAD three ways and the engine would wait ~3x longer.
  let previous: Promise<void> = Promise.resolve();
  // once every file is decoded no chunk comes but retries: the engine may give the last one every core
  let undecoded = media.length;
  const decodedOnce = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--undecoded === 0) engine.inputEnded();
    };
  };
  const one = async (input: MediaInput, turn: Promise<void>, hooks: Required<FileHooks>) => {
    await firstOf(turn, STAGGER_MS);
    try {
      if (fatal !== undefined) return;
      const outcome = await job.run(input, hooks);
      const file = summaries.wanted && (outcome === "done" || outcome === "skipped") ? store.files.get(input.path) : undefined;
      if (file?.status === "done") summaryJobs.push(summaries.process(file));
    } catch (error) {
      fatal ??= error;
    } finally {
      hooks.dispatched();
      hooks.decoded();
    }
  };
  try {
    await Promise.all(
      media.map((input) => {
        const turn = previous;
        let dispatched = () => {};
        previous = new Promise<void>((resolve) => {
          dispatched = resolve;
        });
        return files.add(() => one(input, turn, { dispatched, decoded: decodedOnce() }));
      }),
    );
  } finally {
    await engine.close();
    // summaries run beside transcription; they finish before the state database closes
    await Promise.all(summaryJobs);
  }
  return fatal;
}
