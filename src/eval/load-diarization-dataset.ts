import { existsSync, readFileSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { isMediaPath } from "../inputs/media-extensions.js";
import { walkFiles } from "./load-dataset.js";
import { parseRttm } from "./rttm.js";

/** A recording to diarize and its true speaker turns (seconds), under the RTTM file id that names it. */
export interface DiarizationItem {
  id: string;
  audio: string;
  relPath: string;
  reference: { start: number; end: number; speaker: string }[];
}

export interface DiarizationDataset {
  root: string;
  items: DiarizationItem[];
  problems: { item: string; message: string }[];
}

const toPosix = (p: string) => p.split(sep).join("/");
const stemOf = (path: string) => basename(path).replace(/\.[^.]*$/, "");

/**
 * Audio files with reference RTTM: `<name>.rttm` beside each audio file, or one `ref.rttm` at the
 * dataset root whose file ids are the audio files' names without extension (as md-eval expects).
 */
export async function loadDiarizationDataset(path: string, options: { skipDirs?: string[] } = {}): Promise<DiarizationDataset> {
  const root = resolve(path);
  if (!existsSync(root)) throw new SpeechflowError("USAGE", `dataset ${path} does not exist`);
  const files = await walkFiles(root, new Set((options.skipDirs ?? []).map((d) => resolve(d))));
  const shared = join(root, "ref.rttm");
  const sharedTurns = existsSync(shared) ? parseRttm(readFileSync(shared, "utf8")) : [];
  const items: DiarizationItem[] = [];
  const problems: DiarizationDataset["problems"] = [];
  for (const audio of files.filter((f) => isMediaPath(f))) {
    const id = stemOf(audio);
    const beside = audio.replace(/\.[^./]*$/, ".rttm");
    const turns = existsSync(beside) ? parseRttm(readFileSync(beside, "utf8")) : sharedTurns.filter((t) => t.file === id);
    if (turns.length === 0 && !existsSync(beside)) {
      problems.push({ item: audio, message: `no reference RTTM (expected ${basename(beside)} beside it, or lines for "${id}" in ref.rttm)` });
      continue;
    }
    const reference = turns.map((t) => ({ start: t.start, end: t.start + t.duration, speaker: t.speaker }));
    items.push({ id, audio, relPath: toPosix(relative(root, audio)), reference });
  }
  if (items.length === 0 && problems.length === 0) throw new SpeechflowError("USAGE", `dataset ${path}: no audio files with reference RTTM found`);
  return { root, items, problems };
}
