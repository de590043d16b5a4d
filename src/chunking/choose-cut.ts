/** How close to the quietest frame (dB) a later frame may be and still be taken as the cut. */
const CUT_SLACK_DB = 3;
/**
 * A gap between words inside dense speech: at least GAP_FRAMES frames (120 ms, longer than a
 * consonant's closure) at least GAP_BELOW_SPEECH_DB below the speech's median level.
 */
const GAP_FRAMES = 4;
const GAP_BELOW_SPEECH_DB = 12;

export interface CutWindow {
  /** first frame the cut may be at */
  from: number;
  /** last frame the cut may be at: the chunk is full after it */
  limit: number;
  /** first frame of the quietest-frame search (never before `from`) */
  quietFrom: number;
  /** a run of pause frames this long is a usable pause wherever it lies; shorter ones only when they are the quietest */
  minPauseFrames: number;
  /** only cut at a pause frame; no cut when there is none */
  pauseOnly: boolean;
}

/**
 * Where to cut a stretch of speech that does not fit the chunk. Whisper pays a full 30 s window
 * whatever the chunk's length, so the cut goes as late as it safely can (issue 11, item 4): at the
 * later of the latest usable pause (a run of at least minPauseFrames frames the VAD heard as no
 * speech) and the latest frame within 3 dB of the quietest frame of the last stretch; a cut that
 * falls in a pause goes to the middle of it, so neither side loses the edge of a word. Speech with
 * no pause is so cut at its quietest point, never at a fixed time. `db` and `pause` are per frame;
 * returns the frame the next piece starts at (the cut is at its start), or undefined when
 * `pauseOnly` and no pause frame qualifies.
 */
export function chooseCut(db: readonly number[], pause: readonly boolean[], w: CutWindow): number | undefined {
  const run = latestPause(pause, w);
  const quiet = latestQuiet(db, pause, w);
  const gap = latestGap(db, w, run);
  if (run === undefined && quiet === undefined && gap === undefined) return w.pauseOnly ? undefined : w.limit;
  return Math.max(run ?? -1, gap ?? -1, quiet === undefined ? -1 : pause[quiet] === true ? middleOfPause(pause, quiet, w) : quiet);
}

/**
 * Dense speech the VAD hears as one stretch still has gaps between words: the middle of the latest
 * run of GAP_FRAMES frames GAP_BELOW_SPEECH_DB under the median level of the speech after the
 * latest pause (`after`), so a window of continuous reading fills up to its last word gap instead
 * of stopping at a pause seconds before the limit.
 */
function latestGap(db: readonly number[], w: CutWindow, after: number | undefined): number | undefined {
  const from = Math.max(0, w.from, w.quietFrom, after === undefined ? 0 : after + 1);
  const levels = db.slice(from, w.limit + 1).filter(Number.isFinite);
  if (levels.length < GAP_FRAMES * 4) return undefined;
  const median = [...levels].sort((x, y) => x - y)[Math.floor(levels.length / 2)]!;
  let end = w.limit;
  for (let f = w.limit; f >= from; f--) {
    if ((db[f] ?? Infinity) > median - GAP_BELOW_SPEECH_DB) {
      end = f - 1;
      continue;
    }
    if (end - f + 1 >= GAP_FRAMES) return Math.max(w.from, Math.min(end, Math.ceil((f + end + 1) / 2)));
  }
  return undefined;
}

/** The latest frame within CUT_SLACK_DB of the quietest eligible frame of [quietFrom, limit]. */
function latestQuiet(db: readonly number[], pause: readonly boolean[], w: CutWindow): number | undefined {
  const from = Math.max(0, w.from, w.quietFrom);
  const eligible = (f: number) => !w.pauseOnly || pause[f] === true;
  let quietest = Infinity;
  for (let f = from; f <= w.limit; f++) if (eligible(f)) quietest = Math.min(quietest, db[f] ?? Infinity);
  if (quietest === Infinity) return undefined;
  for (let f = w.limit; f >= from; f--) if (eligible(f) && (db[f] ?? Infinity) <= quietest + CUT_SLACK_DB) return f;
  return undefined;
}

/** The middle of the latest run of at least minPauseFrames pause frames ending within [from, limit]. */
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
    if (end - start + 1 >= w.minPauseFrames) return middle(start, end, w);
    end = start - 1;
  }
  return undefined;
}

/** The middle of the pause run that holds frame `f`, the run cut off at `limit`. */
function middleOfPause(pause: readonly boolean[], f: number, w: CutWindow): number {
  let start = f;
  while (start - 1 >= 0 && pause[start - 1] === true) start--;
  let end = f;
  while (end + 1 <= w.limit && pause[end + 1] === true) end++;
  return middle(start, end, w);
}

/** The first frame of the second half of [start, end], kept within [from, end]. */
const middle = (start: number, end: number, w: CutWindow) => Math.max(w.from, Math.min(end, Math.ceil((start + end + 1) / 2)));
