import type { ChalkInstance } from "chalk";
import type { SpeechflowEvent } from "../core/events.js";
import { formatDuration } from "./run-stats.js";

type RunEnd = Extract<SpeechflowEvent, { type: "run-end" }>;

/** The end-of-run lines: one summary (fit for cron mail), then one line per failed input. */
export function summaryLines(event: RunEnd, chalk: ChalkInstance): string[] {
  const speed = event.elapsedMs > 0 ? event.audioMs / event.elapsedMs : 0;
  const parts = [
    `${event.files} file${event.files === 1 ? "" : "s"}`,
    chalk.green(`${event.done} done`),
    `${event.skipped} unchanged`,
    event.failed > 0 ? chalk.red(`${event.failed} failed`) : `0 failed`,
  ];
  const head =
    `speechflow: ${event.status === "interrupted" ? chalk.yellow("interrupted") + ", " : ""}${parts.join(", ")}; ` +
    `${(event.audioMs / 60000).toFixed(1)} min of audio in ${formatDuration(event.elapsedMs)}` +
    (speed > 0 ? ` (${speed.toFixed(1)}x realtime)` : "");
  return [head, ...event.failures.map((f) => `  ${chalk.red("✗")} ${f.file}: ${f.message} [${f.code}]`)];
}
