import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAND_IN_TEXT } from "../../src/engine/fixed-cost-transcriber.js";
import { resolveModel } from "../../src/models/resolve-model.js";
import { KEY_PREFIX } from "../../src/queue/queue-names.js";
import { engineBuildClass } from "../../src/queue/queue-registry.js";
import { QueueTranscriber } from "../../src/queue/queue-transcriber.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type SpawnedWorker, startWorker, stopWorker } from "../helpers/queue-workers.js";
import { TestRedis } from "../helpers/redis-server.js";
import { minimalEnv } from "../helpers/run-cli.js";

/**
 * 10,000 chunks through a real Redis, a real `speechflow worker` and the coordinator's
 * QueueTranscriber, with the worker's fixed-cost stand-in at 0 ms (SPEECHFLOW_FAULT_FIXED_COST_MS)
 * so the queue path is all there is: every job is removed once committed, so Redis holds no more
 * after them than before, beyond BullMQ's event stream (capped by its maxLenEvents, 10,000 entries).
 */
const CHUNKS = 10_000;
const WARM_UP = 200;
const params = { language: "en", translate: false, prompt: "memory", beamSize: 1, temperatureFallback: false, wordTimestamps: false };

let redis: TestRedis;
let client: Redis;
let worker: SpawnedWorker;
let blobDir: string;

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "sf-queue-memory-"));
  blobDir = join(work, "blobs");
  redis = await TestRedis.start();
  client = new Redis(redis.url);
  const env = { ...minimalEnv(work), SPEECHFLOW_FAULT_FIXED_COST_MS: "0" };
  worker = startWorker({ queue: redis.url, blob: pathToFileURL(blobDir).href, model: MICRO_MODEL_PATH, cwd: work, env, args: ["--concurrency", "32"] });
  await worker.waitFor(/ready on/);
});

afterAll(async () => {
  await stopWorker(worker);
  client?.disconnect();
  await redis?.stop();
});

async function usedMemory(): Promise<number> {
  const info = await client.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

async function keysOf(queue: string): Promise<string[]> {
  return (await client.keys(`${KEY_PREFIX}:${queue}:*`)).sort();
}

/** Memory in use less the queue's event stream, whose size BullMQ caps on its own. */
async function memoryLessEvents(queue: string): Promise<number> {
  const events = Number((await client.call("MEMORY", "USAGE", `${KEY_PREFIX}:${queue}:events`)) ?? 0);
  return (await usedMemory()) - events;
}

describe("Redis memory over 10,000 chunks", () => {
  it("returns to its baseline: every job is removed after its commit, no job key remains", async () => {
    const model = resolveModel(MICRO_MODEL_PATH, process.cwd());
    const transcriber = new QueueTranscriber({
      ...{ queueUrl: redis.url, blobUrl: pathToFileURL(blobDir).href, model: { name: model.name, identity: model.identity } },
      ...{ buildClass: engineBuildClass(), params, emit: () => undefined, metrics: "", slots: 64 },
    });
    await transcriber.start();
    try {
      // 20 ms chunks, each with its own content (its own blob)
      const run = async (from: number, to: number) => {
        let next = from;
        const lane = async () => {
          while (next < to) {
            const i = next++;
            const pcm = new Float32Array(320).fill((i % 1000) / 1000);
            pcm[0] = i / CHUNKS;
            const job = { id: `memory-${i}`, label: `memory.wav#${i}`, pcm, params };
            const result = await transcriber.transcribe(job);
            expect(result.segments[0]?.text).toBe(STAND_IN_TEXT);
            await transcriber.committed(job);
          }
        };
        await Promise.all(Array.from({ length: 64 }, lane));
      };
      // a warm-up creates the queue's own keys (id counter, meta, event stream)
      await run(0, WARM_UP);
      const keysBefore = await keysOf(transcriber.queueName);
      const before = await memoryLessEvents(transcriber.queueName);
      await run(WARM_UP, WARM_UP + CHUNKS);
      const keysAfter = await keysOf(transcriber.queueName);
      const after = await memoryLessEvents(transcriber.queueName);
      expect(keysAfter).toEqual(keysBefore);
      expect(keysAfter.filter((k) => /:memory-\d+/.test(k))).toEqual([]);
      // a small tolerance for allocator and dictionary rehash noise; 10,000 jobs left would be megabytes
      expect(after - before).toBeLessThan(256 * 1024);
      const events = Number(await client.xlen(`${KEY_PREFIX}:${transcriber.queueName}:events`));
      expect(events).toBeLessThanOrEqual(11_000);
      expect(readdirSync(join(blobDir, "chunks"))).toEqual([]);
    } finally {
      await transcriber.close();
    }
  }, 300_000);
});
