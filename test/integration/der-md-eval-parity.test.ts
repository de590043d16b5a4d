import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRttm, rttmTurnsByFile } from "../../src/eval/rttm.js";
import { type DiarizationScore, type EvaluationSpan, type SpeakerTurn, scoreDiarizationSet } from "../../src/eval/score-diarization.js";
import { formatRttm } from "../../src/outputs/format-rttm.js";

/** NIST md-eval.pl from Debian's sctk package (.ci/run installs it): the reference DER scorer. */
const MD_EVAL = "/usr/lib/sctk/bin/md-eval.pl";

function requireMdEval(): void {
  if (!existsSync(MD_EVAL)) throw new Error(`${MD_EVAL} is missing: apt-get install sctk (CI installs it); DER parity cannot be checked without it`);
}

interface MdEvalTimes {
  scored: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  /** md-eval's "OVERALL SPEAKER DIARIZATION ERROR", percent with 2 decimals */
  derPercent: number;
}

interface MdEvalResult {
  /** keyed by file id; "ALL" for the whole set */
  scores: Map<string, MdEvalTimes>;
  /** file -> reference speaker -> hypothesis speaker, from md-eval's -M speaker map */
  mapping: Map<string, Map<string, string>>;
}

function readSection(name: string, text: string): MdEvalTimes {
  const number = (label: RegExp) => {
    const m = label.exec(text);
    if (!m) throw new Error(`md-eval's section for ${name} has no ${label.source} line:\n${text}`);
    return Number(m[1]);
  };
  return {
    scored: number(/SCORED SPEAKER TIME =\s*([\d.]+) secs/),
    missed: number(/MISSED SPEAKER TIME =\s*([\d.]+) secs/),
    falseAlarm: number(/FALARM SPEAKER TIME =\s*([\d.]+) secs/),
    confusion: number(/SPEAKER ERROR TIME =\s*([\d.]+) secs/),
    derPercent: number(/OVERALL SPEAKER DIARIZATION ERROR =\s*([\d.]+) percent/),
  };
}

/**
 * `md-eval.pl -af` (per file and overall) on RTTM files, with its speaker map written as CSV. The
 * script runs through its own `#!/usr/bin/perl -w` line, as `perl md-eval.pl` would run it.
 */
function mdEval(dir: string, options: { collar: number; skipOverlap: boolean; uem: boolean }): MdEvalResult {
  const mapCsv = join(dir, "map.csv");
  const args = ["-af", "-r", join(dir, "ref.rttm"), "-s", join(dir, "sys.rttm"), "-c", String(options.collar), "-M", mapCsv];
  if (options.skipOverlap) args.push("-1");
  if (options.uem) args.push("-u", join(dir, "all.uem"));
  const run = spawnSync(MD_EVAL, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.error || run.status !== 0)
    throw new Error(`${MD_EVAL} ${args.join(" ")} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr.slice(-2000)}`);
  const scores = new Map<string, MdEvalTimes>();
  const parts = run.stdout.split(/\*\*\* Performance analysis for Speaker Diarization for (\S+) \*\*\*/);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const name = parts[i]!.replace(/^f=/, "");
    scores.set(name, readSection(name, parts[i + 1]!));
  }
  if (!scores.has("ALL")) throw new Error(`md-eval printed no overall speaker diarization scores:\n${run.stdout.slice(-3000)}`);
  const mapping = new Map<string, Map<string, string>>();
  for (const line of readFileSync(mapCsv, "utf8").split("\n").slice(1)) {
    const [file, , ref, sys, mapped] = line.split(",");
    if (!file || mapped !== "mapped") continue;
    if (!mapping.has(file)) mapping.set(file, new Map());
    mapping.get(file)!.set(ref!, sys!);
  }
  return { scores, mapping };
}

// ------------------------------------------------------------------------------------------------
// test data: times in centiseconds (a 10 ms grid, so every sum md-eval prints with 2 decimals is exact)

interface CaseFile {
  id: string;
  reference: SpeakerTurn[];
  hypothesis: SpeakerTurn[];
}

const turn = (speaker: string, start: number, end: number): SpeakerTurn => ({ start, end, speaker });

/** The named cases; each file has a long solo reference turn, so every option leaves something to score (md-eval divides by it). */
const HAND_MADE: CaseFile[] = [
  { id: "perfect", reference: [turn("A", 0, 4), turn("B", 4, 7), turn("A", 7.5, 10)], hypothesis: [turn("x", 0, 4), turn("y", 4, 7), turn("x", 7.5, 10)] },
  { id: "swapped", reference: [turn("A", 0, 4), turn("B", 4, 7)], hypothesis: [turn("B", 0, 4), turn("A", 4, 7)] },
  { id: "empty_hypothesis", reference: [turn("A", 1, 4), turn("B", 3, 6), turn("C", 6.5, 9)], hypothesis: [] },
  {
    id: "extra_speakers",
    reference: [turn("A", 0, 5), turn("B", 5, 10)],
    hypothesis: [turn("x", 0, 3), turn("z1", 3, 5), turn("y", 5, 8), turn("z2", 8, 10), turn("z3", 9, 11)],
  },
  {
    id: "overlap",
    reference: [turn("A", 0, 5), turn("B", 4, 8), turn("C", 6, 9), turn("A", 10, 12)],
    hypothesis: [turn("x", 0, 4.5), turn("y", 4.5, 8), turn("x", 7, 9), turn("x", 10, 12.2)],
  },
  {
    // adjacent and overlapping turns of one speaker, a zero-length turn: md-eval's own rules
    id: "same_speaker_turns",
    reference: [turn("A", 0, 3), turn("A", 3, 5), turn("A", 4.5, 6), turn("B", 6, 8), turn("B", 7, 7), turn("A", 8, 9.5)],
    hypothesis: [turn("x", 0, 6.2), turn("y", 6.2, 9.5), turn("y", 7, 8.5)],
  },
  {
    id: "false_alarm_outside",
    reference: [turn("A", 2, 6), turn("B", 6, 9)],
    hypothesis: [turn("x", 0, 6), turn("y", 6, 11), turn("z", 12, 13)],
  },
  // no reference turns: md-eval does not score the file (and we score it as nothing)
  { id: "no_reference", reference: [], hypothesis: [turn("x", 0, 3)] },
];

// a seeded generator, so a failure names files that can be replayed
function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function randomFiles(seed: number, count: number): CaseFile[] {
  const rnd = lcg(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const files: CaseFile[] = [];
  for (let k = 0; k < count; k++) {
    const nRef = 1 + int(6);
    const ref: [number, number, number][] = [];
    // a long solo first turn: something is always left to score
    const first = int(300);
    const firstEnd = first + 100 + int(300);
    ref.push([first, firstEnd, 0]);
    let cursor = firstEnd;
    for (let n = 1 + int(20); n > 0; n--) {
      const r = rnd();
      const start = r < 0.2 ? cursor : r < 0.45 ? Math.max(firstEnd, cursor - int(150)) : cursor + int(200);
      const length = rnd() < 0.03 ? 0 : 10 + int(500);
      ref.push([start, start + length, int(nRef)]);
      cursor = Math.max(cursor, start + length);
    }
    const hyp: [number, number, string][] = [];
    const mode = rnd();
    if (mode < 0.05) {
      // empty hypothesis
    } else if (mode < 0.15) {
      const nHyp = 1 + int(5);
      for (let n = 1 + int(20); n > 0; n--) {
        const start = int(cursor + 300);
        hyp.push([start, start + int(600), `h${int(nHyp)}`]);
      }
    } else {
      const label = Array.from({ length: nRef }, (_, i) => `h${(i + k) % nRef}`);
      const jitter = () => int(81) - 40;
      for (const [start, end, spk] of ref) {
        if (end === start || rnd() < 0.1) continue;
        const name = () => (rnd() < 0.1 ? `h${int(nRef + 2)}` : label[spk]!);
        const s = Math.max(0, start + jitter());
        const e = Math.max(s, end + jitter());
        if (rnd() < 0.15) {
          const mid = s + int(e - s + 1);
          hyp.push([s, mid, name()], [mid, e, `h${int(nRef + 2)}`]);
        } else {
          hyp.push([s, e, name()]);
        }
      }
      for (let n = int(4); n > 0; n--) {
        const start = int(cursor + 300);
        hyp.push([start, start + 10 + int(300), `h${int(nRef + 2)}`]);
      }
    }
    files.push({
      id: `r${seed}_${k}`,
      reference: ref.map(([s, e, spk]) => turn(`spk${spk}`, s / 100, e / 100)),
      hypothesis: hyp.map(([s, e, name]) => turn(name, s / 100, e / 100)),
    });
  }
  return files;
}

/** Writes ref.rttm, sys.rttm and a UEM (0 to a second past the last turn) and reads the RTTM back: both scorers see the same input. */
function prepare(files: CaseFile[]): { dir: string; inputs: { id: string; reference: SpeakerTurn[]; hypothesis: SpeakerTurn[]; span: EvaluationSpan }[] } {
  const dir = mkdtempSync(join(tmpdir(), "sf-md-eval-"));
  writeFileSync(join(dir, "ref.rttm"), files.map((f) => formatRttm(f.id, f.reference)).join(""));
  writeFileSync(join(dir, "sys.rttm"), files.map((f) => formatRttm(f.id, f.hypothesis)).join(""));
  const spans = files.map((f) => ({ start: 0, end: Math.round(Math.max(0, ...[...f.reference, ...f.hypothesis].map((t) => t.end)) * 100 + 100) / 100 }));
  writeFileSync(join(dir, "all.uem"), files.map((f, i) => `${f.id} 1 ${spans[i]!.start.toFixed(3)} ${spans[i]!.end.toFixed(3)}\n`).join(""));
  const refs = rttmTurnsByFile(parseRttm(readFileSync(join(dir, "ref.rttm"), "utf8"), "ref.rttm"));
  const hyps = rttmTurnsByFile(parseRttm(readFileSync(join(dir, "sys.rttm"), "utf8"), "sys.rttm"));
  return { dir, inputs: files.map((f, i) => ({ id: f.id, reference: refs.get(f.id) ?? [], hypothesis: hyps.get(f.id) ?? [], span: spans[i]! })) };
}

const CONFIGS = [
  { collar: 0, skipOverlap: false },
  { collar: 0, skipOverlap: true },
  { collar: 0.25, skipOverlap: false },
  { collar: 0.25, skipOverlap: true },
];

/** differences larger than md-eval's 2 printed decimals allow, one line per file */
function compare(
  name: string,
  ours: Pick<DiarizationScore, "scored" | "missed" | "falseAlarm" | "confusion" | "der">,
  theirs: MdEvalTimes | undefined,
  worst: { seconds: number; derPoints: number },
): string[] {
  if (!theirs) return [`${name}: md-eval printed no scores`];
  const out: string[] = [];
  for (const key of ["scored", "missed", "falseAlarm", "confusion"] as const) {
    const diff = Math.abs(ours[key] - theirs[key]);
    worst.seconds = Math.max(worst.seconds, diff);
    if (diff > 0.001) out.push(`${name}: ${key} ours ${ours[key].toFixed(4)} md-eval ${theirs[key]}`);
  }
  const points = Math.abs(ours.der * 100 - theirs.derPercent);
  worst.derPoints = Math.max(worst.derPoints, points);
  if (points > 0.01) out.push(`${name}: DER ours ${(ours.der * 100).toFixed(4)}% md-eval ${theirs.derPercent}%`);
  return out;
}

function checkParity(files: CaseFile[]) {
  requireMdEval();
  const { dir, inputs } = prepare(files);
  const worst = { seconds: 0, derPoints: 0 };
  const problems: string[] = [];
  let compared = 0;
  for (const uem of [false, true]) {
    // md-eval scores only files with reference turns, UEM or not; we score a span given for an empty reference
    const scoredInputs = uem ? inputs.filter((f) => f.reference.length > 0) : inputs;
    for (const config of CONFIGS) {
      const label = `collar ${config.collar}${config.skipOverlap ? " -1" : ""}${uem ? " -u" : ""}`;
      const md = mdEval(dir, { ...config, uem });
      const ours = scoreDiarizationSet(
        scoredInputs.map((f) => ({ id: f.id, reference: f.reference, hypothesis: f.hypothesis, ...(uem ? { uem: f.span } : {}) })),
        config,
      );
      for (const f of ours.files) {
        if (f.speakers.reference === 0) {
          if (md.scores.has(f.id)) problems.push(`${label} ${f.id}: md-eval scored a file without reference turns`);
          continue;
        }
        compared++;
        problems.push(...compare(`${label} ${f.id}`, f, md.scores.get(f.id), worst));
        const theirMap = Object.fromEntries(md.mapping.get(f.id) ?? []);
        if (JSON.stringify(theirMap, Object.keys(theirMap).sort()) !== JSON.stringify(f.mapping, Object.keys(f.mapping).sort())) {
          problems.push(`${label} ${f.id}: mapping ours ${JSON.stringify(f.mapping)} md-eval ${JSON.stringify(theirMap)}`);
        }
      }
      compared++;
      problems.push(...compare(`${label} overall`, ours.overall, md.scores.get("ALL"), worst));
    }
  }
  return { problems, worst, compared };
}

describe("DER parity with NIST md-eval.pl", () => {
  it("the named cases (perfect, swapped, empty hypothesis, extra speakers, overlap, same-speaker turns, false alarms outside) agree", () => {
    const { problems } = checkParity(HAND_MADE);
    expect(problems).toEqual([]);
  });

  it("200 random files agree per file and overall, at collar 0 and 0.25, with and without -1 and -u", () => {
    const { problems, worst, compared } = checkParity(randomFiles(7, 200));
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(8 * 200);
    expect(worst.seconds).toBeLessThan(0.001);
  });
});
