import { type QueueMeta, workerServes } from "./queue-names.js";
import type { WorkerInfo } from "./queue-registry.js";

/** Why a queue's chunks are not being taken, for `queue status`; undefined when workers serve it (or nothing waits). */
export function waitReason(meta: QueueMeta, waiting: number, workers: WorkerInfo[]): string | undefined {
  if (waiting === 0 || workers.some((w) => workerServes(meta, w))) return undefined;
  const wanted = `model ${meta.modelName} (${meta.modelIdentity}) on ${meta.buildClass}`;
  if (workers.length === 0) return `no worker is connected; start one with ${wanted}`;
  const held = [...new Set(workers.map((w) => `${w.modelName} (${w.modelIdentity}) on ${w.buildClass}`))].join(", ");
  return `no connected worker holds ${wanted}; connected workers hold ${held}`;
}
