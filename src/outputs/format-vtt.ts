import { formatTimestamp } from "./format-time.js";
import { segmentsToCues } from "./subtitle-cues.js";
import type { Transcript } from "./transcript.js";

/** WebVTT cue text is HTML-like: &, < and > must be escaped (which also defuses "-->"). */
export function escapeVttText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A voice span (`<v Alice>`) opens the cue when the speaker is known; the name is escaped like cue text. */
const voice = (speaker: string | undefined) => (speaker === undefined ? "" : `<v ${escapeVttText(speaker)}>`);

export function formatVtt(transcript: Transcript, maxLineWidth: number): string {
  const cues = segmentsToCues(transcript.segments, maxLineWidth).map(
    (cue) => `${formatTimestamp(cue.start, ".")} --> ${formatTimestamp(cue.end, ".")}\n${voice(cue.speaker)}${cue.lines.map(escapeVttText).join("\n")}\n`,
  );
  return ["WEBVTT\n", ...cues].join("\n");
}
