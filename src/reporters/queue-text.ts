import type { QueueStatusReport } from "../queue/queue-admin.js";
import type { WorkerNote } from "../queue/queue-worker.js";

/** `speechflow queue status` for people; `--json` prints the report itself. */
export function queueStatusText(report: QueueStatusReport): string {
  const lines = [`queue: ${report.url}`];
  if (report.queues.length === 0) lines.push("no queues registered yet (a transcribe --queue run registers its queue)");
  for (const q of report.queues) {
    const counts = Object.entries(q.counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state}`)
      .join(", ");
    lines.push(`${q.queue}: model ${q.modelName} (${q.modelIdentity}, ${q.buildClass})`);
    lines.push(`  chunks: ${counts || "none"}`);
    lines.push(`  workers: ${q.workers.length > 0 ? q.workers.join(", ") : "none"}`);
    if (q.waitingBecause) lines.push(`  waiting because ${q.waitingBecause}`);
    for (const f of q.failed) lines.push(`  ✗ ${f.label}: ${f.reason}`);
  }
  lines.push(`workers connected: ${report.workers.length}`);
  for (const w of report.workers) {
    lines.push(`  ${w.id}: model ${w.modelName} (${w.modelIdentity}) on ${w.devices}, ${w.concurrency} at once, ${w.processed} chunk(s) done`);
  }
  return lines.join("\n") + "\n";
}

/** One line per queue for retry-failed, drain and clean: "<queue>: 3 retried". */
export function queueActionText(rows: { queue: string; [count: string]: string | number }[], blobsRemoved?: number): string {
  const lines = rows.map((r) => {
    const counts = Object.entries(r)
      .filter(([k]) => k !== "queue")
      .map(([k, v]) => (v === "" ? k : `${v} ${k}`))
      .join(", ");
    return `${r.queue}: ${counts}`;
  });
  if (rows.length === 0) lines.push("no queues registered");
  if (blobsRemoved !== undefined) lines.push(`blobs removed: ${blobsRemoved}`);
  return lines.join("\n") + "\n";
}

/** What `speechflow worker` prints on stderr as it works. */
export function workerNoteLine(id: string, note: WorkerNote): string {
  switch (note.type) {
    case "serving":
      return `worker ${id}: serving ${note.queue} (model ${note.modelName})`;
    case "chunk-start":
      return `worker ${id}: took ${note.label}`;
    case "chunk-done":
      return `worker ${id}: done ${note.label} in ${note.elapsedMs} ms`;
    case "chunk-failed":
      return `worker ${id}: failed ${note.label}: ${note.message}`;
    case "holding":
      return `worker ${id}: holding ${note.label} (fault injection)`;
    case "metrics":
      return `worker ${id}: metrics on port ${note.port} at /metrics`;
  }
}
