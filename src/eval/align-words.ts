/**
 * Word alignment with NIST sclite's default costs (correct 0, substitution 4, insertion 3,
 * deletion 3), so that the S/D/I counts agree with `sclite` and not just the total: with unit
 * costs, "a b c" vs "a c b" could be scored as two substitutions, where sclite (and we) count
 * a deletion and an insertion.
 */
export type AlignOp = "C" | "S" | "D" | "I";

export interface Alignment {
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** reference length (words or characters) */
  refLength: number;
  ops: AlignOp[];
}

const SUB = 4;
const INS = 3;
const DEL = 3;

export function alignTokens(ref: readonly string[], hyp: readonly string[]): Alignment {
  const n = ref.length;
  const m = hyp.length;
  const width = m + 1;
  const cost = new Uint32Array((n + 1) * width);
  // back pointers: 0 diagonal, 1 deletion (up), 2 insertion (left)
  const back = new Uint8Array((n + 1) * width);
  for (let j = 1; j <= m; j++) {
    cost[j] = j * INS;
    back[j] = 2;
  }
  for (let i = 1; i <= n; i++) {
    const row = i * width;
    cost[row] = i * DEL;
    back[row] = 1;
    const r = ref[i - 1];
    for (let j = 1; j <= m; j++) {
      const diag = cost[row - width + j - 1]! + (r === hyp[j - 1] ? 0 : SUB);
      const del = cost[row - width + j]! + DEL;
      const ins = cost[row + j - 1]! + INS;
      // on equal cost, prefer the diagonal, then a deletion, then an insertion (as sclite does)
      let best = diag;
      let dir = 0;
      if (del < best) {
        best = del;
        dir = 1;
      }
      if (ins < best) {
        best = ins;
        dir = 2;
      }
      cost[row + j] = best;
      back[row + j] = dir;
    }
  }
  const ops: AlignOp[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const dir = back[i * width + j];
    if (i > 0 && j > 0 && dir === 0) {
      ops.push(ref[i - 1] === hyp[j - 1] ? "C" : "S");
      i--;
      j--;
    } else if (i > 0 && (j === 0 || dir === 1)) {
      ops.push("D");
      i--;
    } else {
      ops.push("I");
      j--;
    }
  }
  ops.reverse();
  const count = (op: AlignOp) => ops.reduce((k, o) => k + (o === op ? 1 : 0), 0);
  return { correct: count("C"), substitutions: count("S"), deletions: count("D"), insertions: count("I"), refLength: n, ops };
}
