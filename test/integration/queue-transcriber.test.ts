import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { resolveModel } from "../../src/models/resolve-model.js";
import { engineBuildClass } from "../../src/queue/queue-registry.js";
import { QueueTranscriber } from "../../src/queue/queue-transcriber.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type SpawnedWorker, startWorker, stopWorker } from "../helpers/queue-workers.js";
import { TestRedis } from "../helpers/redis-server.js";
import { minimalEnv } from "../helpers/run-cli.js";
import { describeTranscriberContract } from "../helpers/transcriber-contract.js";

// two Redis servers, each with one real `speechflow worker`: a healthy one, and one whose engine
// crashes on every chunk labelled "poison" (the contract's crashOnLabel)
let healthy: TestRedis;
let crashing: TestRedis;
let blob: string;
const workers: SpawnedWorker[] = [];
const params = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: false, wordTimestamps: false };

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "sf-queue-contract-"));
  blob = pathToFileURL(join(work, "blobs")).href;
  [healthy, crashing] = await Promise.all([TestRedis.start(), TestRedis.start()]);
  const env = minimalEnv(work);
  workers.push(startWorker({ queue: healthy.url, blob, model: MICRO_MODEL_PATH, cwd: work, env }));
  workers.push(startWorker({ queue: crashing.url, blob, model: MICRO_MODEL_PATH, cwd: work, env: { ...env, SPEECHFLOW_FAULT_ABORT_MARK: "poison" } }));
  await Promise.all(workers.map((w) => w.waitFor(/ready on/)));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w)));
  await Promise.all([healthy?.stop(), crashing?.stop()]);
});

const engine = (redis: () => TestRedis) => () => {
  const model = resolveModel(MICRO_MODEL_PATH, process.cwd());
  return new QueueTranscriber({
    ...{ queueUrl: redis().url, blobUrl: blob, model: { name: model.name, identity: model.identity }, buildClass: engineBuildClass() },
    ...{ params, emit: () => undefined, metrics: "" },
  });
};

describeTranscriberContract("QueueTranscriber with real speechflow worker processes", {
  healthy: engine(() => healthy),
  crashOnLabel: () => engine(() => crashing)(),
});
