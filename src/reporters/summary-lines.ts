import type { ChalkInstance } from "chalk";
import type { SpeechflowEvent } from "../core/events.js";
import { formatDuration } from "./run-stats.js";

type RunEnd = Extract<SpeechflowEvent, { type: "run-end" }>;

/** A name with a newline or an escape sequence in it must not break the one-line rule or the terminal. */
export const printable = (name: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));

/** The line every human-facing reporter prints for an event worth noticing, or undefined. */
export function noticeLine(event: SpeechflowEvent, chalk: ChalkInstance): string | undefined {
  switch (event.type) {
    case "model-download-start":
      return `model ${event.name} is not here yet: downloading ${event.sizeMiB} MiB from ${event.url}`;
    case "model-download-done":
      return `model ${event.name} saved to ${event.path} (SHA-1 verified${event.resumed ? ", download resumed" : ""})`;
    case "download-done":
      return event.cached ? undefined : `↓ ${event.file} (${(event.bytes / 1048576).toFixed(1)} MiB downloaded)`;
    case "eval-end":
      return (
        `WER ${(event.wer * 100).toFixed(2)}% (S ${event.words.substitutions}, D ${event.words.deletions}, I ${event.words.insertions} of ${event.words.ref} words), ` +
        `CER ${(event.cer * 100).toFixed(2)}% over ${event.utterances} utterance${event.utterances === 1 ? "" : "s"}` +
        (event.missing ? `, ${event.missing} not transcribed` : "") +
        `; ${event.normalized ? "normalised" : "raw"} text; report: ${event.reports[1] ?? event.reports[0] ?? ""}`
      );
    case "diarization-eval-end":
      return (
        `DER ${(event.der * 100).toFixed(2)}% (missed ${event.missed.toFixed(1)} s, false alarm ${event.falseAlarm.toFixed(1)} s, confusion ${event.confusion.toFixed(1)} s ` +
        `of ${event.scored.toFixed(1)} s), JER ${(event.jer * 100).toFixed(2)}% over ${event.files} file${event.files === 1 ? "" : "s"}; ` +
        `collar ${event.collar} s${event.skipOverlap ? ", overlap skipped" : ""}; report: ${event.reports[1] ?? event.reports[0] ?? ""}`
      );
    case "file-failed":
      return `${chalk.red("✗")} ${printable(event.file)}: ${printable(event.message)}`;
    case "summary-failed":
      return `${chalk.yellow("!")} ${printable(event.file)}: summary: ${printable(event.message)}`;
    case "worker-exit":
      return `${chalk.yellow("!")} worker ${event.worker} ${event.reason}; ${event.inFlight} chunk(s) in flight will be retried${event.waiting > 0 ? `, ${event.waiting} waiting sent again` : ""}`;
    case "warning":
      return `${chalk.yellow("!")} ${event.file ? printable(event.file) + ": " : ""}${printable(event.message)}`;
    default:
      return undefined;
  }
}

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
  const lines = [head];
  const s = event.summaries;
  if (s) {
    lines.push(
      `  summaries: ${s.done} written${s.cached ? ` (${s.cached} from cache)` : ""}, ${s.failed} failed` +
        (s.calls
          ? `; LLM: ${s.calls} request${s.calls === 1 ? "" : "s"}, ${s.promptTokens.toLocaleString("en-US")} prompt + ${s.completionTokens.toLocaleString("en-US")} completion tokens`
          : ""),
    );
  }
  const r = event.remote;
  if (r) {
    lines.push(
      `  remote ${r.provider} (${r.model}): ${r.requests} request${r.requests === 1 ? "" : "s"}, ${(r.audioSeconds / 60).toFixed(1)} min of audio sent` +
        (r.estimatedCostUsd > 0 ? `, about $${r.estimatedCostUsd.toFixed(4)} (${(r.billedSeconds / 60).toFixed(1)} min billed)` : ""),
    );
  }
  return [...lines, ...event.failures.map((f) => `  ${chalk.red("✗")} ${printable(f.file)}: ${printable(f.message)} [${f.code}]`)];
}
