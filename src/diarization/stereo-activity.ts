import type { RawTurn } from "./speaker-turns.js";

/** Per-channel frame levels (dBFS) of a file, one value per `frameMs`. */
export interface ChannelLevels {
  frameMs: number;
  /** [left, right]; a mono file gives two equal channels */
  db: [Float32Array, Float32Array];
}

export interface ActivityOptions {
  /** frames quieter than this are silence whatever the noise floor (silenceThresholdDb) */
  thresholdDb: number;
  /** speech shorter than this is dropped (clicks, coughs) */
  minOnMs: number;
  /** pauses shorter than this do not end a turn */
  minOffMs: number;
}

/** a frame is speech when this far above the channel's noise floor */
const MARGIN_DB = 10;
/**
 * A channel this much quieter than the other at the same moment carries the other speaker's bleed
 * (a headset picking up the room, a call's echo), not its own speech. whisper.cpp's stereo rule
 * calls a channel the speaker when it has 1.1x the other's energy; bleed sits far below that.
 */
const BLEED_DB = 15;

/** The channel's noise floor: the 10th percentile of its frame levels (robust to long speech). */
function noiseFloor(db: Float32Array): number {
  const sorted = Float32Array.from(db).sort();
  return sorted[Math.floor(sorted.length * 0.1)] ?? -100;
}

function activeFrames(own: Float32Array, other: Float32Array, options: ActivityOptions): boolean[] {
  const floor = noiseFloor(own);
  return Array.from(own, (db, i) => db > options.thresholdDb && db > floor + MARGIN_DB && db > (other[i] ?? -100) - BLEED_DB);
}

/** Frames to turns: gaps shorter than minOff bridged, turns shorter than minOn dropped. */
function framesToTurns(active: boolean[], frameMs: number, speaker: number, options: ActivityOptions): RawTurn[] {
  const turns: RawTurn[] = [];
  let start = -1;
  for (let i = 0; i <= active.length; i++) {
    if (i < active.length && active[i]) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    const turn = { start: start * frameMs, end: i * frameMs, speaker };
    const last = turns[turns.length - 1];
    if (last && turn.start - last.end < options.minOffMs) last.end = turn.end;
    else turns.push(turn);
    start = -1;
  }
  return turns.filter((t) => t.end - t.start >= options.minOnMs);
}

/**
 * Two-channel calls: one speaker per channel, turns from each channel's own speech activity (both
 * active = overlapping speech), independent of what was said.
 */
export function stereoTurns(levels: ChannelLevels, options: ActivityOptions): RawTurn[] {
  const [left, right] = levels.db;
  return [
    ...framesToTurns(activeFrames(left, right, options), levels.frameMs, 0, options),
    ...framesToTurns(activeFrames(right, left, options), levels.frameMs, 1, options),
  ];
}

/**
 * Whether the channels carry different signals (a call recorded one party per channel) rather than
 * the same mix twice: `auto` takes the stereo engine only then.
 */
export function channelsDiffer(levels: ChannelLevels): boolean {
  const [left, right] = levels.db;
  let loud = 0;
  let apart = 0;
  for (let i = 0; i < left.length; i++) {
    if (Math.max(left[i]!, right[i]!) < -60) continue;
    loud++;
    if (Math.abs(left[i]! - right[i]!) > 6) apart++;
  }
  return loud > 0 && apart / loud > 0.2;
}
