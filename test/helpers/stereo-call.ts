import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { decodedSeconds, ffmpeg } from "./media.js";

/** One line of a call: who, what, and when it starts (s); a negative gap overlaps the previous line. */
interface Line {
  speaker: 0 | 1;
  text: string;
  gap: number;
}

const VOICES = [
  ["-v", "en", "-p", "25", "-s", "165"],
  ["-v", "en+f3", "-p", "75", "-s", "175"],
];

/**
 * A two-party call recorded one party per channel, like a phone system's stereo export: espeak-ng
 * voices with their silences trimmed, placed on a timeline with pauses and one overlap, a light
 * noise floor and some bleed of each party into the other channel. Returns the true turns (s).
 */
export function stereoCall(out: string, work: string): { turns: { start: number; end: number; speaker: string }[] } {
  const lines: Line[] = [
    { speaker: 0, text: "Good morning, thanks for calling back about the invoice.", gap: 0.6 },
    { speaker: 1, text: "Hi, yes, I saw the numbers and something looks wrong.", gap: 0.9 },
    { speaker: 0, text: "Let me pull it up, which line do you mean?", gap: -0.8 },
    { speaker: 1, text: "The second one, the shipping charge was counted twice.", gap: 1.8 },
    { speaker: 0, text: "You are right, I will send a corrected copy today.", gap: 0.7 },
  ];
  mkdirSync(work, { recursive: true });
  const turns: { start: number; end: number; speaker: string }[] = [];
  const inputs: string[] = [];
  const filters: string[] = [];
  let cursor = 0;
  lines.forEach((line, i) => {
    const raw = join(work, `line${i}.wav`);
    execFileSync("espeak-ng", [...VOICES[line.speaker]!, "-w", raw, line.text]);
    const clip = join(work, `line${i}-trim.wav`);
    // trim the synthesiser's own silence so that the clip's edges are the speech's edges
    ffmpeg([
      "-i",
      raw,
      "-af",
      "silenceremove=start_periods=1:start_threshold=-50dB,areverse,silenceremove=start_periods=1:start_threshold=-50dB,areverse",
      "-ar",
      "16000",
      clip,
    ]);
    const start = Math.max(0, cursor + line.gap);
    const end = start + decodedSeconds(clip);
    turns.push({ start, end, speaker: `S${line.speaker}` });
    cursor = end;
    inputs.push("-i", clip);
    filters.push(`[${i}:a]adelay=${Math.round(start * 1000)}:all=1,pan=stereo|c${line.speaker}=c0[l${i}]`);
  });
  const total = cursor + 1;
  const n = lines.length;
  const mix = `${lines.map((_, i) => `[l${i}]`).join("")}amix=inputs=${n}:normalize=0:duration=longest,apad=whole_dur=${total}[talk]`;
  // each party leaks into the other channel 22 dB down; a -60 dBFS noise floor on both
  const bleed = "[talk]pan=stereo|c0=c0+0.08*c1|c1=c1+0.08*c0[bled]";
  const noise = `anoisesrc=color=pink:amplitude=0.001:duration=${total}:sample_rate=16000,pan=stereo|c0=c0|c1=c0[noise]`;
  mkdirSync(dirname(out), { recursive: true });
  ffmpeg([
    ...inputs,
    "-filter_complex",
    [...filters, mix, bleed, noise, "[bled][noise]amix=inputs=2:normalize=0[out]"].join(";"),
    "-map",
    "[out]",
    "-ac",
    "2",
    "-ar",
    "16000",
    out,
  ]);
  return { turns };
}

export function writeRttm(path: string, fileId: string, turns: { start: number; end: number; speaker: string }[]): string {
  writeFileSync(
    path,
    turns.map((t) => `SPEAKER ${fileId} 1 ${t.start.toFixed(3)} ${(t.end - t.start).toFixed(3)} <NA> <NA> ${t.speaker} <NA> <NA>\n`).join(""),
  );
  return path;
}
