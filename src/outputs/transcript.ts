import { chunkTimeToFileMs, type Span } from "../chunking/chunk-planner.js";
import type { RawSegment } from "../engine/worker-protocol.js";

export interface Word {
  start: number;
  end: number;
  text: string;
  probability: number;
  /** with diarization: who said it */
  speaker?: string;
}

export interface Segment {
  id: number;
  /** ms from the start of the file */
  start: number;
  end: number;
  text: string;
  words?: Word[];
  /** with diarization: who said it (label, or name from --speaker-names) */
  speaker?: string;
}

export interface Transcript {
  segments: Segment[];
  language: string | null;
  /** with diarization: every speaker with their talk time */
  speakers?: { id: string; name?: string; talkMs: number }[];
}

/** token ids at or above this are special (<|endoftext|>, timestamps, language tags) in every vocab */
const FIRST_SPECIAL_TOKEN = 50256;

function wordsOf(raw: RawSegment, map: (ms: number, atEnd: boolean) => number): Word[] {
  const words: Word[] = [];
  for (const token of raw.tokens ?? []) {
    if (token.id >= FIRST_SPECIAL_TOKEN || token.from === undefined || token.to === undefined) continue;
    const startsWord = token.text.startsWith(" ") || words.length === 0;
    const start = map(token.from, false);
    const end = Math.max(start, map(token.to, true));
    if (startsWord) words.push({ start, end, text: token.text.trim(), probability: token.p });
    else {
      const w = words[words.length - 1]!;
      w.text += token.text;
      w.end = Math.max(w.end, end);
      w.probability = Math.min(w.probability, token.p);
    }
  }
  return words.filter((w) => w.text.length > 0);
}

/**
 * Joins chunk results (in chunk order) into the file's transcript: timestamps mapped from chunk
 * time back to file time, clamped to the chunk's audio, and kept monotonic.
 */
export function assembleTranscript(chunks: { spans: Span[]; segments: RawSegment[] }[], options: { sampleRate: number; words: boolean }): Transcript {
  const segments: Segment[] = [];
  const languages = new Map<string, number>();
  let lastEnd = 0;
  for (const chunk of chunks) {
    const chunkMs = (chunk.spans.reduce((n, s) => n + s.end - s.start, 0) * 1000) / options.sampleRate;
    const map = (ms: number, atEnd: boolean) => Math.round(chunkTimeToFileMs(chunk.spans, Math.min(ms, chunkMs), options.sampleRate, atEnd));
    for (const raw of chunk.segments) {
      const text = raw.text.trim();
      if (raw.lang) languages.set(raw.lang, (languages.get(raw.lang) ?? 0) + Math.max(1, text.length));
      if (!text) continue;
      const start = Math.max(lastEnd, map(raw.from, false));
      const end = Math.max(start, map(raw.to, true));
      const segment: Segment = { id: segments.length, start, end, text };
      if (options.words)
        segment.words = wordsOf(raw, map).map((w) => ({ ...w, start: Math.max(start, w.start), end: Math.min(end, Math.max(w.end, w.start)) }));
      segments.push(segment);
      lastEnd = end;
    }
  }
  let language: string | null = null;
  let best = 0;
  for (const [lang, weight] of languages) if (weight > best) [language, best] = [lang, weight];
  return { segments, language };
}
