import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import { QUEUES_KEY, type QueueMeta, WORKER_KEY_PREFIX } from "./queue-names.js";

/**
 * Who is on the queue: coordinators register the queues they fill (with the model they need),
 * workers announce themselves with a heartbeat key that expires when they stop. Workers read the
 * queues to pick those they can serve; `queue status` reads both to say why chunks wait.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  modelName: string;
  modelIdentity: string;
  buildClass: string;
  devices: string;
  concurrency: number;
  /** queues it consumes now */
  queues: string[];
  /** chunks finished since it started */
  processed: number;
}

export async function registerQueue(redis: Redis, meta: QueueMeta): Promise<void> {
  await redis.hset(QUEUES_KEY, meta.name, JSON.stringify(meta));
}

export async function listQueues(redis: Redis): Promise<QueueMeta[]> {
  const all = await redis.hgetall(QUEUES_KEY);
  return Object.values(all)
    .map((v) => JSON.parse(v) as QueueMeta)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `queue clean`: an empty queue is forgotten (a running coordinator registers its queue again within seconds). */
export async function forgetQueue(redis: Redis, name: string): Promise<void> {
  await redis.hdel(QUEUES_KEY, name);
}

export async function heartbeat(redis: Redis, info: WorkerInfo, ttlSeconds: number): Promise<void> {
  await redis.set(`${WORKER_KEY_PREFIX}${info.id}`, JSON.stringify(info), "EX", ttlSeconds);
}

export async function removeWorker(redis: Redis, id: string): Promise<void> {
  await redis.del(`${WORKER_KEY_PREFIX}${id}`);
}

export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${WORKER_KEY_PREFIX}*`, "COUNT", 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerInfo);
}

/**
 * The whisper.cpp build a process transcribes with, as a class: the smart-whisper release (which
 * pins whisper.cpp). Devices are not part of it: CPU and GPU workers of one release share a queue,
 * as `--device` does not change a local run's fingerprint either.
 */
export function engineBuildClass(): string {
  const version = (createRequire(import.meta.url)("smart-whisper/package.json") as { version: string }).version;
  return `smart-whisper@${version}`;
}
