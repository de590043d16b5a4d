import { SpeechflowError } from "../errors/speechflow-error.js";

/**
 * Diarization error rate (DER) as NIST md-eval.pl (sctk, version 22) computes it, and Jaccard
 * error rate (JER) as dscore (DIHARD) defines it. docs/EVAL.md describes both; the integration
 * test der-md-eval-parity runs md-eval.pl on the same RTTM and requires the same numbers.
 *
 * What md-eval does, and so what this does (times in seconds, turns half-open [start, end)):
 *
 * - Evaluation region: the `uem` span if given (md-eval -u with one segment), else from the
 *   earliest reference onset to the latest reference offset. Hypothesis speech outside it is not
 *   scored: without a UEM, md-eval ignores false alarms before the first and after the last
 *   reference turn. Zero-length reference turns count for that extent.
 * - Speaker mapping: one-to-one, maximising the total time each reference speaker shares with its
 *   hypothesis speaker over the evaluation region, before collars and overlap are taken out.
 *   Only pairs that share some time are mapped.
 * - Scored region: the evaluation region less ±collar around the onset and the offset of every
 *   reference turn as written (adjacent turns of one speaker are not merged first, so their
 *   shared boundary gets a collar too; zero-length turns get collars), and, with skipOverlap, less
 *   the time where two or more reference turns overlap (md-eval -1 counts turns, not speakers:
 *   two overlapping turns of the same speaker are "overlap" and are left out too).
 * - A speaker with overlapping or adjacent turns of its own is present over their union; it counts
 *   once.
 * - Over the scored region, cut at every boundary, each piece of length d with N_ref reference and
 *   N_sys hypothesis speakers, N_correct of the reference speakers' mapped speakers present, adds
 *   d·N_ref to scored, d·max(0, N_ref − N_sys) to missed, d·max(0, N_sys − N_ref) to false alarm
 *   and d·(min(N_ref, N_sys) − N_correct) to confusion.
 *
 * JER (dscore): per reference speaker, 1 − |ref ∩ hyp| / |ref ∪ hyp| with its hypothesis speaker
 * under the one-to-one mapping that maximises the sum of these Jaccard indices (1 when unmapped),
 * averaged over the reference speakers. dscore computes it over the evaluation region with no
 * collar and with overlapping speech, whatever the DER options; so does this.
 */
export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: string;
}

export interface DiarizationOptions {
  /** seconds left unscored on each side of every reference turn boundary (md-eval -c; 0.25 is usual) */
  collar: number;
  /** leave out the time where the reference has overlapping turns (md-eval -1) */
  skipOverlap: boolean;
}

/** The span of a file to evaluate, e.g. the whole recording [0, duration] (an md-eval UEM of one segment). */
export interface EvaluationSpan {
  start: number;
  end: number;
}

export interface DiarizationScore {
  /** seconds of reference speech scored, each speaker counted (two speakers for 1 s: 2) */
  scored: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  /** (missed + falseAlarm + confusion) / scored; 0 when nothing was scored and nothing wrong, 1 when nothing was scored but false alarms */
  der: number;
  /** mean Jaccard error over the reference speakers; 1 with no hypothesis speakers, 0 with neither */
  jer: number;
  /** speakers with some time in the evaluation region */
  speakers: { reference: number; hypothesis: number };
  /** reference speaker -> hypothesis speaker, the DER mapping */
  mapping: Record<string, string>;
}

export interface DiarizationTotals extends Omit<DiarizationScore, "mapping"> {
  files: number;
}

export interface DiarizationSetScore {
  files: (DiarizationScore & { id: string; uem?: EvaluationSpan })[];
  /** times summed over the files, then divided; JER averaged over all reference speakers of all files */
  overall: DiarizationTotals;
}

/**
 * Maximum-weight one-to-one assignment of rows to columns (Hungarian algorithm with potentials,
 * O(n³) on the matrix padded to square). `weights[i][j]` ≥ 0; missing entries are 0. Returns, for
 * each row, its column or -1; rows left to padding get -1. Which of several equally good
 * assignments comes back depends only on the order of rows and columns.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): number[] {
  const rows = weights.length;
  const cols = weights.reduce((n, row) => Math.max(n, row.length), 0);
  const size = Math.max(rows, cols);
  // 1-based: rowPot[i], colPot[j] are the dual potentials; owner[j] is the row given column j (0: none)
  const rowPot = new Float64Array(size + 1);
  const colPot = new Float64Array(size + 1);
  const owner = new Int32Array(size + 1);
  const via = new Int32Array(size + 1);
  const cost = (i: number, j: number) => -(weights[i - 1]?.[j - 1] ?? 0);
  for (let row = 1; row <= size; row++) {
    // grow a shortest augmenting path from `row`, with column 0 standing for it
    owner[0] = row;
    let col = 0;
    const reach = new Float64Array(size + 1).fill(Number.POSITIVE_INFINITY);
    const done = new Uint8Array(size + 1);
    do {
      done[col] = 1;
      const from = owner[col]!;
      let delta = Number.POSITIVE_INFINITY;
      let next = 0;
      for (let j = 1; j <= size; j++) {
        if (done[j]) continue;
        const reduced = cost(from, j) - rowPot[from]! - colPot[j]!;
        if (reduced < reach[j]!) {
          reach[j] = reduced;
          via[j] = col;
        }
        if (reach[j]! < delta) {
          delta = reach[j]!;
          next = j;
        }
      }
      for (let j = 0; j <= size; j++) {
        if (done[j]) {
          rowPot[owner[j]!]! += delta;
          colPot[j]! -= delta;
        } else {
          reach[j]! -= delta;
        }
      }
      col = next;
    } while (owner[col] !== 0);
    // flip the path
    while (col !== 0) {
      const prev = via[col]!;
      owner[col] = owner[prev]!;
      col = prev;
    }
  }
  const result = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) {
    const i = owner[j]!;
    if (i >= 1 && i <= rows) result[i - 1] = j - 1;
  }
  return result;
}

// ------------------------------------------------------------------------------------------------

/** Event kinds of the sweep: evaluation region, collar, reference turn, hypothesis turn. */
const REGION = 0;
const COLLAR = 1;
const REF = 2;
const HYP = 3;

interface SweepEvent {
  time: number;
  kind: number;
  delta: number;
  /** speaker index for REF and HYP */
  who: number;
}

interface ScoredPiece {
  duration: number;
  ref: number[];
  hyp: number[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function checkTurns(turns: readonly SpeakerTurn[], which: string): void {
  for (const t of turns) {
    if (!(Number.isFinite(t.start) && Number.isFinite(t.end) && t.start >= 0 && t.end >= t.start)) {
      throw new SpeechflowError("USAGE", `${which} turn of speaker "${t.speaker}" has bad times: ${t.start} to ${t.end}`);
    }
  }
}

function checkOptions(options: DiarizationOptions, uem: EvaluationSpan | undefined): void {
  if (!(Number.isFinite(options.collar) && options.collar >= 0))
    throw new SpeechflowError("USAGE", `the collar must be 0 or more seconds, not ${options.collar}`);
  if (uem && !(Number.isFinite(uem.start) && Number.isFinite(uem.end) && uem.end >= uem.start)) {
    throw new SpeechflowError("USAGE", `the evaluation span ${uem.start} to ${uem.end} is not a span`);
  }
}

/** md-eval's region without a UEM: earliest reference onset to latest offset (zero-length turns included). */
function evaluationRegion(reference: readonly SpeakerTurn[], uem: EvaluationSpan | undefined): EvaluationSpan | null {
  if (uem) return uem.end > uem.start ? uem : null;
  if (reference.length === 0) return null;
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const t of reference) {
    start = Math.min(start, t.start);
    end = Math.max(end, t.end);
  }
  return end > start ? { start, end } : null;
}

function speakerIndex(turns: readonly SpeakerTurn[]): { names: string[]; index: Map<string, number> } {
  const names = [...new Set(turns.map((t) => t.speaker))].sort(byName);
  return { names, index: new Map(names.map((n, i) => [n, i])) };
}

function sweepEvents(
  reference: readonly SpeakerTurn[],
  hypothesis: readonly SpeakerTurn[],
  region: EvaluationSpan,
  collar: number,
  refIndex: Map<string, number>,
  hypIndex: Map<string, number>,
): SweepEvent[] {
  const events: SweepEvent[] = [
    { time: region.start, kind: REGION, delta: 1, who: -1 },
    { time: region.end, kind: REGION, delta: -1, who: -1 },
  ];
  const span = (kind: number, start: number, end: number, who: number) => {
    events.push({ time: start, kind, delta: 1, who }, { time: end, kind, delta: -1, who });
  };
  for (const t of reference) {
    // md-eval: a turn of zero length marks no speech, but its boundaries still get collars
    if (t.end > t.start) span(REF, t.start, t.end, refIndex.get(t.speaker)!);
    if (collar > 0) {
      span(COLLAR, t.start - collar, t.start + collar, -1);
      span(COLLAR, t.end - collar, t.end + collar, -1);
    }
  }
  for (const t of hypothesis) if (t.end > t.start) span(HYP, t.start, t.end, hypIndex.get(t.speaker)!);
  return events.sort((a, b) => a.time - b.time);
}

interface SweepResult {
  /** [ref][hyp] seconds spoken together in the evaluation region */
  together: number[][];
  refTime: number[];
  hypTime: number[];
  pieces: ScoredPiece[];
}

/**
 * Walks the timeline cut at every boundary. All events at one instant are applied before the piece
 * that follows is measured, so a turn ending where another begins never overlaps it (md-eval sorts
 * ends before beginnings).
 */
function sweep(events: readonly SweepEvent[], nRef: number, nHyp: number, skipOverlap: boolean): SweepResult {
  const together = Array.from({ length: nRef }, () => new Array<number>(nHyp).fill(0));
  const refTime = new Array<number>(nRef).fill(0);
  const hypTime = new Array<number>(nHyp).fill(0);
  const refOpen = new Int32Array(nRef);
  const hypOpen = new Int32Array(nHyp);
  const pieces: ScoredPiece[] = [];
  let inRegion = 0;
  let inCollar = 0;
  let refTurns = 0;
  let k = 0;
  while (k < events.length) {
    const now = events[k]!.time;
    for (; k < events.length && events[k]!.time === now; k++) {
      const e = events[k]!;
      if (e.kind === REGION) inRegion += e.delta;
      else if (e.kind === COLLAR) inCollar += e.delta;
      else if (e.kind === REF) {
        refOpen[e.who]! += e.delta;
        refTurns += e.delta;
      } else hypOpen[e.who]! += e.delta;
    }
    if (k === events.length) break;
    const duration = events[k]!.time - now;
    if (inRegion <= 0 || duration <= 0) continue;
    const ref: number[] = [];
    const hyp: number[] = [];
    for (let r = 0; r < nRef; r++) if (refOpen[r]! > 0) ref.push(r);
    for (let h = 0; h < nHyp; h++) if (hypOpen[h]! > 0) hyp.push(h);
    for (const r of ref) {
      refTime[r]! += duration;
      for (const h of hyp) together[r]![h]! += duration;
    }
    for (const h of hyp) hypTime[h]! += duration;
    // skipOverlap counts reference turns, as md-eval -1 does, not distinct speakers
    if (inCollar > 0 || (skipOverlap && refTurns >= 2)) continue;
    if (ref.length > 0 || hyp.length > 0) pieces.push({ duration, ref, hyp });
  }
  return { together, refTime, hypTime, pieces };
}

/** equal overlaps that float sums made differ in the last bit are ties: compare to the nanosecond */
const nanos = (seconds: number) => Math.round(seconds * 1e9);

function jaccardError(s: SweepResult): number {
  const refs = s.refTime.flatMap((t, r) => (t > 0 ? [r] : []));
  const hyps = s.hypTime.flatMap((t, h) => (t > 0 ? [h] : []));
  if (refs.length === 0) return hyps.length > 0 ? 1 : 0;
  if (hyps.length === 0) return 1;
  const jaccard = refs.map((r) =>
    hyps.map((h) => {
      const shared = s.together[r]![h]!;
      return shared > 0 ? shared / (s.refTime[r]! + s.hypTime[h]! - shared) : 0;
    }),
  );
  const pairs = maxWeightAssignment(jaccard);
  const error = refs.reduce((sum, _, i) => sum + 1 - (pairs[i]! >= 0 ? jaccard[i]![pairs[i]!]! : 0), 0);
  return error / refs.length;
}

const rate = (errors: number, scored: number) => (scored > 0 ? errors / scored : errors > 0 ? 1 : 0);

/**
 * DER and JER of one file. `reference` and `hypothesis` are the file's speaker turns in seconds.
 * An empty hypothesis is all missed speech. An empty reference has no evaluation region unless
 * `options.uem` gives one (md-eval does not score such a file): everything is 0; with a span,
 * hypothesis speech in it is false alarm, and DER is then 1 (dscore's convention for errors over
 * nothing). Without a span the evaluation region is the reference's extent (md-eval without -u).
 */
export function scoreDiarization(
  reference: readonly SpeakerTurn[],
  hypothesis: readonly SpeakerTurn[],
  options: DiarizationOptions & { uem?: EvaluationSpan },
): DiarizationScore {
  checkOptions(options, options.uem);
  checkTurns(reference, "reference");
  checkTurns(hypothesis, "hypothesis");
  const ref = speakerIndex(reference);
  const hyp = speakerIndex(hypothesis);
  const region = evaluationRegion(reference, options.uem);
  if (!region) {
    return { scored: 0, missed: 0, falseAlarm: 0, confusion: 0, der: 0, jer: 0, speakers: { reference: 0, hypothesis: 0 }, mapping: {} };
  }
  const s = sweep(sweepEvents(reference, hypothesis, region, options.collar, ref.index, hyp.index), ref.names.length, hyp.names.length, options.skipOverlap);

  const pairs = maxWeightAssignment(s.together.map((row) => row.map(nanos)));
  const mappedTo = pairs.map((h, r) => (h >= 0 && s.together[r]![h]! > 0 ? h : -1));
  const mapping: Record<string, string> = {};
  mappedTo.forEach((h, r) => {
    if (h >= 0) mapping[ref.names[r]!] = hyp.names[h]!;
  });

  let scored = 0;
  let missed = 0;
  let falseAlarm = 0;
  let confusion = 0;
  for (const p of s.pieces) {
    const nRef = p.ref.length;
    const nHyp = p.hyp.length;
    const correct = p.ref.reduce((n, r) => n + (mappedTo[r]! >= 0 && p.hyp.includes(mappedTo[r]!) ? 1 : 0), 0);
    scored += p.duration * nRef;
    missed += p.duration * Math.max(0, nRef - nHyp);
    falseAlarm += p.duration * Math.max(0, nHyp - nRef);
    confusion += p.duration * (Math.min(nRef, nHyp) - correct);
  }
  return {
    scored,
    missed,
    falseAlarm,
    confusion,
    der: rate(missed + falseAlarm + confusion, scored),
    jer: jaccardError(s),
    speakers: { reference: s.refTime.filter((t) => t > 0).length, hypothesis: s.hypTime.filter((t) => t > 0).length },
    mapping,
  };
}

/**
 * Every file scored on its own (its own speaker mapping), then times summed over the files and
 * divided, as md-eval's ALL line; JER is the mean over all reference speakers of all files, as
 * dscore's overall JER.
 */
export function scoreDiarizationSet(
  files: readonly { id: string; reference: readonly SpeakerTurn[]; hypothesis: readonly SpeakerTurn[]; uem?: EvaluationSpan }[],
  options: DiarizationOptions,
): DiarizationSetScore {
  const scored = files.map((f) => ({
    id: f.id,
    ...(f.uem ? { uem: f.uem } : {}),
    ...scoreDiarization(f.reference, f.hypothesis, { collar: options.collar, skipOverlap: options.skipOverlap, uem: f.uem }),
  }));
  const sum = (pick: (s: DiarizationScore) => number) => scored.reduce((total, s) => total + pick(s), 0);
  const totals = {
    scored: sum((s) => s.scored),
    missed: sum((s) => s.missed),
    falseAlarm: sum((s) => s.falseAlarm),
    confusion: sum((s) => s.confusion),
  };
  const refSpeakers = sum((s) => s.speakers.reference);
  const hypSpeakers = sum((s) => s.speakers.hypothesis);
  // a file's JER is the mean over its reference speakers: weighting by their number gives the mean over all
  const jer = refSpeakers > 0 ? sum((s) => s.jer * s.speakers.reference) / refSpeakers : hypSpeakers > 0 ? 1 : 0;
  return {
    files: scored,
    overall: {
      ...totals,
      der: rate(totals.missed + totals.falseAlarm + totals.confusion, totals.scored),
      jer,
      speakers: { reference: refSpeakers, hypothesis: hypSpeakers },
      files: files.length,
    },
  };
}

// ------------------------------------------------------------------------------------------------

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const secs = (x: number) => x.toFixed(2);
const escapeCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown report: the overall row first, then one row per file. */
export function derMarkdown(scores: DiarizationSetScore, meta: { dataset: string; options: DiarizationOptions }): string {
  const o = scores.overall;
  const { collar, skipOverlap } = meta.options;
  const spans = scores.files.filter((f) => f.uem).length;
  const row = (name: string, s: Omit<DiarizationScore, "mapping">) =>
    `| ${name} | ${secs(s.scored)} | ${secs(s.missed)} | ${secs(s.falseAlarm)} | ${secs(s.confusion)} | ${pct(s.der)} | ${pct(s.jer)} | ` +
    `${s.speakers.reference} / ${s.speakers.hypothesis} |`;
  return [
    `# Diarization error rate: ${meta.dataset}`,
    "",
    `Files: ${o.files}. Collar: ${collar} s either side of each reference boundary. ` +
      `Overlapping reference speech ${skipOverlap ? "not scored (md-eval -1)" : "scored"}. ` +
      `Evaluated ${spans === 0 ? "from the first to the last reference turn of each file" : spans === o.files ? "over each file's given span" : `over the given span (${spans} files) or from the first to the last reference turn`}. ` +
      "Times in seconds of speaker time; DER as md-eval.pl computes it, JER as dscore (docs/EVAL.md).",
    "",
    "| file | scored | missed | false alarm | confusion | DER | JER | speakers (ref / hyp) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    row("**overall**", o),
    ...scores.files.map((f) => row(escapeCell(f.id), f)),
    "",
  ].join("\n");
}
