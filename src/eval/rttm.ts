import { SpeechflowError } from "../errors/speechflow-error.js";
import type { SpeakerTurn } from "./score-diarization.js";

/**
 * NIST RTTM speaker records, the format md-eval.pl and dscore read:
 * `SPEAKER <file> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>`, times in seconds,
 * fields separated by whitespace. Only SPEAKER records are read; other record types (SPKR-INFO,
 * LEXEME, ...) are skipped, as are blank lines and lines starting with `;` or `#` (md-eval's
 * comment rule, which covers the usual `;;`).
 */
export type RttmTurn = { file: string; channel: number; start: number; duration: number; speaker: string };

const FIELD = /\s+/;

export function parseRttm(text: string, source = "RTTM"): RttmTurn[] {
  const turns: RttmTurn[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const fields = line.split(FIELD);
    if (fields[0]!.toUpperCase() !== "SPEAKER") continue;
    const fail = (problem: string) => new SpeechflowError("USAGE", `${source} line ${i + 1}: ${problem}: "${line}"`);
    if (fields.length < 8) throw fail(`a SPEAKER record needs at least 8 fields (type file channel onset duration <NA> <NA> speaker), found ${fields.length}`);
    const [, file, channelText, onsetText, durationText, , , speaker] = fields as [string, string, string, string, string, string, string, string];
    const channel = Number(channelText);
    if (!Number.isInteger(channel)) throw fail(`channel "${channelText}" is not a whole number`);
    const start = Number(onsetText);
    if (onsetText === "" || !Number.isFinite(start) || start < 0) throw fail(`onset "${onsetText}" is not a non-negative number of seconds`);
    const duration = Number(durationText);
    if (durationText === "" || !Number.isFinite(duration) || duration < 0) throw fail(`duration "${durationText}" is not a non-negative number of seconds`);
    turns.push({ file, channel, start, duration, speaker });
  }
  return turns;
}

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

/**
 * Turns per file id, in file order of first appearance, with `end = start + duration` computed the
 * way md-eval.pl computes it. Channels are not told apart (speechflow scores one channel per file).
 */
export function rttmTurnsByFile(turns: readonly RttmTurn[]): Map<string, SpeakerTurn[]> {
  const byFile = new Map<string, SpeakerTurn[]>();
  for (const t of turns) {
    let list = byFile.get(t.file);
    if (!list) {
      list = [];
      byFile.set(t.file, list);
    }
    list.push({ start: t.start, end: t.start + t.duration, speaker: t.speaker });
  }
  return byFile;
}
