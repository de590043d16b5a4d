import type { Transcript } from "./transcript.js";

export function formatTxt(transcript: Transcript): string {
  return transcript.segments.map((s) => s.text).join("\n") + (transcript.segments.length > 0 ? "\n" : "");
}
