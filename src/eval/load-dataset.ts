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

export async function walkFiles(root: string, skip: Set<string>): Promise<string[]> {
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
type Found = { utterances: Utterance[]; problems: DatasetProblem[] };

/** `{"audio": ..., "text": ..., "id"?: ...}` per line, audio relative to the manifest. */
function readJsonl(target: string, root: string): Found {
  const found: Found = { utterances: [], problems: [] };
  readFileSync(target, "utf8")
    .split(/\r?\n/)
    .forEach((line, n) => {
      if (line.trim() === "") return;
      const where = `${basename(target)}:${n + 1}`;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch {
        found.problems.push({ item: where, message: "not valid JSON" });
        return;
      }
      const { audio, text, id } = (item ?? {}) as Record<string, unknown>;
      if (typeof audio !== "string" || typeof text !== "string") {
        found.problems.push({ item: where, message: 'needs string fields "audio" and "text"' });
        return;
      }
      const abs = resolve(root, audio);
      const relPath = safeRelPath(root, abs);
      found.utterances.push({ id: typeof id === "string" ? id : relPath, audio: abs, relPath, reference: text });
    });
  return found;
}

/** LibriSpeech: `<id> <TEXT>` lines in *.trans.txt, audio `<id>.flac` beside them. */
function readLibriSpeech(root: string, transFiles: string[]): Found {
  const found: Found = { utterances: [], problems: [] };
  for (const trans of transFiles) {
    const dir = dirname(trans);
    for (const line of readFileSync(trans, "utf8").split(/\r?\n/)) {
      const m = /^(\S+)\s*(.*)$/.exec(line.trim());
      if (!m) continue;
      const [, id, text] = m as unknown as [string, string, string];
      const audio = LIBRISPEECH_AUDIO.map((ext) => join(dir, `${id}.${ext}`)).find((p) => existsSync(p));
      if (!audio) {
        found.problems.push({ item: join(dir, `${id}.flac`), message: `no audio for utterance ${id} listed in ${basename(trans)}` });
        continue;
      }
      found.utterances.push({ id, audio, relPath: toPosix(relative(root, audio)), reference: text });
    }
  }
  return found;
}

/** ref.tsv: audio path, a tab, the reference text; an optional header line. */
function readTsv(root: string, tsv: string): Found {
  const found: Found = { utterances: [], problems: [] };
  readFileSync(tsv, "utf8")
    .split(/\r?\n/)
    .forEach((line, n) => {
      if (line.trim() === "") return;
      const tab = line.indexOf("\t");
      const audioField = tab < 0 ? line : line.slice(0, tab);
      if (n === 0 && /^(audio|path|file)$/i.test(audioField.trim())) return; // header
      if (tab < 0) {
        found.problems.push({ item: `ref.tsv:${n + 1}`, message: "expected: audio path, a tab, the reference text" });
        return;
      }
      const abs = resolve(root, audioField.trim());
      const relPath = safeRelPath(root, abs);
      found.utterances.push({ id: relPath, audio: abs, relPath, reference: line.slice(tab + 1) });
    });
  return found;
}

/** A .txt with the reference beside each audio file. */
function readBeside(root: string, files: string[]): Found {
  const found: Found = { utterances: [], problems: [] };
  for (const file of files.filter((f) => isMediaPath(f))) {
    const ref = file.slice(0, file.length - (file.length - file.lastIndexOf("."))) + ".txt";
    const relPath = toPosix(relative(root, file));
    if (!existsSync(ref)) {
      found.problems.push({ item: file, message: `no reference text (expected ${basename(ref)} beside it)` });
      continue;
    }
    found.utterances.push({ id: relPath, audio: file, relPath, reference: readFileSync(ref, "utf8") });
  }
  return found;
}

/** Finds the dataset's layout (a .jsonl manifest, LibriSpeech, ref.tsv, or .txt beside audio) and reads it. */
export async function loadDataset(path: string, options: { skipDirs?: string[] } = {}): Promise<Dataset> {
  const target = resolve(path);
  const info = statSync(target, { throwIfNoEntry: false });
  if (!info) throw new SpeechflowError("USAGE", `dataset ${path} does not exist`);
  if (info.isFile()) {
    if (!/\.jsonl$/i.test(target)) throw new SpeechflowError("USAGE", `dataset ${path}: give a folder or a .jsonl manifest`);
    return finish({ layout: "jsonl", root: dirname(target), ...readJsonl(target, dirname(target)) });
  }
  const root = target;
  const files = await walkFiles(root, new Set((options.skipDirs ?? []).map((d) => resolve(d))));
  const transFiles = files.filter((f) => f.endsWith(".trans.txt"));
  if (transFiles.length > 0) return finish({ layout: "librispeech", root, ...readLibriSpeech(root, transFiles) });
  const tsv = join(root, "ref.tsv");
  if (existsSync(tsv)) return finish({ layout: "tsv", root, ...readTsv(root, tsv) });
  const beside = readBeside(root, files);
  if (beside.utterances.length === 0 && beside.problems.length === 0) {
    throw new SpeechflowError(
      "USAGE",
      `dataset ${path}: no audio with reference texts found (LibriSpeech *.trans.txt, ref.tsv, .txt beside audio, or a .jsonl manifest)`,
    );
  }
  return finish({ layout: "beside", root, ...beside });
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
