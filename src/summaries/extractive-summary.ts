import type { Segment } from "../outputs/transcript.js";
import type { SummaryContent, SummaryLength } from "./summary-schema.js";

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by for from had has have he her his i if in into is it its me my no not of on or our she so that the their them " +
    "then there these they this to was we were what when which who will with would you your do did does just also than too very can could should " +
    "le la les de des du et un une est en que qui der die das und ist nicht ein eine el los las y es".trim()
  ).split(/\s+/),
);

const SENTENCES: Record<SummaryLength, number> = { short: 3, medium: 6, long: 12 };

interface Sentence {
  text: string;
  startMs: number;
  order: number;
}

function sentencesOf(segments: Segment[]): Sentence[] {
  const out: Sentence[] = [];
  let buffer = "";
  let start = 0;
  for (const seg of segments) {
    if (!buffer) start = seg.start;
    buffer += (buffer ? " " : "") + seg.text.trim();
    // split on sentence ends inside the running text
    for (;;) {
      const m = /^(.*?[.!?…。！？])\s+(.*)$/su.exec(buffer);
      if (!m) break;
      out.push({ text: m[1]!.trim(), startMs: start, order: out.length });
      buffer = m[2]!;
      start = seg.start;
    }
  }
  if (buffer.trim()) out.push({ text: buffer.trim(), startMs: start, order: out.length });
  return out.filter((s) => s.text.length > 0);
}

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

/**
 * An offline summary: sentences scored by the frequency of their content words (a classic
 * Luhn-style extract), the best ones kept in their original order. Chapters are evenly spaced
 * points in time, named by their first sentence. Always available, clearly labelled.
 */
export function extractiveSummary(segments: Segment[], options: { length: SummaryLength; language: string | null; sourceName: string }): SummaryContent {
  const sentences = sentencesOf(segments);
  const freq = new Map<string, number>();
  for (const s of sentences) for (const w of words(s.text)) if (!STOPWORDS.has(w) && w.length > 2) freq.set(w, (freq.get(w) ?? 0) + 1);
  const scored = sentences.map((s) => {
    const ws = words(s.text).filter((w) => !STOPWORDS.has(w) && w.length > 2);
    const score = ws.length === 0 ? 0 : ws.reduce((n, w) => n + (freq.get(w) ?? 0), 0) / Math.sqrt(ws.length);
    return { ...s, score };
  });
  const keep = SENTENCES[options.length];
  const best = [...scored]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, keep)
    .sort((a, b) => a.order - b.order);
  const keyPoints = [...scored]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(keep, keep + Math.min(5, keep))
    .sort((a, b) => a.order - b.order)
    .map((s) => s.text);
  const durationMs = segments.length ? segments[segments.length - 1]!.end : 0;
  const chapterCount = Math.max(1, Math.min(8, Math.round(durationMs / 600000)));
  const chapters: SummaryContent["chapters"] = [];
  for (let k = 0; k < chapterCount && sentences.length > 0; k++) {
    const at = (durationMs * k) / chapterCount;
    const first = sentences.find((s) => s.startMs >= at) ?? sentences[sentences.length - 1]!;
    if (chapters.some((c) => c.startMs === first.startMs)) continue;
    chapters.push({ title: first.text.length > 70 ? first.text.slice(0, 69) + "…" : first.text, startMs: first.startMs });
  }
  return {
    title: options.sourceName,
    summary: best.map((s) => s.text).join(" ") || "(no speech was transcribed)",
    keyPoints,
    actionItems: [],
    chapters,
    language: options.language ?? "unknown",
  };
}
