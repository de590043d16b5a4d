import { SpeechflowError } from "../errors/speechflow-error.js";

/** RTTM is split on whitespace, so a file id or speaker name with spaces would shift every later field. */
const rttmField = (value: string, what: string): string => {
  const field = value.trim().replace(/\s+/g, "_");
  if (field === "") throw new SpeechflowError("USAGE", `an RTTM ${what} cannot be empty`);
  return field;
};

const millis = (seconds: number) => Math.round(seconds * 1000);

/**
 * One file's turns as RTTM SPEAKER lines on channel 1, sorted by onset, with onsets and durations
 * in seconds with 3 decimals (the duration is taken between the rounded onset and offset, so that
 * onset + duration is the rounded offset). md-eval.pl reads the result as is.
 */
export function formatRttm(fileId: string, turns: readonly { start: number; end: number; speaker: string }[]): string {
  const file = rttmField(fileId, "file id");
  const rows = turns
    .map((t) => {
      if (!(Number.isFinite(t.start) && Number.isFinite(t.end) && t.start >= 0 && t.end >= t.start)) {
        throw new SpeechflowError("INTERNAL", `turn of ${t.speaker} in ${fileId} has bad times ${t.start}-${t.end}`);
      }
      return { start: millis(t.start), end: millis(t.end), speaker: rttmField(t.speaker, "speaker name") };
    })
    .sort((a, b) => a.start - b.start || a.end - b.end || (a.speaker < b.speaker ? -1 : a.speaker > b.speaker ? 1 : 0));
  return rows
    .map((r) => `SPEAKER ${file} 1 ${(r.start / 1000).toFixed(3)} ${((r.end - r.start) / 1000).toFixed(3)} <NA> <NA> ${r.speaker} <NA> <NA>\n`)
    .join("");
}
