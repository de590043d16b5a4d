/**
 * Decides, frame by frame (30 ms), whether the audio is speech. The chunk planner computes each
 * frame's energy and hands the classifier the samples and those energies; the classifier answers
 * for the oldest frames it can decide, in order. An answer may come later than its frame (Silero
 * decides a stretch once it has heard the pause after it): the planner keeps the audio and the
 * energies of the frames still undecided.
 */
export interface SpeechClassifier {
  /** `frameDb`: the energy (dB) of each frame completed by these samples */
  push(samples: Float32Array, frameDb: readonly number[]): boolean[];
  /** End of stream; `frameDb` holds the last, partial frame (if any). Decides every frame left. */
  finish(frameDb: readonly number[]): boolean[];
  /** audio kept before and after speech, seconds (Silero's spans are already tight around the words) */
  readonly padSeconds: number;
}

export const FRAME_SECONDS = 0.03;
/** a frame is speech when it is this far above the recent noise floor (and above the threshold) */
const MARGIN_DB = 10;
/** the adaptive threshold never rises above this, so loud continuous speech stays speech */
const THRESHOLD_CAP_DB = -35;
const NOISE_WINDOW_SECONDS = 5;

/**
 * The energy VAD: a frame is speech when it is louder than `silenceThresholdDb` and well above the
 * quietest frame of the last 5 s (the noise floor). Decides every frame at once. Under a steady
 * noise floor it hears most of the noise as speech once the floor is near the threshold cap,
 * which is why Silero is the default.
 */
export class EnergyClassifier implements SpeechClassifier {
  readonly padSeconds = 0.2;
  private readonly ring: number[] = [];
  private readonly windowFrames = Math.round(NOISE_WINDOW_SECONDS / FRAME_SECONDS);

  constructor(private readonly thresholdDb: number) {}

  push(_samples: Float32Array, frameDb: readonly number[]): boolean[] {
    return frameDb.map((db) => db > this.threshold(db));
  }

  finish(frameDb: readonly number[]): boolean[] {
    return this.push(new Float32Array(0), frameDb);
  }

  private threshold(db: number): number {
    this.ring.push(db);
    if (this.ring.length > this.windowFrames) this.ring.shift();
    let floor = Infinity;
    for (const v of this.ring) if (v < floor) floor = v;
    return Math.max(this.thresholdDb, Math.min(floor + MARGIN_DB, THRESHOLD_CAP_DB));
  }
}
