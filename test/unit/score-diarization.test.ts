import { describe, expect, it } from "vitest";
import { SpeechflowError } from "../../src/errors/speechflow-error.js";
import { parseRttm, rttmTurnsByFile } from "../../src/eval/rttm.js";
import {
  type DiarizationOptions,
  derMarkdown,
  maxWeightAssignment,
  type SpeakerTurn,
  scoreDiarization,
  scoreDiarizationSet,
} from "../../src/eval/score-diarization.js";
import { formatRttm } from "../../src/outputs/format-rttm.js";

const t = (speaker: string, start: number, end: number): SpeakerTurn => ({ start, end, speaker });
const PLAIN: DiarizationOptions = { collar: 0, skipOverlap: false };

/** the error times and rates, rounded past float noise (all cases below are hand-computed) */
function times(reference: SpeakerTurn[], hypothesis: SpeakerTurn[], options: DiarizationOptions & { uem?: { start: number; end: number } } = PLAIN) {
  const s = scoreDiarization(reference, hypothesis, options);
  const r = (x: number) => Math.round(x * 1e9) / 1e9;
  return { scored: r(s.scored), missed: r(s.missed), falseAlarm: r(s.falseAlarm), confusion: r(s.confusion), der: r(s.der), jer: r(s.jer) };
}

describe("scoreDiarization: DER as md-eval computes it", () => {
  it("scores a perfect hypothesis 0, whatever its labels", () => {
    const s = scoreDiarization([t("A", 0, 4), t("B", 4, 7), t("A", 7.5, 10)], [t("x", 0, 4), t("y", 4, 7), t("x", 7.5, 10)], PLAIN);
    expect(s).toEqual({
      scored: 9.5,
      missed: 0,
      falseAlarm: 0,
      confusion: 0,
      der: 0,
      jer: 0,
      speakers: { reference: 2, hypothesis: 2 },
      mapping: { A: "x", B: "y" },
    });
  });

  it("maps swapped labels onto each other: no confusion", () => {
    const s = scoreDiarization([t("A", 0, 4), t("B", 4, 7)], [t("B", 0, 4), t("A", 4, 7)], PLAIN);
    expect(s.mapping).toEqual({ A: "B", B: "A" });
    expect(s.confusion).toBe(0);
    expect(s.der).toBe(0);
  });

  it("scores an empty hypothesis as all missed speaker time (overlap counts once per speaker)", () => {
    const s = scoreDiarization([t("A", 0, 4), t("B", 3, 6)], [], PLAIN);
    expect(s).toMatchObject({ scored: 7, missed: 7, falseAlarm: 0, confusion: 0, der: 1, jer: 1, speakers: { reference: 2, hypothesis: 0 }, mapping: {} });
  });

  it("counts hypothesis speech where the reference is silent as false alarm", () => {
    // region 0-10 (the reference's extent); 2-8 is silence in the reference
    expect(times([t("A", 0, 2), t("A", 8, 10)], [t("x", 0, 10)])).toMatchObject({ scored: 4, missed: 0, falseAlarm: 6, confusion: 0, der: 1.5 });
  });

  it("ignores hypothesis speech outside the reference's extent unless a span is given (md-eval without and with -u)", () => {
    const ref = [t("A", 2, 6)];
    const hyp = [t("x", 0, 6), t("x", 7, 9)];
    expect(times(ref, hyp)).toMatchObject({ scored: 4, falseAlarm: 0, der: 0 });
    expect(times(ref, hyp, { ...PLAIN, uem: { start: 0, end: 10 } })).toMatchObject({ scored: 4, falseAlarm: 4, der: 1 });
  });

  it("defines an empty reference: nothing to score without a span; with one, false alarm and DER 1", () => {
    expect(scoreDiarization([], [t("x", 0, 3)], PLAIN)).toEqual({
      scored: 0,
      missed: 0,
      falseAlarm: 0,
      confusion: 0,
      der: 0,
      jer: 0,
      speakers: { reference: 0, hypothesis: 0 },
      mapping: {},
    });
    const spanned = scoreDiarization([], [t("x", 1, 3)], { ...PLAIN, uem: { start: 0, end: 10 } });
    expect(spanned).toMatchObject({ scored: 0, falseAlarm: 2, der: 1, jer: 1, speakers: { reference: 0, hypothesis: 1 } });
    expect(scoreDiarization([], [], { ...PLAIN, uem: { start: 0, end: 10 } })).toMatchObject({ der: 0, jer: 0 });
  });

  it("maps extra hypothesis speakers to nobody: their time is confusion or false alarm", () => {
    const ref = [t("A", 0, 5), t("B", 5, 10)];
    const s = scoreDiarization(ref, [t("x", 0, 5), t("y", 5, 8), t("z", 8, 10), t("w", 2, 4)], PLAIN);
    expect(s.mapping).toEqual({ A: "x", B: "y" });
    expect(s.speakers).toEqual({ reference: 2, hypothesis: 4 });
    // z speaks for B (confusion 2 s); w speaks on top of A and x (false alarm 2 s)
    expect(times(ref, [t("x", 0, 5), t("y", 5, 8), t("z", 8, 10), t("w", 2, 4)])).toMatchObject({
      scored: 10,
      missed: 0,
      falseAlarm: 2,
      confusion: 2,
      der: 0.4,
    });
  });

  it("maps speakers to maximise the total shared time, not greedily", () => {
    // greedy would give A the 5 s with x, then B only 1 s with y: 6 s; the best mapping keeps 4 + 4 = 8 s
    const ref = [t("A", 0, 5), t("A", 10, 14), t("B", 5, 9), t("B", 14, 15)];
    const hyp = [t("x", 0, 5), t("x", 5, 9), t("y", 10, 14), t("y", 14, 15)];
    const s = scoreDiarization(ref, hyp, PLAIN);
    expect(s.mapping).toEqual({ A: "y", B: "x" });
    expect(times(ref, hyp)).toMatchObject({ scored: 14, confusion: 6 });
  });

  it("leaves ±collar around every reference boundary unscored", () => {
    const ref = [t("A", 0, 4), t("B", 4, 8)];
    const hyp = [t("x", 0, 5), t("y", 5, 8)];
    expect(times(ref, hyp)).toMatchObject({ scored: 8, confusion: 1, der: 0.125 });
    // scored: 0.25-3.75 and 4.25-7.75; wrong: 4.25-5
    expect(times(ref, hyp, { collar: 0.25, skipOverlap: false })).toMatchObject({ scored: 7, confusion: 0.75 });
    // a collar of 1 s swallows the 1 s boundary error
    expect(times(ref, hyp, { collar: 1, skipOverlap: false })).toMatchObject({ scored: 4, confusion: 0, der: 0 });
  });

  it("puts a collar on the boundary between adjacent turns of one speaker, and around zero-length turns (as md-eval does)", () => {
    expect(times([t("A", 0, 2), t("A", 2, 4)], [t("x", 0, 4)], { collar: 0.25, skipOverlap: false })).toMatchObject({ scored: 3, der: 0 });
    expect(times([t("A", 0, 4), t("A", 2, 2)], [t("x", 0, 4)], { collar: 0.25, skipOverlap: false })).toMatchObject({ scored: 3, der: 0 });
    // the hypothesis's boundaries get no collar
    expect(times([t("A", 0, 4)], [t("x", 0, 2), t("x", 2, 4)], { collar: 0.25, skipOverlap: false })).toMatchObject({ scored: 3.5 });
  });

  it("scores overlapped speech per speaker, or leaves it out with skipOverlap", () => {
    const ref = [t("A", 0, 6), t("B", 4, 8)];
    const hyp = [t("x", 0, 8)];
    // 4-6: two speakers, one detected (1 missed per second); 6-8: B spoken by x, which is A's
    expect(times(ref, hyp)).toMatchObject({ scored: 10, missed: 2, falseAlarm: 0, confusion: 2, der: 0.4 });
    expect(times(ref, hyp, { collar: 0, skipOverlap: true })).toMatchObject({ scored: 6, missed: 0, confusion: 2 });
    // overlap and collar together: 0.25-3.75 and 6.25-7.75
    expect(times(ref, hyp, { collar: 0.25, skipOverlap: true })).toMatchObject({ scored: 5, confusion: 1.5 });
  });

  it("counts a hypothesis with more speakers than the reference as false alarm per extra speaker", () => {
    expect(times([t("A", 0, 4)], [t("x", 0, 4), t("y", 0, 4), t("z", 1, 3)])).toMatchObject({ scored: 4, falseAlarm: 6, confusion: 0, der: 1.5 });
  });

  it("treats one speaker's overlapping turns as one presence, but as overlap for skipOverlap (md-eval -1 counts turns)", () => {
    const ref = [t("A", 0, 4), t("A", 2, 6)];
    expect(times(ref, [t("x", 0, 6)])).toMatchObject({ scored: 6, der: 0 });
    expect(times(ref, [t("x", 0, 6)], { collar: 0, skipOverlap: true })).toMatchObject({ scored: 4, der: 0 });
  });

  it("does not depend on the order of the turns", () => {
    const ref = [t("A", 0, 6), t("B", 4, 8), t("C", 9, 12), t("A", 12, 13)];
    const hyp = [t("x", 0, 5), t("y", 5, 9.5), t("z", 9.5, 13), t("x", 11, 12)];
    const options = { collar: 0.25, skipOverlap: true };
    expect(scoreDiarization([...ref].reverse(), [...hyp].reverse(), options)).toEqual(scoreDiarization(ref, hyp, options));
  });

  it("refuses a negative collar and turns that end before they start", () => {
    expect(() => scoreDiarization([t("A", 0, 1)], [], { collar: -0.25, skipOverlap: false })).toThrow(SpeechflowError);
    expect(() => scoreDiarization([t("A", 2, 1)], [], PLAIN)).toThrow(/reference turn of speaker "A" has bad times/);
  });
});

describe("scoreDiarization: JER as dscore computes it", () => {
  it("averages 1 - |ref ∩ hyp| / |ref ∪ hyp| over the reference speakers, under the mapping best for Jaccard", () => {
    // A-x: 10/15; B-y: 5/10 (B-x would be 5/20)
    const s = scoreDiarization([t("A", 0, 10), t("B", 10, 20)], [t("x", 0, 15), t("y", 15, 20)], PLAIN);
    expect(s.jer).toBeCloseTo((1 / 3 + 1 / 2) / 2, 12);
    expect(s.der).toBeCloseTo(5 / 20, 12);
  });

  it("gives an unmapped reference speaker a Jaccard error of 1, and ignores collar and skipOverlap", () => {
    const ref = [t("A", 0, 5), t("B", 5, 10), t("C", 4, 6)];
    const hyp = [t("x", 0, 5), t("y", 5, 10)];
    const s = scoreDiarization(ref, hyp, PLAIN);
    expect(s.jer).toBeCloseTo(1 / 3, 12);
    expect(scoreDiarization(ref, hyp, { collar: 0.5, skipOverlap: true }).jer).toBeCloseTo(1 / 3, 12);
  });

  it("is 1 for an empty hypothesis and 0 when neither side speaks", () => {
    expect(scoreDiarization([t("A", 0, 5)], [], PLAIN).jer).toBe(1);
    expect(scoreDiarization([], [], PLAIN).jer).toBe(0);
  });
});

describe("scoreDiarizationSet", () => {
  it("sums times over the files before dividing, and averages JER over all reference speakers", () => {
    const set = scoreDiarizationSet(
      [
        // 10 s scored, 1 s missed
        { id: "one", reference: [t("A", 0, 10)], hypothesis: [t("x", 0, 9)] },
        // 2 s scored, 2 s missed, two reference speakers with JER 1
        { id: "two", reference: [t("A", 0, 1), t("B", 1, 2)], hypothesis: [] },
      ],
      PLAIN,
    );
    expect(set.files.map((f) => [f.id, f.der])).toEqual([
      ["one", 0.1],
      ["two", 1],
    ]);
    expect(set.overall).toMatchObject({ files: 2, scored: 12, missed: 3, falseAlarm: 0, confusion: 0, speakers: { reference: 3, hypothesis: 1 } });
    expect(set.overall.der).toBeCloseTo(3 / 12, 12);
    expect(set.overall.jer).toBeCloseTo((0.1 + 1 + 1) / 3, 12);
  });

  it("scores each file over its own span when one is given", () => {
    const set = scoreDiarizationSet([{ id: "a", reference: [t("A", 1, 2)], hypothesis: [t("x", 0, 2)], uem: { start: 0, end: 5 } }], PLAIN);
    expect(set.files[0]).toMatchObject({ id: "a", uem: { start: 0, end: 5 }, falseAlarm: 1 });
  });

  it("writes a Markdown table: overall first, then every file", () => {
    const set = scoreDiarizationSet(
      [
        { id: "meeting|1", reference: [t("A", 0, 10)], hypothesis: [t("x", 0, 9)] },
        { id: "call", reference: [t("A", 0, 4)], hypothesis: [t("x", 0, 4)] },
      ],
      { collar: 0.25, skipOverlap: true },
    );
    const md = derMarkdown(set, { dataset: "ami-test", options: { collar: 0.25, skipOverlap: true } });
    expect(md).toContain("# Diarization error rate: ami-test");
    expect(md).toContain("Collar: 0.25 s");
    expect(md).toContain("not scored (md-eval -1)");
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| file"));
    expect(rows).toEqual([
      // collars: 0.25-9.75 and 0.25-3.75 scored; x stops at 9 (0.75 s missed); JER ignores the collar
      "| **overall** | 13.00 | 0.75 | 0.00 | 0.00 | 5.77% | 5.00% | 2 / 2 |",
      "| meeting\\|1 | 9.50 | 0.75 | 0.00 | 0.00 | 7.89% | 10.00% | 1 / 1 |",
      "| call | 3.50 | 0.00 | 0.00 | 0.00 | 0.00% | 0.00% | 1 / 1 |",
    ]);
  });
});

describe("maxWeightAssignment", () => {
  function bestByBruteForce(w: number[][], rows: number, cols: number): number {
    let best = 0;
    const used = new Array<boolean>(cols).fill(false);
    const walk = (r: number, total: number) => {
      if (r === rows) {
        best = Math.max(best, total);
        return;
      }
      walk(r + 1, total);
      for (let c = 0; c < cols; c++) {
        if (used[c]) continue;
        used[c] = true;
        walk(r + 1, total + w[r]![c]!);
        used[c] = false;
      }
    };
    walk(0, 0);
    return best;
  }

  it("finds the best total on random rectangular matrices (checked against all assignments)", () => {
    let s = 11;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(rnd() * 6);
      const cols = 1 + Math.floor(rnd() * 6);
      // many zeros and repeated values: ties are where assignment codes go wrong
      const w = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rnd() < 0.3 ? 0 : Math.floor(rnd() * 8))));
      const pairs = maxWeightAssignment(w);
      expect(pairs).toHaveLength(rows);
      const taken = pairs.filter((c) => c >= 0);
      expect(new Set(taken).size).toBe(taken.length);
      const total = pairs.reduce((sum, c, r) => sum + (c >= 0 ? w[r]![c]! : 0), 0);
      expect(total).toBe(bestByBruteForce(w, rows, cols));
    }
  });

  it("handles empty and one-sided matrices", () => {
    expect(maxWeightAssignment([])).toEqual([]);
    expect(maxWeightAssignment([[], []])).toEqual([-1, -1]);
  });
});

describe("RTTM", () => {
  it("reads SPEAKER records only, skipping comments, blank lines and other record types, whatever the spacing", () => {
    const text = [
      ";; a comment",
      "# another",
      "",
      "SPKR-INFO meeting 1 <NA> <NA> <NA> unknown A <NA> <NA>",
      "SPEAKER meeting 1 0.50 1.25 <NA> <NA> A <NA> <NA>",
      "  speaker\tmeeting   1  2.000   0.5 <NA> <NA>   B   <NA> <NA>  ",
      "SPEAKER call 2 3 0 <NA> <NA> C <NA>",
    ].join("\r\n");
    expect(parseRttm(text)).toEqual([
      { file: "meeting", channel: 1, start: 0.5, duration: 1.25, speaker: "A" },
      { file: "meeting", channel: 1, start: 2, duration: 0.5, speaker: "B" },
      { file: "call", channel: 2, start: 3, duration: 0, speaker: "C" },
    ]);
  });

  it("names the line and the problem in its errors", () => {
    expect(() => parseRttm("SPEAKER a 1 0 1 <NA> <NA> A\nSPEAKER a 1 x 1 <NA> <NA> B <NA> <NA>", "ref.rttm")).toThrow(
      /^ref\.rttm line 2: onset "x" is not a non-negative number of seconds/,
    );
    expect(() => parseRttm("\n\nSPEAKER a 1 0 -1 <NA> <NA> A <NA> <NA>")).toThrow(/^RTTM line 3: duration "-1"/);
    expect(() => parseRttm("SPEAKER a 1 0 1")).toThrow(/line 1: a SPEAKER record needs at least 8 fields/);
    expect(() => parseRttm("SPEAKER a one 0 1 <NA> <NA> A <NA> <NA>")).toThrow(/channel "one"/);
  });

  it("writes sorted md-eval-ready lines with 3 decimals, and file ids and names without spaces", () => {
    const text = formatRttm("my meeting", [t("Ann Lee", 2.0004, 3.5), t("Bob", 0.1, 1.23456)]);
    expect(text).toBe("SPEAKER my_meeting 1 0.100 1.135 <NA> <NA> Bob <NA> <NA>\nSPEAKER my_meeting 1 2.000 1.500 <NA> <NA> Ann_Lee <NA> <NA>\n");
    expect(formatRttm("empty", [])).toBe("");
  });

  it("reads back what it writes, grouped by file", () => {
    const turns = [t("A", 0, 1.5), t("B", 1.25, 4.75)];
    const byFile = rttmTurnsByFile(parseRttm(formatRttm("f1", turns) + formatRttm("f2", [t("C", 0, 1)])));
    expect([...byFile.keys()]).toEqual(["f1", "f2"]);
    expect(byFile.get("f1")).toEqual(turns);
  });
});
