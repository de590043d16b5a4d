import { relative, sep } from "node:path";

export interface ManifestEntry {
  /** the input: absolute path, or the URL without credentials */
  path: string;
  /** SHA-256 of the content; null when the file could not be read */
  hash: string | null;
  durationMs: number | null;
  /** done: transcribed in this run; unchanged: up to date from an earlier run */
  status: "done" | "unchanged" | "failed" | "interrupted";
  /** written transcripts, relative to the output folder */
  outputs: string[];
  error: { code: string; message: string } | null;
}

/** `<output>/manifest.jsonl`: one JSON line per input of the run, in input order, for scripts. */
export function manifestJsonl(entries: ManifestEntry[], outputDir: string): string {
  return entries.map((e) => JSON.stringify({ ...e, outputs: e.outputs.map((o) => relative(outputDir, o).split(sep).join("/")) }) + "\n").join("");
}
