/**
 * NIST RTTM, the format diarization scorers read (md-eval.pl, dscore, pyannote.metrics):
 * `SPEAKER <file> 1 <onset s> <duration s> <NA> <NA> <speaker> <NA> <NA>`, one line per turn.
 * Fields are space-separated, so spaces in the file id or a speaker name become underscores.
 */
export function formatRttm(fileId: string, turns: { start: number; end: number; speaker: string }[]): string {
  const field = (s: string) => s.replace(/\s+/g, "_") || "_";
  return turns
    .filter((t) => t.end > t.start)
    .map((t) => `SPEAKER ${field(fileId)} 1 ${(t.start / 1000).toFixed(3)} ${((t.end - t.start) / 1000).toFixed(3)} <NA> <NA> ${field(t.speaker)} <NA> <NA>\n`)
    .join("");
}
