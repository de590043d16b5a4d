import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** NIST md-eval (Debian's sctk): the reference scorer for diarization error rate. */
const MD_EVAL = "/usr/lib/sctk/bin/md-eval.pl";

/** DER in percent as md-eval computes it (`-c` collar in seconds, `-1` to skip overlapping speech). */
export function mdEvalDer(reference: string, hypothesis: string, options: { collar: number; skipOverlap?: boolean; uem?: string }): number {
  if (!existsSync(MD_EVAL)) throw new Error(`${MD_EVAL} is missing: apt-get install sctk`);
  const args = [
    MD_EVAL,
    "-r",
    reference,
    "-s",
    hypothesis,
    "-c",
    String(options.collar),
    ...(options.skipOverlap ? ["-1"] : []),
    ...(options.uem ? ["-u", options.uem] : []),
  ];
  const out = execFileSync("perl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const m = /OVERALL SPEAKER DIARIZATION ERROR = ([\d.]+) percent/.exec(out);
  if (!m) throw new Error(`md-eval printed no DER:\n${out.slice(-2000)}`);
  return Number(m[1]);
}
