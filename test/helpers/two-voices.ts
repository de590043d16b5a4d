import { join } from "node:path";
import { pcm16k, speak } from "./media.js";

/**
 * Two espeak-ng voices far apart in pitch, taking turns with pauses: what the generated diarization
 * models (test/support/write-diarization-models.ts) are built to tell apart. The truth is exact:
 * each clip is trimmed to its first and last sample at -40 dBFS and placed at a known time.
 */
const RATE = 16_000;

export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: number;
}
const LOW = { voice: "en", pitch: 0 }; // F0 about 55-75 Hz
const HIGH = { voice: "en+f3", pitch: 99 }; // F0 about 280-380 Hz
type Voice = typeof LOW;

/** seconds of silence, or a turn; the texts start and end on voiced sounds, so "audible" is sharp */
const SCRIPT: (number | [Voice, string])[] = [
  0.5,
  [LOW, "Many men remain in the main room"],
  0.6,
  [HIGH, "Nobody knew when the yellow lorry would return"],
  0.8,
  [LOW, "Nine lemons remain on my window"],
  0.6,
  [HIGH, "Emma and Nora are in Rome"],
  0.7,
  [LOW, "Mary made a melon jam in the morning"],
  0.9,
  [HIGH, "Really, no one knew the normal way in"],
  0.5,
];

/** the clip from its first to its last sample at or above -40 dBFS */
function trimmed(samples: Float32Array, threshold = 0.01): Float32Array {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) < threshold) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) < threshold) last--;
  return samples.slice(first, last + 1);
}

export function twoVoices(dir: string): { audio: Float32Array; truth: SpeakerTurn[] } {
  const parts = SCRIPT.map((part, i) => {
    if (typeof part === "number") return new Float32Array(Math.round(part * RATE));
    const [voice, text] = part;
    return { voice, samples: trimmed(pcm16k(speak(text, join(dir, `turn-${i}.wav`), voice.voice, voice.pitch))) };
  });
  const audio = new Float32Array(parts.reduce((n, p) => n + (p instanceof Float32Array ? p.length : p.samples.length), 0));
  const truth: SpeakerTurn[] = [];
  let offset = 0;
  for (const part of parts) {
    const samples = part instanceof Float32Array ? part : part.samples;
    if (!(part instanceof Float32Array)) truth.push({ start: offset / RATE, end: (offset + samples.length) / RATE, speaker: part.voice === LOW ? 0 : 1 });
    audio.set(samples, offset);
    offset += samples.length;
  }
  return { audio, truth };
}
