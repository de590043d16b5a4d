import type { CleanResult } from "../commands/clean.js";

/** `speechflow clean`: a line per forgotten file, then the totals. */
export function cleanText(result: CleanResult): string {
  const verb = result.dryRun ? "would remove" : "removed";
  const lines = result.removed.map((r) => `${verb} ${r.path}${r.transcripts.length ? ` and ${r.transcripts.length} transcript(s)` : ""}`);
  lines.push(`${result.removed.length} file(s) ${result.dryRun ? "would be" : "were"} forgotten; ${result.remaining} remain`);
  return lines.join("\n") + "\n";
}
