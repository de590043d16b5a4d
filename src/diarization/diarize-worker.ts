/**
 * Entry point of a diarization worker process: loads sherpa-onnx's offline speaker diarization
 * once, then diarizes the audio the parent sends. Native failures end this process, never the
 * parent: onnxruntime errors abort it, or (in the async call) end it with NATIVE_FAILURE_EXIT_CODE.
 * It exits by itself when the parent goes away, so no worker outlives its run.
 */
import { createHook } from "node:async_hooks";
import { createRequire } from "node:module";
import { exitWithParent, sendToParent } from "../core/child-of-parent.js";
import { type FromDiarizeWorker, NATIVE_FAILURE_EXIT_CODE, type SherpaDiarizationConfig, type SpeakerTurn, type ToDiarizeWorker } from "./diarize-protocol.js";

const require = createRequire(import.meta.url);

interface SherpaDiarization {
  handle: unknown;
  sampleRate: number;
  process(samples: Float32Array): SpeakerTurn[];
}

interface SherpaModule {
  OfflineSpeakerDiarization: new (config: SherpaDiarizationConfig) => SherpaDiarization;
}

/** The addon's async call (not wrapped by sherpa-onnx-node's class): runs off the JS thread and reports progress. */
interface SherpaAddon {
  offlineSpeakerDiarizationProcessAsync?: (handle: unknown, samples: Float32Array, onProgress: (done: number, total: number) => void) => Promise<SpeakerTurn[]>;
}

/** async_hooks type of the addon's work item (napi async resource name in non-streaming-speaker-diarization.cc) */
const ASYNC_WORK_TYPE = "SpeakerDiarizationProcessAsyncWorker";

const send = (message: FromDiarizeWorker) => sendToParent(message);

exitWithParent();

let diarization: SherpaDiarization | undefined;
let addon: SherpaAddon = {};

function load(config: SherpaDiarizationConfig): void {
  const started = Date.now();
  try {
    const sherpa = require("sherpa-onnx-node") as SherpaModule;
    addon = require("sherpa-onnx-node/addon.js") as SherpaAddon;
    // sherpa logs why (to stderr) and throws "Please check your config!" when a file is missing;
    // a model it cannot parse aborts this process instead
    diarization = new sherpa.OfflineSpeakerDiarization(config);
    send({ type: "ready", sampleRate: diarization.sampleRate, loadMs: Date.now() - started });
  } catch (error) {
    send({ type: "load-error", message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Calls `run` and watches the addon's async work item. node-addon-api catches a C++ exception
 * thrown while it runs (an onnxruntime error, say) and nothing then settles the promise; the
 * addon's thread-safe progress function also keeps this process alive, so it would hang forever.
 * The work item's async_hooks `after` event says it has finished: if the promise has not settled
 * once the microtasks queued by that callback have run, it never will, and the process ends.
 */
async function withNativeFailureWatch<T>(run: () => Promise<T>): Promise<T> {
  let settled = false;
  let workId = -1;
  const hook = createHook({
    init(asyncId, type) {
      if (type === ASYNC_WORK_TYPE) workId = asyncId;
    },
    after(asyncId) {
      if (asyncId !== workId) return;
      setImmediate(() => {
        // onnxruntime has logged the cause to stderr, where the parent reads it
        if (!settled) process.exit(NATIVE_FAILURE_EXIT_CODE);
      });
    },
  });
  hook.enable();
  try {
    return await run();
  } finally {
    settled = true;
    hook.disable();
  }
}

async function diarize(id: number, samples: Float32Array): Promise<SpeakerTurn[]> {
  const sd = diarization;
  if (!sd) throw new Error("the diarization models are not loaded");
  const processAsync = addon.offlineSpeakerDiarizationProcessAsync;
  // without the async call (older addons) there is no progress, and a native error aborts the process
  if (!processAsync) return sd.process(samples);
  return withNativeFailureWatch(() => processAsync(sd.handle, samples, (done, total) => send({ type: "progress", id, done, total })));
}

async function handle(message: ToDiarizeWorker): Promise<void> {
  if (message.type === "load") load(message.config);
  else if (message.type === "shutdown") process.exit(0);
  else if (message.type === "diarize") {
    const started = Date.now();
    try {
      const turns = await diarize(message.id, message.samples);
      send({ type: "result", id: message.id, turns, elapsedMs: Date.now() - started });
    } catch (error) {
      send({ type: "error", id: message.id, message: error instanceof Error ? error.message : String(error) });
    }
  }
}

process.on("message", (message: ToDiarizeWorker) => {
  void handle(message);
});
