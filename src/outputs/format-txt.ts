import type { Transcript } from "./transcript.js";

/** One line per segment; with diarization, a `[speaker]` label where the speaker changes. */
export function formatTxt(transcript: Transcript): string {
  let previous: string | undefined;
  const lines = transcript.segments.map((s) => {
    const label = s.speaker !== undefined && s.speaker !== previous ? `[${s.speaker}] ` : "";
    previous = s.speaker ?? previous;
    return label + s.text;
  });
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
