/** How close to the quietest frame (dB) a later frame may be and still be taken as the cut. */
const CUT_SLACK_DB = 3;

export interface CutWindow {
  /** first frame a pause may be cut at */
  from: number;
  /** last frame the cut may be at: the chunk is full after it */
  limit: number;
  /** first frame of the quietest-point search, used when there is no pause */
  quietFrom: number;
  /** pauses shorter than this (frames) are not cut at: a stop consonant's closure is not a pause */
  minPauseFrames: number;
  /** only cut at a pause; no cut when there is none */
  pauseOnly: boolean;
}

/**
 * Where to cut a stretch of speech that does not fit the chunk (item 4 of issue 11): whisper pays
 * a full 30 s window whatever the chunk's length, so the cut goes at the LATEST pause before the
 * limit (in its middle, so neither side loses the edge of a word), and only when the speech has
 * no pause at all, at the quietest frame of the last stretch (the latest one within 3 dB of it).
 * `db` and `pause` are per frame; returns the frame the next piece starts at (the cut is at its
 * start), or undefined when `pauseOnly` and there is no pause.
 */
export function chooseCut(db: readonly number[], pause: readonly boolean[], w: CutWindow): number | undefined {
  const inPause = latestPause(pause, w);
  if (inPause !== undefined) return inPause;
  if (w.pauseOnly) return undefined;
  const from = Math.max(0, w.quietFrom);
  let quietest = Infinity;
  for (let f = from; f <= w.limit; f++) quietest = Math.min(quietest, db[f] ?? Infinity);
  for (let f = w.limit; f >= from; f--) if ((db[f] ?? Infinity) <= quietest + CUT_SLACK_DB) return f;
  return w.limit;
}

/** The middle of the latest run of at least minPauseFrames pause frames within [from, limit]. */
function latestPause(pause: readonly boolean[], w: CutWindow): number | undefined {
  const from = Math.max(0, w.from);
  let end = w.limit;
  while (end >= from) {
    if (pause[end] !== true) {
      end--;
      continue;
    }
    let start = end;
    while (start - 1 >= 0 && pause[start - 1] === true) start--;
    // a run that begins before `from` still counts; its cut stays within [from, limit]
    if (end - start + 1 >= w.minPauseFrames) return Math.max(from, Math.min(end, Math.ceil((start + end + 1) / 2)));
    end = start - 1;
  }
  return undefined;
}
