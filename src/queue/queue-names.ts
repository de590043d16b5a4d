import { createHash } from "node:crypto";
import type { DecodingParams } from "../engine/worker-protocol.js";

/**
 * Names and ids on the queue, decided in one place and pure. Redis keys join parts with ':', so
 * none of these contain one.
 */

/** BullMQ's key prefix for speechflow's queues, and the prefix of its own registry keys */
export const KEY_PREFIX = "speechflow";
/** registry hash: queue name -> QueueMeta JSON (written by coordinators, read by workers and `queue status`) */
export const QUEUES_KEY = `${KEY_PREFIX}-meta:queues`;
/** one key per live worker (expires when its heartbeats stop) */
export const WORKER_KEY_PREFIX = `${KEY_PREFIX}-meta:worker:`;

/** What a queue's chunks need from a worker, stored in the registry beside the queue's name. */
export interface QueueMeta {
  name: string;
  /** the model's name as the coordinator was given it (shown by `queue status`) */
  modelName: string;
  /** size + hash of the model file's first MiB (ResolvedModel.identity): workers compare their own */
  modelIdentity: string;
  /** whisper.cpp build class: workers with another one would transcribe differently */
  buildClass: string;
  params: DecodingParams;
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The queue a run's chunks go to: the model file, the decoding settings and the engine build class
 * decide it, so a worker holding another model or build never sees these chunks.
 */
export function queueNameFor(parts: { modelIdentity: string; buildClass: string; params: DecodingParams }): string {
  const p = parts.params;
  const decoding = [p.language, p.translate, p.prompt, p.beamSize, p.temperatureFallback, p.wordTimestamps];
  return `sf-${sha(JSON.stringify([parts.modelIdentity, parts.buildClass, decoding])).slice(0, 20)}`;
}

/**
 * A chunk's job id: the same file content, chunk index and settings always give the same id, so a
 * coordinator restarted after a crash finds the job it added before instead of adding another.
 */
export function chunkJobId(fileHash: string, index: number, fingerprint: string): string {
  if (!/^[0-9a-f]+$/i.test(fileHash) || !/^[0-9a-z]+$/i.test(fingerprint) || !Number.isInteger(index) || index < 0) {
    throw new Error(`chunk job id from unexpected parts: ${fileHash} ${index} ${fingerprint}`);
  }
  return `${fileHash.slice(0, 32)}-${index}-${fingerprint.slice(0, 16)}`;
}

/** The id of a chunk given without one (no file behind it): its label and audio decide it. */
export function adHocJobId(label: string, sha256: string): string {
  return `adhoc-${sha(`${label}\n${sha256}`).slice(0, 40)}`;
}

/**
 * Where a chunk's audio waits in the blob store: named by its job and its content. Not by content
 * alone: coordinators sharing a store would then share the blob of identical audio, and the first
 * to commit its chunk would delete it under the other's job.
 */
export function blobKeyFor(jobId: string, sha256: string): string {
  return `chunks/${jobId}-${sha256.slice(0, 16)}`;
}

/** Whether a worker holding `worker` may take `queue`'s chunks. */
export function workerServes(queue: Pick<QueueMeta, "modelIdentity" | "buildClass">, worker: { modelIdentity: string; buildClass: string }): boolean {
  return queue.modelIdentity === worker.modelIdentity && queue.buildClass === worker.buildClass;
}
