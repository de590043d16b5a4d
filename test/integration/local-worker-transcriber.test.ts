import { LocalWorkerTranscriber } from "../../src/engine/local-worker-transcriber.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { describeTranscriberContract } from "../helpers/transcriber-contract.js";

const options = {
  modelPath: MICRO_MODEL_PATH,
  device: "cpu",
  layout: { workers: 1, jobsPerWorker: 2, threads: 1, reason: "test" },
  emit: () => {},
  env: process.env,
};

describeTranscriberContract("local whisper.cpp workers", {
  healthy: () => new LocalWorkerTranscriber(options),
  crashOnLabel: (mark) => new LocalWorkerTranscriber({ ...options, faults: { abortMark: mark } }),
});
