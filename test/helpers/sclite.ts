import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** NIST sclite from Debian's sctk package (.ci/run installs it): the reference WER scorer. */
const SCLITE = "/usr/lib/sctk/bin/sclite";

export function requireSclite(): void {
  if (!existsSync(SCLITE)) throw new Error(`${SCLITE} is missing: apt-get install sctk (CI installs it)`);
}

export interface ScliteCounts {
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

/** Per-utterance C/S/D/I from `sclite -s -o pra` (case-sensitive), keyed by utterance id. */
export function scliteScores(refTrn: string, hypTrn: string): { perId: Map<string, ScliteCounts>; werPercent: number } {
  const args = ["-r", refTrn, "trn", "-h", hypTrn, "trn", "-i", "spu_id", "-s"];
  const pra = execFileSync(SCLITE, [...args, "-o", "pra", "stdout"], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] }).toString();
  const perId = new Map<string, ScliteCounts>();
  for (const m of pra.matchAll(/id: \((.+)\)\nScores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)/g)) {
    perId.set(m[1]!, { correct: Number(m[2]), substitutions: Number(m[3]), deletions: Number(m[4]), insertions: Number(m[5]) });
  }
  const sum = execFileSync(SCLITE, [...args, "-o", "sum", "stdout"], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] }).toString();
  const row = /Sum\/Avg\s*\|\s*\d+\s+\d+\s*\|\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(sum);
  if (!row) throw new Error(`could not read sclite's summary:\n${sum}`);
  return { perId, werPercent: Number(row[5]) };
}
