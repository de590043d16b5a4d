/**
 * Entry point of a worker process: loads the model once, then transcribes the chunks the pool
 * sends. It exits by itself when the parent goes away (IPC disconnect, or re-parenting after a
 * `kill -9` of the parent), so no worker outlives its run.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { exitWithParent, sendToParent } from "../core/child-of-parent.js";
import { collectGarbage } from "../core/collect-garbage.js";
import type { FaultPlan } from "../core/fault-plan.js";
import { chooseTailThreads } from "./choose-tail-threads.js";
import type { EngineParams, FromWorker, RawSegment, ToWorker } from "./worker-protocol.js";

const require = createRequire(import.meta.url);

interface SmartWhisperModule {
  Whisper: new (
    file: string,
    config: { gpu: boolean; offload: number },
  ) => {
    load(): Promise<unknown>;
    transcribe(pcm: Float32Array, params: Record<string, unknown>): Promise<{ result: Promise<unknown> }>;
    /** the result of every transcription started, finished or not */
    readonly tasks: Promise<unknown>[];
    free(): Promise<void>;
  };
}

const send = (message: FromWorker) => sendToParent(message);

exitWithParent();

// fault injection for the crash-recovery tests, sent by the pool with the load message: abort on
// the Nth chunk this process receives (only once over all workers when `onceFile` names a flag
// file to create), or on every chunk whose label contains `abortMark`
let faults: FaultPlan = {};
function faultArmed(): boolean {
  if (!faults.onceFile) return true;
  try {
    writeFileSync(faults.onceFile, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    return false; // already fired in another worker
  }
}
const shouldAbort = (label: string) =>
  (faults.abortNth !== undefined && received === faults.abortNth && faultArmed()) || (faults.abortMark !== undefined && label.includes(faults.abortMark));
let received = 0;

/** chunks may arrive while others run (the pool sends the next one early): they wait here for a slot */
let concurrency = 1;
let running = 0;
/** a run's last chunk holds every thread of this worker (see chooseTailThreads): nothing starts beside it */
let exclusive = false;
const waiting: (() => void)[] = [];
function pump(): void {
  while (waiting.length > 0 && running < concurrency && !exclusive) {
    running++;
    waiting.shift()!();
  }
}
function slot(): Promise<void> {
  const granted = new Promise<void>((resolve) => waiting.push(resolve));
  pump();
  return granted;
}
function freeSlot(): void {
  running--;
  pump();
}

/** CPU workers only: on a GPU the chunks beside the last one cost it little */
let cpu = true;
let inputEnded = false;
/** when each running chunk started, by job id */
const runningSince = new Map<number, number>();
const othersDone: (() => void)[] = [];
/** time per chunk with the configured threads, over the chunks done so far */
let doneMs = 0;
let doneCount = 0;

/** Threads for a chunk that just got its slot; the last chunk of a run may first wait for the others. */
async function threadsFor(message: Extract<ToWorker, { type: "transcribe" }>): Promise<number> {
  const threads = message.params.threads;
  if (!cpu) return threads;
  const now = Date.now();
  const plan = chooseTailThreads({
    ...{ inputEnded, waitingBehind: waiting.length, othersRunningMs: [...runningSince.values()].map((t) => now - t) },
    ...{ chunkMs: doneCount > 0 ? doneMs / doneCount : undefined, concurrency, threads },
  });
  if (!plan.waitForOthers) return threads;
  exclusive = true;
  await new Promise<void>((resolve) => othersDone.push(resolve));
  return plan.threads;
}

let whisper: InstanceType<SmartWhisperModule["Whisper"]> | undefined;
/** the longest idle time smart-whisper's timer can hold: (2^31 - 1) ms, in whole seconds */
const MODEL_KEEP_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * smart-whisper keeps every transcription's result in `tasks` (its free() waits for them all), so
 * a worker would hold every chunk's segments until it exits: a slow growth over a long run.
 */
function forgetWhenSettled(model: { tasks: Promise<unknown>[] }, result: Promise<unknown>): void {
  const forget = () => {
    const at = model.tasks.indexOf(result);
    if (at >= 0) model.tasks.splice(at, 1);
  };
  result.then(forget, forget);
}

function toWhisperParams(p: EngineParams): Record<string, unknown> {
  return {
    strategy: p.beamSize > 1 ? 1 : 0,
    beam_size: p.beamSize,
    best_of: 1,
    n_threads: p.threads,
    language: p.language,
    translate: p.translate,
    initial_prompt: p.prompt.length > 0 ? p.prompt : undefined,
    temperature: 0,
    temperature_inc: p.temperatureFallback ? 0.2 : 0,
    max_initial_ts: 1,
    // chunks are independent: conditioning on the previous window would tie them together
    no_context: true,
    token_timestamps: p.wordTimestamps,
    split_on_word: true,
    suppress_non_speech_tokens: true,
    print_progress: false,
    print_realtime: false,
    format: "detail",
  };
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === "load") {
    faults = message.faults;
    concurrency = Math.max(1, message.concurrency);
    cpu = !message.gpu;
    const started = Date.now();
    try {
      const { Whisper } = require("smart-whisper") as SmartWhisperModule;
      // offload: keep the model loaded between chunks (smart-whisper frees idle models after `offload`
      // seconds). It becomes a setTimeout in ms, which must fit Node's 32-bit timer: 1e9 s overflowed,
      // fired after 1 ms and reloaded the model for every chunk. 2e6 s (23 days) fits.
      whisper = new Whisper(message.modelPath, { gpu: message.gpu, offload: MODEL_KEEP_SECONDS });
      await whisper.load();
      send({ type: "ready", loadMs: Date.now() - started });
    } catch (error) {
      send({ type: "load-error", message: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  if (message.type === "input-ended") {
    inputEnded = true;
    return;
  }
  if (message.type === "shutdown") {
    await whisper?.free().catch(() => undefined);
    process.exit(0);
  }
  if (message.type === "transcribe") {
    await slot();
    received++;
    send({ type: "started", id: message.id });
    if (shouldAbort(message.label)) process.abort();
    const threads = await threadsFor(message);
    const started = Date.now();
    runningSince.set(message.id, started);
    try {
      if (!whisper) throw new Error("model not loaded");
      const task = await whisper.transcribe(message.pcm, toWhisperParams({ ...message.params, threads }));
      forgetWhenSettled(whisper, task.result);
      const result = await task.result;
      if (!Array.isArray(result)) {
        throw new Error(result instanceof Error ? result.message : "whisper.cpp returned no result");
      }
      const elapsedMs = Date.now() - started;
      if (threads === message.params.threads) {
        doneMs += elapsedMs;
        doneCount++;
      }
      send({ type: "result", id: message.id, segments: result as RawSegment[], elapsedMs, threads });
    } catch (error) {
      send({ type: "error", id: message.id, message: error instanceof Error ? error.message : String(error) });
    } finally {
      runningSince.delete(message.id);
      if (threads !== message.params.threads) exclusive = false;
      // the chunk's audio: smart-whisper holds it until whisper.cpp is done, by then it has survived
      // collections and only a full one frees it
      collectGarbage("full");
      if (runningSince.size === 0) for (const wake of othersDone.splice(0)) wake();
      freeSlot();
    }
  }
}

process.on("message", (message: ToWorker) => {
  // a chunk's audio arrives in ~30 pipe reads joined into one buffer: the reads are garbage once the
  // message is decoded (and the joined buffer too, unless the audio is a view into it)
  if (message.type === "transcribe") collectGarbage("minor");
  void handle(message);
});
