import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compose, speak } from "./media.js";
import { ARTIFACTS, ROOT } from "./paths.js";

const SENTENCES = readFileSync(join(ROOT, "fixtures", "sentences.txt"), "utf8")
  .trim()
  .split("\n");

/** espeak-ng clips of the fixture sentences, made once per machine */
export function sentenceClips(): string[] {
  const dir = join(ARTIFACTS, "sentences");
  mkdirSync(dir, { recursive: true });
  return SENTENCES.map((text, i) => {
    const out = join(dir, `s${i}.wav`);
    return existsSync(out) ? out : speak(text, out);
  });
}

/**
 * A meeting-like recording: sentences separated by pauses of 0.4-3 s, `rounds` times through the
 * fixture sentences (about 45 s of audio per round).
 */
export function meeting(out: string, rounds: number, seed = 1, extra: string[] = []): string {
  const clips = sentenceClips();
  const parts: (string | number)[] = [];
  let s = seed;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < clips.length; i++) {
      s = (s * 9301 + 49297) % 233280;
      parts.push(clips[(i + seed) % clips.length]!, [0.4, 0.8, 1.2, 3][s % 4]!);
    }
  }
  return compose(parts, out, extra);
}
