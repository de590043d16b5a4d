import { existsSync, readFileSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { isMediaPath } from "../inputs/media-extensions.js";

export type DatasetLayout = "librispeech" | "tsv" | "beside" | "jsonl";

export interface Utterance {
  /** utterance id: LibriSpeech's "19-198-0001", else the audio path relative to the dataset */
  id: string;
  /** absolute audio path */
  audio: string;
  /** audio path relative to the dataset root ("/" separators, never leaving the root) */
  relPath: string;
  reference: string;
}

export interface DatasetProblem {
  item: string;
  message: string;
}

export interface Dataset {
  layout: DatasetLayout;
  root: string;
  utterances: Utterance[];
  problems: DatasetProblem[];
}

const LIBRISPEECH_AUDIO = ["flac", "wav", "mp3", "opus", "ogg", "m4a"];
const toPosix = (p: string) => p.split(sep).join("/");

async function walkFiles(root: string, skip: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const descend = async (dir: string) => {
    if (skip.has(dir)) return;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const abs = join(dir, e.name);
      if (e.isDirectory()) await descend(abs);
      else if (e.isFile()) out.push(abs);
    }
  };
  await descend(root);
  return out;
}

/** A manifest may name audio anywhere; its output path must still stay inside the output folder. */
function safeRelPath(root: string, audio: string): string {
  const rel = toPosix(relative(root, audio));
  return rel
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .map((part) => (part === ".." ? "__" : part))
    .join("/");
}

/**
 * Finds the utterances and their reference texts in a dataset: the LibriSpeech layout
 * (`speaker/chapter/*.flac` + `speaker-chapter.trans.txt`), a `ref.tsv` (audio path TAB text) at
 * the root, a `.txt` beside each audio file, or a JSONL manifest with `audio` and `text` fields.
 */
export async function loadDataset(path: string, options: { skipDirs?: string[] } = {}): Promise<Dataset> {
  const target = resolve(path);
  const info = statSync(target, { throwIfNoEntry: false });
  if (!info) throw new SpeechflowError("USAGE", `dataset ${path} does not exist`);
  const problems: DatasetProblem[] = [];
  const utterances: Utterance[] = [];

  if (info.isFile()) {
    if (!/\.jsonl$/i.test(target)) throw new SpeechflowError("USAGE", `dataset ${path}: give a folder or a .jsonl manifest`);
    const root = dirname(target);
    readFileSync(target, "utf8")
      .split(/\r?\n/)
      .forEach((line, n) => {
        if (line.trim() === "") return;
        const where = `${basename(target)}:${n + 1}`;
        let item: unknown;
        try {
          item = JSON.parse(line);
        } catch {
          problems.push({ item: where, message: "not valid JSON" });
          return;
        }
        const { audio, text, id } = (item ?? {}) as Record<string, unknown>;
        if (typeof audio !== "string" || typeof text !== "string") {
          problems.push({ item: where, message: 'needs string fields "audio" and "text"' });
          return;
        }
        const abs = resolve(root, audio);
        const relPath = safeRelPath(root, abs);
        utterances.push({ id: typeof id === "string" ? id : relPath, audio: abs, relPath, reference: text });
      });
    return finish({ layout: "jsonl", root, utterances, problems });
  }

  const root = target;
  const skip = new Set((options.skipDirs ?? []).map((d) => resolve(d)));
  const files = await walkFiles(root, skip);
  const transFiles = files.filter((f) => f.endsWith(".trans.txt"));
  if (transFiles.length > 0) {
    for (const trans of transFiles) {
      const dir = dirname(trans);
      for (const line of readFileSync(trans, "utf8").split(/\r?\n/)) {
        const m = /^(\S+)\s*(.*)$/.exec(line.trim());
        if (!m) continue;
        const [, id, text] = m as unknown as [string, string, string];
        const audio = LIBRISPEECH_AUDIO.map((ext) => join(dir, `${id}.${ext}`)).find((p) => existsSync(p));
        if (!audio) {
          problems.push({ item: join(dir, `${id}.flac`), message: `no audio for utterance ${id} listed in ${basename(trans)}` });
          continue;
        }
        utterances.push({ id, audio, relPath: toPosix(relative(root, audio)), reference: text });
      }
    }
    return finish({ layout: "librispeech", root, utterances, problems });
  }

  const tsv = join(root, "ref.tsv");
  if (existsSync(tsv)) {
    readFileSync(tsv, "utf8")
      .split(/\r?\n/)
      .forEach((line, n) => {
        if (line.trim() === "") return;
        const tab = line.indexOf("\t");
        const audioField = tab < 0 ? line : line.slice(0, tab);
        if (n === 0 && /^(audio|path|file)$/i.test(audioField.trim())) return; // header
        if (tab < 0) {
          problems.push({ item: `ref.tsv:${n + 1}`, message: "expected: audio path, a tab, the reference text" });
          return;
        }
        const abs = resolve(root, audioField.trim());
        const relPath = safeRelPath(root, abs);
        utterances.push({ id: relPath, audio: abs, relPath, reference: line.slice(tab + 1) });
      });
    return finish({ layout: "tsv", root, utterances, problems });
  }

  for (const file of files.filter((f) => isMediaPath(f))) {
    const ref = file.slice(0, file.length - (file.length - file.lastIndexOf("."))) + ".txt";
    const relPath = toPosix(relative(root, file));
    if (!existsSync(ref)) {
      problems.push({ item: file, message: `no reference text (expected ${basename(ref)} beside it)` });
      continue;
    }
    utterances.push({ id: relPath, audio: file, relPath, reference: readFileSync(ref, "utf8") });
  }
  if (utterances.length === 0 && problems.length === 0) {
    throw new SpeechflowError(
      "USAGE",
      `dataset ${path}: no audio with reference texts found (LibriSpeech *.trans.txt, ref.tsv, .txt beside audio, or a .jsonl manifest)`,
    );
  }
  return finish({ layout: "beside", root, utterances, problems });
}

/** Two utterances that would write the same transcript (a.wav and a.flac) cannot both be scored. */
function finish(dataset: Dataset): Dataset {
  const seen = new Map<string, string>();
  const kept: Utterance[] = [];
  for (const u of dataset.utterances) {
    const stem = u.relPath.replace(/\.[^./]*$/, "");
    const owner = seen.get(stem);
    if (owner !== undefined) {
      dataset.problems.push({ item: u.audio, message: `its transcript would overwrite that of ${owner}` });
      continue;
    }
    seen.set(stem, u.audio);
    kept.push(u);
  }
  return { ...dataset, utterances: kept };
}
