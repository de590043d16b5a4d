import { formatClock as clock } from "../outputs/format-time.js";
import type { SummaryRecord } from "./summary-schema.js";

/** `<name>.summary.md`: for people (the .summary.json next to it is for scripts). */
export function summaryMarkdown(record: SummaryRecord, source: string): string {
  const lines = [`# ${record.title}`, ""];
  lines.push(
    record.kind === "llm"
      ? `*Summary by ${record.model} (${record.length}) of ${source}.*`
      : `*Extractive summary (sentences picked from the transcript, no language model) of ${source}: ${record.reason ?? ""}*`,
    "",
    record.summary,
    "",
  );
  if (record.keyPoints.length) lines.push("## Key points", "", ...record.keyPoints.map((k) => `- ${k}`), "");
  if (record.actionItems.length) lines.push("## Action items", "", ...record.actionItems.map((a) => `- [ ] ${a.text}${a.owner ? ` (${a.owner})` : ""}`), "");
  if (record.chapters.length) lines.push("## Chapters", "", ...record.chapters.map((c) => `- ${clock(c.startMs)} ${c.title}`), "");
  return lines.join("\n");
}
