import type { Transcript } from "./transcript.js";

export interface JsonMetadata {
  tool: { name: string; version: string };
  source: { path: string; size: number; sha256: string };
  model: { name: string; file: string };
  language: string | null;
  durationMs: number;
  settings: Record<string, unknown>;
  /** only when a remote backend made some chunks: which chunk came from where (local-only files keep the old shape) */
  chunks?: { index: number; backend: string; requestIds?: string[]; granularity?: "text" }[];
}

/** No wall-clock time or run id: a resumed run must write byte-identical files. */
export function formatJson(transcript: Transcript, meta: JsonMetadata): string {
  const speakers = transcript.speakers ? { speakers: transcript.speakers } : {};
  return JSON.stringify({ ...meta, language: transcript.language ?? meta.language, ...speakers, segments: transcript.segments }, null, 2) + "\n";
}
