import { formatTimestamp } from "./format-time.js";
import { segmentsToCues } from "./subtitle-cues.js";
import type { Transcript } from "./transcript.js";

export function formatSrt(transcript: Transcript, maxLineWidth: number): string {
  return segmentsToCues(transcript.segments, maxLineWidth)
    .map((cue, i) => {
      // "-->" inside text would be read as a timing line by lenient parsers
      const lines = cue.lines.map((l, n) => (n === 0 && cue.speaker !== undefined ? `[${cue.speaker}] ${l}` : l).replace(/-->/g, "->"));
      return `${i + 1}\n${formatTimestamp(cue.start, ",")} --> ${formatTimestamp(cue.end, ",")}\n${lines.join("\n")}\n`;
    })
    .join("\n");
}
