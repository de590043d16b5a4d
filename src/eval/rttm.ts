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
