import { chooseCut } from "./choose-cut.js";
import { EnergyClassifier, FRAME_SECONDS, type SpeechClassifier } from "./speech-classifier.js";

/**
 * Streaming chunk packer over a VAD (a SpeechClassifier: Silero, or the energy VAD). Fed decoded
 * 16 kHz PCM block by block, it emits chunks of at most `maxChunkSeconds` of audio as soon as they
 * are decided, holding only the audio of the chunk being built and of the frames the VAD has not
 * decided yet (so a 10-hour file never sits in memory).
 *
 * A chunk is a list of spans of the file (sample offsets). Speech separated by a silence shorter
 * than `skipSilenceSeconds` stays in one span; longer silences are left out and the spans either
 * side are packed into the same chunk while they fit, because whisper encodes a full 30 s window
 * whatever the chunk's length: packing keeps the encoder busy with speech, not with silence.
 * When the next stretch of speech does not fit, it is cut at the latest pause inside it so that
 * the chunk leaves full; speech with no pause at all is cut at its quietest 30 ms frame shortly
 * before the limit (see chooseCut).
 *
 * The output is a pure function of the samples, so a resumed run plans exactly the same chunks
 * and can skip the ones already committed.
 */
export interface Span {
  /** first sample, inclusive */
  start: number;
  /** last sample, exclusive */
  end: number;
}

export interface PlannedChunk {
  index: number;
  spans: Span[];
  /** the spans' samples, concatenated */
  pcm: Float32Array;
}

export interface PlannerOptions {
  sampleRate?: number;
  maxChunkSeconds: number;
  skipSilenceSeconds: number;
  silenceThresholdDb: number;
  /** the VAD; default the energy VAD with silenceThresholdDb */
  classifier?: SpeechClassifier;
  /** audio kept before the first and after the last speech frame of a span; default the classifier's */
  padSeconds?: number;
  /** speech shorter than this (clicks, pops) is not transcribed */
  minSpeechSeconds?: number;
  cutSearchSeconds?: number;
}

/** 4: Silero VAD, cuts at the latest pause (issue 11); 5: Silero in 64 ms windows at threshold 0.3 */
export const PLANNER_VERSION = 5;
const MIN_PIECE_SECONDS = 3;
/** a chunk of its own is cut at a pause no earlier than this before the limit (else at the quietest point) */
const PAUSE_SEARCH_SECONDS = 12;
/** pauses shorter than this are not cut at */
const MIN_PAUSE_SECONDS = 0.09;

export class ChunkPlanner {
  readonly sampleRate: number;
  private readonly frame: number;
  private readonly maxSamples: number;
  private readonly gapFrames: number;
  private readonly padFrames: number;
  private readonly minSpeechFrames: number;
  private readonly cutSearchFrames: number;
  private readonly pauseSearchFrames: number;
  private readonly minPauseFrames: number;
  private readonly classifier: SpeechClassifier;
  /** energies of the frames the classifier has not decided yet, oldest first */
  private undecided: number[] = [];
  /** a chunk is not filled with a piece of speech shorter than this */
  private readonly minPieceSamples: number;

  /** retained audio: samples [bufStart, bufStart + bufLen) of the file */
  private buf = new Float32Array(0);
  private bufStart = 0;
  private bufLen = 0;
  /** partial frame waiting for more samples */
  private pending: number[] = [];
  private frameIndex = 0;
  private totalSamples = 0;

  private inRegion = false;
  private regionStart = 0;
  private lastSpeechFrame = -1;
  private regionSpeechFrames = 0;
  /** per-frame dB of the open region, for choosing a cut: index = frame - regionFirstFrame */
  private regionDb: number[] = [];
  /** per-frame: was the frame below the speech threshold (a pause inside the region) */
  private regionPause: boolean[] = [];
  private regionFirstFrame = 0;
  /** end (exclusive) of the last span handed to a chunk; no later span may start before it */
  private floor = 0;

  private spans: Span[] = [];
  private spanSamples = 0;
  private nextIndex = 0;
  private ready: PlannedChunk[] = [];

  constructor(options: PlannerOptions) {
    this.sampleRate = options.sampleRate ?? 16000;
    this.frame = Math.round(this.sampleRate * FRAME_SECONDS);
    this.maxSamples = Math.floor(options.maxChunkSeconds * this.sampleRate);
    this.gapFrames = Math.max(1, Math.round(options.skipSilenceSeconds / FRAME_SECONDS));
    this.classifier = options.classifier ?? new EnergyClassifier(options.silenceThresholdDb);
    this.padFrames = Math.round((options.padSeconds ?? this.classifier.padSeconds) / FRAME_SECONDS);
    this.minSpeechFrames = Math.max(1, Math.round((options.minSpeechSeconds ?? 0.09) / FRAME_SECONDS));
    this.cutSearchFrames = Math.max(1, Math.round((options.cutSearchSeconds ?? 8) / FRAME_SECONDS));
    this.pauseSearchFrames = Math.round(PAUSE_SEARCH_SECONDS / FRAME_SECONDS);
    this.minPauseFrames = Math.max(1, Math.round(MIN_PAUSE_SECONDS / FRAME_SECONDS));
    this.minPieceSamples = Math.round(MIN_PIECE_SECONDS * this.sampleRate);
    if (this.padFrames * 2 >= this.gapFrames) {
      // padding both sides of a skipped silence must not make the spans overlap
      this.padFrames = Math.floor((this.gapFrames - 1) / 2);
    }
  }

  /** Feeds samples; returns the chunks completed by them. */
  push(samples: Float32Array): PlannedChunk[] {
    this.append(samples);
    const dbs: number[] = [];
    let offset = 0;
    if (this.pending.length > 0) {
      const need = this.frame - this.pending.length;
      const take = Math.min(need, samples.length);
      for (let i = 0; i < take; i++) this.pending.push(samples[i]!);
      offset = take;
      if (this.pending.length === this.frame) {
        dbs.push(energyDb(Float32Array.from(this.pending), 0, this.frame));
        this.pending = [];
      }
    }
    while (offset + this.frame <= samples.length) {
      dbs.push(energyDb(samples, offset, offset + this.frame));
      offset += this.frame;
    }
    for (let i = offset; i < samples.length; i++) this.pending.push(samples[i]!);
    this.decide(dbs, this.classifier.push(samples, dbs));
    return this.drain();
  }

  /** Ends the stream; returns the last chunks. */
  finish(): PlannedChunk[] {
    const dbs = this.pending.length > 0 ? [energyDb(Float32Array.from(this.pending), 0, this.pending.length)] : [];
    this.pending = [];
    this.decide(dbs, this.classifier.finish(dbs));
    if (this.inRegion) this.closeRegion(this.totalSamples);
    this.emitChunk();
    return this.drain();
  }

  /** Queues the new frames' energies and processes the frames the classifier has decided. */
  private decide(dbs: number[], decisions: boolean[]): void {
    for (const db of dbs) this.undecided.push(db);
    if (decisions.length > this.undecided.length) throw new Error("speech classifier decided frames it was not given");
    for (let i = 0; i < decisions.length; i++) this.processFrame(this.undecided[i]!, decisions[i]!);
    this.undecided = this.undecided.slice(decisions.length);
  }

  get samplesSeen(): number {
    return this.totalSamples;
  }

  private drain(): PlannedChunk[] {
    const out = this.ready;
    this.ready = [];
    this.trimBuffer();
    return out;
  }

  private append(samples: Float32Array): void {
    if (this.bufLen + samples.length > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + samples.length, 16000));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
    this.totalSamples += samples.length;
  }

  /** Drops audio that no future span can include. */
  private trimBuffer(): void {
    let keepFrom = Math.max(0, (this.frameIndex - this.padFrames - 1) * this.frame);
    if (this.inRegion) keepFrom = Math.min(keepFrom, this.regionStart);
    for (const span of this.spans) keepFrom = Math.min(keepFrom, span.start);
    const drop = keepFrom - this.bufStart;
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.bufLen);
    this.bufLen -= drop;
    this.bufStart = keepFrom;
    if (this.buf.length > 4 * Math.max(this.bufLen, this.maxSamples)) {
      this.buf = this.buf.slice(0, Math.max(this.bufLen, this.maxSamples));
    }
  }

  private processFrame(db: number, speech: boolean): void {
    const f = this.frameIndex++;
    if (this.inRegion) {
      this.regionDb.push(db);
      this.regionPause.push(!speech);
      if (speech) {
        this.lastSpeechFrame = f;
        this.regionSpeechFrames++;
      } else if (f - this.lastSpeechFrame >= this.gapFrames) {
        this.closeRegion((this.lastSpeechFrame + 1 + this.padFrames) * this.frame);
        return;
      }
      this.checkOverflow(f);
    } else if (speech) {
      this.inRegion = true;
      this.regionStart = Math.max(this.floor, (f - this.padFrames) * this.frame);
      this.regionFirstFrame = Math.floor(this.regionStart / this.frame);
      this.regionDb = [];
      this.regionPause = [];
      // frames of the leading pad (already seen) count as silence when choosing a cut
      for (let i = this.regionFirstFrame; i < f; i++) {
        this.regionDb.push(-Infinity);
        this.regionPause.push(true);
      }
      this.regionDb.push(db);
      this.regionPause.push(false);
      this.lastSpeechFrame = f;
      this.regionSpeechFrames = 1;
      this.checkOverflow(f);
    }
  }

  /**
   * Keeps the open region within what the current chunk, or an empty chunk, can take. When the
   * current chunk has room left and the region has a pause (a non-speech frame) before the point
   * where the chunk would be full, the region is cut there: the chunk leaves full and whisper
   * encodes fewer windows.
   */
  private checkOverflow(f: number): void {
    const openEnd = (f + 1) * this.frame;
    if (this.spanSamples + (openEnd - this.regionStart) <= this.maxSamples) return;
    if (this.spans.length > 0) {
      const room = this.maxSamples - this.spanSamples;
      if (room >= this.minPieceSamples && this.cutRegion(this.regionStart + room, true)) return;
      this.emitChunk();
      if (openEnd - this.regionStart <= this.maxSamples) return;
    }
    this.cutRegion(this.regionStart + this.maxSamples, false);
  }

  /**
   * Cuts the open region before sample `limit` (see chooseCut): at the latest pause, else (unless
   * `pauseOnly`) at the quietest frame of the last stretch. Returns false when no cut was made.
   */
  private cutRegion(limit: number, pauseOnly: boolean): boolean {
    const first = this.regionFirstFrame;
    const limitFrame = Math.floor(limit / this.frame) - 1 - first;
    const minFrom = 1;
    const from = pauseOnly
      ? Math.max(minFrom, Math.ceil((this.regionStart + this.minPieceSamples) / this.frame) - first)
      : Math.max(minFrom, limitFrame - this.pauseSearchFrames);
    const window = { from, limit: limitFrame, quietFrom: Math.max(minFrom, limitFrame - this.cutSearchFrames), minPauseFrames: this.minPauseFrames, pauseOnly };
    const best = chooseCut(this.regionDb, this.regionPause, window);
    if (best === undefined) return false;
    const cut = Math.min((first + best) * this.frame, limit);
    this.addSpan({ start: this.regionStart, end: cut });
    this.emitChunk();
    const drop = Math.floor(cut / this.frame) - first;
    this.regionDb = this.regionDb.slice(drop);
    this.regionPause = this.regionPause.slice(drop);
    this.regionFirstFrame = Math.floor(cut / this.frame);
    this.regionStart = cut;
    this.regionSpeechFrames = this.minSpeechFrames; // a continuation is speech by construction
    return true;
  }

  private closeRegion(endSample: number): void {
    this.inRegion = false;
    const end = Math.min(endSample, this.totalSamples);
    if (this.regionSpeechFrames < this.minSpeechFrames || end <= this.regionStart) return;
    const span = { start: this.regionStart, end };
    if (this.spanSamples + (span.end - span.start) > this.maxSamples) this.emitChunk();
    this.addSpan(span);
  }

  private addSpan(span: Span): void {
    if (span.end <= span.start) return;
    this.spans.push(span);
    this.spanSamples += span.end - span.start;
    this.floor = span.end;
  }

  private emitChunk(): void {
    if (this.spans.length === 0) return;
    const pcm = new Float32Array(this.spanSamples);
    let at = 0;
    for (const span of this.spans) {
      pcm.set(this.buf.subarray(span.start - this.bufStart, span.end - this.bufStart), at);
      at += span.end - span.start;
    }
    this.ready.push({ index: this.nextIndex++, spans: this.spans, pcm });
    this.spans = [];
    this.spanSamples = 0;
  }
}

function energyDb(samples: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return 10 * Math.log10(sum / Math.max(1, to - from) + 1e-12);
}

/**
 * Maps a time inside a chunk's concatenated audio back to the file's own time. `atEnd` picks the
 * earlier span when the time falls exactly on a boundary (a segment's end belongs to the span it
 * ends in).
 */
export function chunkTimeToFileMs(spans: Span[], chunkMs: number, sampleRate: number, atEnd = false): number {
  const perMs = sampleRate / 1000;
  let sample = Math.max(0, chunkMs * perMs);
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    const len = span.end - span.start;
    const last = i === spans.length - 1;
    if (sample < len || (atEnd && sample === len) || last) {
      return (span.start + Math.min(sample, len)) / perMs;
    }
    sample -= len;
  }
  return 0;
}
