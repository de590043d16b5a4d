import type { StatusSummary } from "../store/state-store.js";
import { formatDuration } from "./run-stats.js";

/** `speechflow status` for people; `--json` prints the StatusSummary itself. */
export function statusText(summary: StatusSummary): string {
  const f = summary.files;
  const run = summary.lastRun;
  const lastRun = run
    ? `last run: #${run.id} ${run.status}, started ${run.startedAt}` +
      (run.elapsedMs !== null ? `, took ${formatDuration(run.elapsedMs)}` : "") +
      (run.done !== null ? ` (${run.done} done, ${run.skipped} unchanged, ${run.failed} failed)` : "")
    : "last run: none";
  const lines = [
    `state: ${summary.db}`,
    `files: ${f.total} total, ${f.done} done, ${f.pending + f.processing} pending, ${f.failed} failed`,
    `chunks: ${summary.chunks.done} done, ${summary.chunks.pending} pending, ${summary.chunks.failed} failed`,
    `audio transcribed: ${(summary.audioMsDone / 60000).toFixed(1)} min`,
    lastRun,
    ...summary.failures.map((x) => `  ✗ ${x.path}: ${x.error} [${x.code}]`),
  ];
  return lines.join("\n") + "\n";
}
