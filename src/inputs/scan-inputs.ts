import { createHash } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import picomatch from "picomatch";
import type { RunContext } from "../core/run-context.js";
import { cacheKey, isUrl, urlOutputName } from "./download-url.js";
import { isMediaPath } from "./media-extensions.js";
import { redactUrl } from "./redact-url.js";

export interface MediaInput {
  /** absolute path as reached (not resolved through symlinks), used as the file's identity */
  path: string;
  /** path relative to the input it was found under, with "/" separators */
  relPath: string;
  /** output path without extension, relative to the output folder ("a/b/talk") */
  outputStem: string;
  /** for URL inputs: the URL to download (path is then the URL with credentials removed) */
  url?: string;
}

export interface InputProblem {
  input: string;
  code: "INPUT_NOT_FOUND" | "USAGE";
  message: string;
}

export interface ScanResult {
  media: MediaInput[];
  problems: InputProblem[];
}

export interface ScanRequest {
  inputs: string[];
  /** contents of --from-list (already read), one entry per line */
  listEntries?: string[];
  cwd: string;
  /** directories never descended into (the output folder, so transcripts are not re-read) */
  skipDirs?: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;
const toPosix = (p: string) => p.split(sep).join("/");

/** Parses a --from-list file: one path per line, blank lines and `#` comments ignored. */
function parseListFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
}

export async function readListFile(path: string, cwd: string): Promise<string[]> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return parseListFile(Buffer.concat(chunks).toString("utf8"));
  }
  return parseListFile(await readFile(resolve(cwd, path), "utf8"));
}

async function walk(
  root: string,
  visit: (abs: string, rel: string) => void,
  skipDirs: Set<string>,
  signal: AbortSignal,
  problems: InputProblem[],
): Promise<void> {
  // real paths of directories on the current descent: a symlink back to one of them is a loop
  const visited = new Set<string>();
  const descend = async (dir: string, rel: string): Promise<void> => {
    if (signal.aborted) return;
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return;
    }
    if (visited.has(real) || skipDirs.has(real)) return;
    visited.add(real);
    let entries: { entry: Dirent<Buffer>; name: string }[];
    try {
      entries = (await readdir(dir, { withFileTypes: true, encoding: "buffer" })).map((e) => ({ entry: e, name: e.name.toString("utf8") }));
    } catch (error) {
      // files we cannot see would silently never be transcribed: say so
      problems.push({
        input: dir,
        code: "INPUT_NOT_FOUND",
        message: `cannot read this folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { entry, name } of entries) {
      if (name.startsWith(".")) continue;
      const abs = join(dir, name);
      // a name that is not UTF-8 cannot be passed on as text (to ffmpeg, the database, JSON)
      if (!Buffer.from(name, "utf8").equals(entry.name)) {
        if (isMediaPath(name) || entry.isDirectory()) {
          problems.push({ input: abs, code: "INPUT_NOT_FOUND", message: "the file name is not valid UTF-8; rename it (e.g. convmv -f latin1 -t utf8)" });
        }
        continue;
      }
      const childRel = rel ? `${rel}/${name}` : name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(abs);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          // only links that look like media are worth a failure (a stale link to notes.txt is not)
          if (isMediaPath(abs))
            problems.push({
              input: abs,
              code: "INPUT_NOT_FOUND",
              message: code === "ELOOP" ? "symbolic link loop" : `broken symbolic link (${code ?? "unreadable"})`,
            });
          continue;
        }
      }
      if (isDir) await descend(abs, childRel);
      else if (isFile) visit(abs, childRel);
    }
  };
  await descend(root, "");
}

/** bytes a file name may have (ext4, xfs, tmpfs, APFS...) */
const NAME_MAX = 255;
/** the longest suffix speechflow adds to a stem: ".summary.json" */
const LONGEST_SUFFIX = ".summary.json";

/**
 * An output name that the file system accepts: a stem whose last part, plus the longest suffix,
 * would exceed 255 bytes is shortened (at a character boundary) and given a short hash of the
 * full name, so two long names never end up the same.
 */
function fitOutputStem(stem: string): string {
  const slash = stem.lastIndexOf("/");
  const dir = stem.slice(0, slash + 1);
  const base = stem.slice(slash + 1);
  const budget = NAME_MAX - Buffer.byteLength(LONGEST_SUFFIX);
  if (Buffer.byteLength(base) <= budget) return stem;
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 8);
  let cut = "";
  for (const ch of base) {
    if (Buffer.byteLength(cut + ch) > budget - 10) break;
    cut += ch;
  }
  return `${dir}${cut}~${hash}`;
}

function stemOf(relPath: string): string {
  const slash = relPath.lastIndexOf("/");
  const dot = relPath.lastIndexOf(".");
  return dot > slash + 1 ? relPath.slice(0, dot) : relPath;
}

/**
 * inputs stage: files, directories (recursive), globs and list entries -> media files.
 * Hidden files, non-media files (in directories) and symlink loops are skipped; an input that
 * does not exist is reported as a problem and the others go on.
 */
interface Found {
  path: string;
  relPath: string;
}

interface ScanState {
  found: Found[];
  urls: { url: string; host: string; name: string }[];
  problems: InputProblem[];
  skipDirs: Set<string>;
  accept: (abs: string, rel: string, explicit: boolean) => void;
}

async function realDirs(dirs: string[]): Promise<Set<string>> {
  const set = new Set<string>();
  for (const dir of dirs) {
    try {
      set.add(await realpath(dir));
    } catch {
      // not created yet
    }
  }
  return set;
}

/** One input (URL, file, folder or glob) into found files, URLs or a problem. */
async function scanOne(input: string, cwd: string, state: ScanState, signal: AbortSignal): Promise<void> {
  const { found, problems, skipDirs, accept } = state;
  if (isUrl(input)) {
    try {
      state.urls.push({ url: input, ...urlOutputName(input) });
    } catch {
      problems.push({ input: redactUrl(input), code: "USAGE", message: "not a valid URL" });
    }
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    problems.push({ input, code: "USAGE", message: "only http:// and https:// URLs can be downloaded" });
    return;
  }
  const abs = resolve(cwd, input);
  const info: Stats | undefined = await stat(abs).catch(() => undefined);
  if (info?.isDirectory()) {
    await walk(abs, (file, rel) => accept(file, rel, false), skipDirs, signal, problems);
  } else if (info) {
    accept(abs, basename(abs), true);
  } else if (GLOB_CHARS.test(input)) {
    const scan = picomatch.scan(toPosix(input));
    const base = resolve(cwd, scan.base || ".");
    const matcher = picomatch(scan.glob, { dot: false });
    const before = found.length;
    await walk(base, (file, rel) => (matcher(rel) ? accept(file, rel, false) : undefined), skipDirs, signal, problems);
    if (found.length === before) problems.push({ input, code: "INPUT_NOT_FOUND", message: "glob matched no media files" });
  } else {
    problems.push({ input, code: "INPUT_NOT_FOUND", message: "no such file or directory" });
  }
}

/** Output names for the files found: unique, extension kept where two would collide, clashes reported. */
function nameFiles(found: Found[], taken: Map<string, string>, problems: InputProblem[]): MediaInput[] {
  // the same file reached twice (overlapping inputs) is transcribed once
  const unique = new Map<string, Found>();
  for (const item of found) if (!unique.has(item.path)) unique.set(item.path, item);
  const items = [...unique.values()];
  // talk.mp3 and talk.wav side by side would both write talk.txt: keep their extensions instead
  const stemCount = new Map<string, number>();
  for (const item of items) stemCount.set(stemOf(item.relPath), (stemCount.get(stemOf(item.relPath)) ?? 0) + 1);
  const media: MediaInput[] = [];
  for (const item of items) {
    const stem = stemOf(item.relPath);
    const outputStem = fitOutputStem(stemCount.get(stem)! > 1 ? item.relPath : stem);
    const owner = taken.get(outputStem);
    if (owner !== undefined) {
      const message = `its transcripts would overwrite those of ${owner}; transcribe the two in separate runs or output folders`;
      problems.push({ input: item.path, code: "USAGE", message });
      continue;
    }
    taken.set(outputStem, item.path);
    media.push({ path: item.path, relPath: item.relPath, outputStem });
  }
  return media;
}

/** URLs after files: `<host>/<last segment>`, with a short hash of the URL when two end alike. */
function nameUrls(urls: ScanState["urls"], taken: Map<string, string>): MediaInput[] {
  const seen = new Set<string>();
  const media: MediaInput[] = [];
  for (const u of urls) {
    if (seen.has(u.url)) continue;
    seen.add(u.url);
    let outputStem = `${u.host}/${u.name}`;
    if (taken.has(outputStem)) outputStem = `${u.host}/${u.name}-${cacheKey(u.url).slice(0, 8)}`;
    taken.set(outputStem, u.url);
    media.push({ path: redactUrl(u.url), relPath: u.name, outputStem, url: u.url });
  }
  return media;
}

export async function scanInputs(request: ScanRequest, ctx: Pick<RunContext, "config" | "signal">): Promise<ScanResult> {
  const { include, exclude } = ctx.config;
  const isIncluded = include.length > 0 ? picomatch(include, { dot: false }) : () => true;
  const isExcluded = exclude.length > 0 ? picomatch(exclude, { dot: false }) : () => false;
  const found: Found[] = [];
  const state: ScanState = {
    found,
    urls: [],
    problems: [],
    skipDirs: await realDirs(request.skipDirs ?? []),
    accept: (abs, rel, explicit) => {
      if (!explicit && !isMediaPath(abs)) return;
      if (!isIncluded(rel) || isExcluded(rel)) return;
      found.push({ path: abs, relPath: rel });
    },
  };
  for (const input of [...request.inputs, ...(request.listEntries ?? [])]) await scanOne(input, request.cwd, state, ctx.signal);
  const taken = new Map<string, string>();
  const media = [...nameFiles(found, taken, state.problems), ...nameUrls(state.urls, taken)];
  return { media, problems: state.problems };
}
