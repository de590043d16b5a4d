import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ffmpeg } from "./media.js";

/** Debian's pocketsphinx-testdata: five LibriVox utterances (Sense and Sensibility) with transcripts. */
const LIBRIVOX_DIR = "/usr/share/pocketsphinx/test/data/librivox";

export interface LibriTree {
  root: string;
  ids: string[];
  references: Map<string, string>;
}

/**
 * Lays the LibriVox recordings out like LibriSpeech: `<speaker>/<chapter>/<id>.flac` and
 * `<speaker>-<chapter>.trans.txt` with upper-case references, as in the real corpus.
 */
export function librispeechTree(root: string, speaker = "103", chapter = "1240"): LibriTree {
  if (!existsSync(join(LIBRIVOX_DIR, "transcription"))) {
    throw new Error(`${LIBRIVOX_DIR} is missing: apt-get install pocketsphinx-testdata (CI installs it)`);
  }
  const lines = readFileSync(join(LIBRIVOX_DIR, "transcription"), "utf8").trim().split("\n");
  const dir = join(root, speaker, chapter);
  mkdirSync(dir, { recursive: true });
  const ids: string[] = [];
  const references = new Map<string, string>();
  const trans: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(.*)\((.+)\)\s*$/.exec(line)!;
    const text = m[1]!
      .replace(/<\/?s>/g, "")
      .trim()
      .toUpperCase();
    const id = `${speaker}-${chapter}-${String(i).padStart(4, "0")}`;
    const flac = join(dir, `${id}.flac`);
    if (!existsSync(flac)) ffmpeg(["-i", join(LIBRIVOX_DIR, `${m[2]!.trim()}.wav`), "-ar", "16000", "-ac", "1", flac]);
    ids.push(id);
    references.set(id, text);
    trans.push(`${id} ${text}`);
  });
  writeFileSync(join(dir, `${speaker}-${chapter}.trans.txt`), trans.join("\n") + "\n");
  return { root, ids, references };
}
