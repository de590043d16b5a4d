import { type Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { openBlobStore } from "../blob/open-blob-store.js";
import type { ChunkJobData } from "./chunk-payload.js";
import { KEY_PREFIX, type QueueMeta, workerServes } from "./queue-names.js";
import { forgetQueue, listQueues, listWorkers, type WorkerInfo } from "./queue-registry.js";
import { connectRedis } from "./redis-checks.js";
import { redactRedisUrl, redisConnectionOptions } from "./redis-options.js";
import { waitReason } from "./wait-reason.js";

/**
 * `speechflow queue status|retry-failed|drain|clean`: what is on the queues and who serves them,
 * and the few operations an operator needs. Each works on every registered queue.
 */
export interface QueueState {
  queue: string;
  modelName: string;
  modelIdentity: string;
  buildClass: string;
  counts: Record<string, number>;
  /** ids of connected workers that serve this queue */
  workers: string[];
  /** why chunks wait, when no connected worker can take them */
  waitingBecause?: string | undefined;
  /** the first failed chunks and why */
  failed: { id: string; label: string; reason: string }[];
}

export interface QueueStatusReport {
  url: string;
  queues: QueueState[];
  workers: WorkerInfo[];
}

const STATES = ["waiting", "active", "delayed", "prioritized", "completed", "failed"] as const;
const SHOWN_FAILURES = 10;

async function withQueues<T>(url: string, each: (queue: Queue<ChunkJobData>, meta: QueueMeta, redis: Redis) => Promise<T>): Promise<T[]> {
  const redis = await connectRedis(url);
  try {
    const results: T[] = [];
    for (const meta of await listQueues(redis)) {
      const queue = new Queue<ChunkJobData>(meta.name, { connection: redisConnectionOptions(url), prefix: KEY_PREFIX, skipMetasUpdate: true });
      queue.on("error", () => undefined);
      try {
        results.push(await each(queue, meta, redis));
      } finally {
        await queue.close();
      }
    }
    return results;
  } finally {
    redis.disconnect();
  }
}

export async function queueStatus(url: string): Promise<QueueStatusReport> {
  let workers: WorkerInfo[] = [];
  const queues = await withQueues(url, async (queue, meta, redis) => {
    if (workers.length === 0) workers = await listWorkers(redis);
    const counts = (await queue.getJobCounts(...STATES)) as Record<string, number>;
    const failed = ((await queue.getFailed(0, SHOWN_FAILURES - 1)) as Job<ChunkJobData>[]).map((j) => ({
      id: j.id ?? "",
      label: j.data?.label ?? "",
      reason: j.failedReason ?? "",
    }));
    return {
      ...{ queue: meta.name, modelName: meta.modelName, modelIdentity: meta.modelIdentity, buildClass: meta.buildClass, counts },
      workers: workers.filter((w) => workerServes(meta, w)).map((w) => w.id),
      waitingBecause: waitReason(meta, (counts.waiting ?? 0) + (counts.prioritized ?? 0), workers),
      failed,
    };
  });
  if (queues.length === 0) workers = await withRedis(url, listWorkers);
  return { url: redactRedisUrl(url), queues, workers };
}

async function withRedis<T>(url: string, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(url);
  try {
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

/** Failed chunks back to waiting, for the workers to try again (after the cause is fixed). */
export async function retryFailed(url: string): Promise<{ queue: string; retried: number }[]> {
  return withQueues(url, async (queue, meta) => {
    const retried = await queue.getFailedCount();
    if (retried > 0) await queue.retryJobs({ state: "failed" });
    return { queue: meta.name, retried };
  });
}

/** Removes chunks nobody has taken yet (a running coordinator adds what it still needs again). */
export async function drainQueues(url: string, blobUrl: string | undefined): Promise<{ queues: { queue: string; removed: number }[]; blobsRemoved: number }> {
  const queues = await withQueues(url, async (queue, meta) => {
    const removed = (await queue.getWaitingCount()) + (await queue.getDelayedCount()) + (await queue.getPrioritizedCount());
    await queue.drain(true);
    return { queue: meta.name, removed };
  });
  // a chunk still being put by a live coordinator may be younger than any grace: leave every partial write
  return { queues, blobsRemoved: blobUrl ? await removeOrphanBlobs(url, blobUrl, Number.POSITIVE_INFINITY) : 0 };
}

/**
 * Removes finished jobs older than `graceMs` (results no coordinator came back for), forgets queues
 * left empty, and, with a blob store, removes every blob no job refers to any more and the partial
 * writes of writers that died (older than `graceMs`).
 */
export async function cleanQueues(
  url: string,
  blobUrl: string | undefined,
  graceMs: number,
): Promise<{ queues: { queue: string; completed: number; failed: number; forgotten: boolean }[]; blobsRemoved: number }> {
  const queues = await withQueues(url, async (queue, meta, redis) => {
    const completed = (await queue.clean(graceMs, 0, "completed")).length;
    const failed = (await queue.clean(graceMs, 0, "failed")).length;
    const left = Object.values(await queue.getJobCounts(...STATES)).reduce((a, b) => a + b, 0);
    // workers stop listening to a forgotten queue; its coordinator, if still running, registers it again
    if (left === 0) await forgetQueue(redis, meta.name);
    return { queue: meta.name, completed, failed, forgotten: left === 0 };
  });
  return { queues, blobsRemoved: blobUrl ? await removeOrphanBlobs(url, blobUrl, graceMs) : 0 };
}

/** Blobs under chunks/ that no job on any queue refers to, and partial writes older than `partialGraceMs`. */
async function removeOrphanBlobs(url: string, blobUrl: string, partialGraceMs: number): Promise<number> {
  const referenced = new Set<string>();
  await withQueues(url, async (queue) => {
    for (const job of (await queue.getJobs([...STATES])) as Job<ChunkJobData>[]) if (job?.data?.blob) referenced.add(job.data.blob);
  });
  const blobs = openBlobStore(blobUrl);
  let removed = 0;
  try {
    if (Number.isFinite(partialGraceMs)) removed += await blobs.removeAbandonedWrites(partialGraceMs);
    for await (const key of blobs.list("chunks/")) {
      if (referenced.has(key)) continue;
      await blobs.delete(key);
      removed++;
    }
  } finally {
    await blobs.close();
  }
  return removed;
}
