import { alignTokens } from "./align-words.js";
import { normalizeEnglish } from "./normalize-english.js";

export interface ErrorCounts {
  /** reference length: words for WER, characters for CER */
  ref: number;
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

export interface ScoredUtterance {
  id: string;
  audio: string;
  /** text as scored (normalised unless --no-normalize) */
  reference: string;
  hypothesis: string;
  /** false when there was no transcript to score (the file failed); scored as an empty hypothesis */
  transcribed: boolean;
  words: ErrorCounts;
  chars: ErrorCounts;
  wer: number;
  cer: number;
}

export interface EvalScores {
  normalized: boolean;
  utterances: number;
  missing: number;
  wer: number;
  cer: number;
  words: ErrorCounts;
  chars: ErrorCounts;
  files: ScoredUtterance[];
}

const tokenize = (text: string): string[] => text.split(/\s+/).filter((w) => w.length > 0);

const errors = (c: ErrorCounts) => c.substitutions + c.deletions + c.insertions;
/** an empty reference scores 0 when the hypothesis is empty too, else 1 per inserted word */
const errorRate = (c: ErrorCounts) => errors(c) / Math.max(c.ref, 1);

function count(ref: string[], hyp: string[]): ErrorCounts {
  const a = alignTokens(ref, hyp);
  return { ref: a.refLength, correct: a.correct, substitutions: a.substitutions, deletions: a.deletions, insertions: a.insertions };
}

const add = (a: ErrorCounts, b: ErrorCounts): ErrorCounts => ({
  ref: a.ref + b.ref,
  correct: a.correct + b.correct,
  substitutions: a.substitutions + b.substitutions,
  deletions: a.deletions + b.deletions,
  insertions: a.insertions + b.insertions,
});

const ZERO: ErrorCounts = { ref: 0, correct: 0, substitutions: 0, deletions: 0, insertions: 0 };

/**
 * WER and CER per utterance and overall (errors summed over the corpus, then divided, as sclite
 * does; not a mean of per-file rates). Without normalisation the comparison is exact, case
 * included, which is what `sclite -s` computes.
 */
export function scoreDataset(
  items: { id: string; audio: string; reference: string; hypothesis: string | null }[],
  options: { normalize: boolean },
): EvalScores {
  const prepare = (text: string) => (options.normalize ? normalizeEnglish(text) : tokenize(text).join(" "));
  let words = ZERO;
  let chars = ZERO;
  let missing = 0;
  const files = items.map((item): ScoredUtterance => {
    const reference = prepare(item.reference);
    const hypothesis = item.hypothesis === null ? "" : prepare(item.hypothesis);
    if (item.hypothesis === null) missing++;
    const w = count(tokenize(reference), tokenize(hypothesis));
    const c = count(Array.from(reference), Array.from(hypothesis));
    words = add(words, w);
    chars = add(chars, c);
    return {
      id: item.id,
      audio: item.audio,
      reference,
      hypothesis,
      transcribed: item.hypothesis !== null,
      words: w,
      chars: c,
      wer: errorRate(w),
      cer: errorRate(c),
    };
  });
  return { normalized: options.normalize, utterances: items.length, missing, wer: errorRate(words), cer: errorRate(chars), words, chars, files };
}

/** sclite's `trn` format: "words (id)". Parentheses inside words would end the text early. */
export function trnLines(scores: EvalScores, which: "reference" | "hypothesis"): string {
  const used = new Set<string>();
  const lines = scores.files.map((f) => {
    let id = f.id.replace(/[^A-Za-z0-9_.-]/g, "_");
    for (let k = 2; used.has(id); k++) id = `${f.id.replace(/[^A-Za-z0-9_.-]/g, "_")}_${k}`;
    used.add(id);
    const text = f[which].replace(/\(/g, "[").replace(/\)/g, "]");
    return `${text} (${id})`;
  });
  return lines.join("\n") + "\n";
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const escapeCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function werMarkdown(scores: EvalScores, meta: { dataset: string; model: string; worst?: number }): string {
  const w = scores.words;
  const c = scores.chars;
  const worst = [...scores.files].sort((a, b) => b.wer - a.wer || errors(b.words) - errors(a.words)).slice(0, meta.worst ?? 20);
  return [
    `# Word error rate: ${meta.dataset}`,
    "",
    `Model: ${meta.model}. Utterances: ${scores.utterances}${scores.missing ? ` (${scores.missing} not transcribed, scored as empty)` : ""}. ` +
      `Text ${scores.normalized ? "normalised (docs/EVAL.md)" : "compared as is (case-sensitive, like `sclite -s`)"}.`,
    "",
    "| | rate | reference | correct | substitutions | deletions | insertions |",
    "|---|---:|---:|---:|---:|---:|---:|",
    `| WER | ${pct(scores.wer)} | ${w.ref} words | ${w.correct} | ${w.substitutions} | ${w.deletions} | ${w.insertions} |`,
    `| CER | ${pct(scores.cer)} | ${c.ref} chars | ${c.correct} | ${c.substitutions} | ${c.deletions} | ${c.insertions} |`,
    "",
    `## Worst ${worst.length} file${worst.length === 1 ? "" : "s"}`,
    "",
    "| file | WER | S | D | I | words | reference | hypothesis |",
    "|---|---:|---:|---:|---:|---:|---|---|",
    ...worst.map(
      (f) =>
        `| ${escapeCell(f.id)} | ${pct(f.wer)} | ${f.words.substitutions} | ${f.words.deletions} | ${f.words.insertions} | ${f.words.ref} | ` +
        `${escapeCell(f.reference.slice(0, 80))} | ${f.transcribed ? escapeCell(f.hypothesis.slice(0, 80)) : "*(not transcribed)*"} |`,
    ),
    "",
  ].join("\n");
}
