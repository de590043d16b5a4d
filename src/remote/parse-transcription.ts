import type { RawSegment, RawToken } from "../engine/worker-protocol.js";
import { SpeechflowError } from "../errors/speechflow-error.js";

/**
 * Turns what an OpenAI-style `/v1/audio/transcriptions` endpoint answered into the segments the
 * local engine would have produced for the same chunk. One parser covers the dialects we target:
 *
 * - verbose_json (OpenAI whisper-1, Groq, speaches, whisper.cpp's whisper-server, vLLM):
 *   `{ text, language, duration, segments: [{ start, end, text, avg_logprob, words? }], words? }`
 * - json (gpt-4o-transcribe, or any service asked for `json`): `{ text, usage? }`
 * - text (response_format `text`): a plain string
 *
 * It is pure: no I/O, no clock, so every service's shape can be pinned down by unit tests.
 */

/** The chunk the request was about: timestamps are clamped into it. */
export interface TranscriptionWindow {
  /** length of the uploaded chunk's audio, ms */
  durationMs: number;
}

export interface ParseTranscriptionOptions {
  /** keep word/token timestamps as `tokens` on the segments (they cost memory and are only used for word output) */
  words?: boolean;
  /** named in error messages ("groq answered with an unexpected shape: ..."); defaults to a generic name */
  service?: string;
}

export interface ParsedTranscription {
  /** in chunk time (ms from the start of the uploaded audio), clamped to the window */
  segments: RawSegment[];
  /** ISO-639-1 code where we know the name, else what the service said, lower-cased; null when not given */
  language: string | null;
  /** "segment": the service gave timed segments; "text": only text, spread over the whole window */
  granularity: "segment" | "text";
  /** the audio duration the service reports (seconds), when it reports one */
  durationSec: number | null;
  /** the service's own id for the request (Groq's `x_groq.id`), for support tickets and logs */
  requestId?: string;
}

export function parseTranscription(body: unknown, window: TranscriptionWindow, options: ParseTranscriptionOptions = {}): ParsedTranscription {
  // annotated, so TypeScript narrows after fail() calls (it returns never)
  const fail: Fail = failer(options.service ?? "the transcription service", body);
  const windowMs = Math.max(0, window.durationMs);
  // response_format "text": the body is the transcript itself
  if (typeof body === "string") return textOnly(body, [], windowMs, { language: null, durationSec: null });
  if (!isRecord(body)) fail("the body is neither a JSON object nor text");
  if (typeof body.text !== "string") fail("`text` is missing or not a string");
  const meta = {
    language: readLanguage(body.language, fail),
    durationSec: readDuration(body, fail),
    requestId: readRequestId(body),
  };
  // words are only read (and checked) when wanted: a malformed field we ignore is not a failure
  const segments = readSegments(body.segments, windowMs, fail, options.words === true);
  const topLevelWords = options.words ? readWords(body.words, "words", windowMs, fail, true) : [];
  // json shape, or verbose_json asked for words only (OpenAI then leaves out `segments`), or a
  // service that found speech but gave no segment for it: keep the text, spread over the window
  if (segments.length === 0 && (body.segments === undefined || body.segments === null || body.text.trim() !== "")) {
    return textOnly(body.text, topLevelWords, windowMs, meta);
  }
  attachWords(segments, topLevelWords);
  if (meta.language) for (const segment of segments) segment.lang = meta.language;
  return { segments, granularity: "segment", ...withoutUndefined(meta) };
}

type Fail = (reason: string) => never;

/**
 * Errors say which service sent what, so a misconfigured base URL (an HTML login page, a proxy's
 * error) is recognisable from the message alone. REMOTE_FAILED and not retryable: the same service
 * would answer the same window the same way.
 */
function failer(service: string, body: unknown): Fail {
  return (reason) => {
    throw new SpeechflowError("REMOTE_FAILED", `${service} answered with an unexpected shape: ${reason} (body: ${preview(body)})`, { retryable: false });
  };
}

function preview(body: unknown): string {
  let text: string;
  try {
    text = typeof body === "string" ? body : (JSON.stringify(body) ?? String(body));
  } catch {
    text = String(body);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Drops absent optional fields, so results compare cleanly with toEqual and serialise small. */
function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A text-only answer has no timing: the best we can say is "somewhere in this window". */
function textOnly(
  text: string,
  words: RawToken[],
  windowMs: number,
  meta: { language: string | null; durationSec: number | null; requestId?: string },
): ParsedTranscription {
  // silence: an empty transcript is no segment at all, not an empty one spanning the window
  const segments: RawSegment[] = text.trim() === "" ? [] : [{ from: 0, to: windowMs, text }];
  const [segment] = segments;
  if (segment && words.length > 0) segment.tokens = words;
  if (segment && meta.language) segment.lang = meta.language;
  return { segments, granularity: "text", ...withoutUndefined(meta) };
}

function readSegments(value: unknown, windowMs: number, fail: Fail, words: boolean): RawSegment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail("`segments` is not an array");
  return value.map((raw, i) => readSegment(raw, i, windowMs, fail, words));
}

function readSegment(raw: unknown, index: number, windowMs: number, fail: Fail, words: boolean): RawSegment {
  const where = `segments[${index}]`;
  if (!isRecord(raw)) fail(`${where} is not an object`);
  if (typeof raw.text !== "string") fail(`${where}.text is missing or not a string`);
  const start = seconds(raw.start, `${where}.start`, fail);
  const end = seconds(raw.end, `${where}.end`, fail);
  const [from, to] = clampSpan(start, end, windowMs);
  const segment: RawSegment = { from, to, text: raw.text };
  const confidence = readConfidence(raw.avg_logprob, `${where}.avg_logprob`, fail);
  if (confidence !== undefined) segment.confidence = confidence;
  // whisper-server and speaches put the words inside each segment
  const tokens = words ? readWords(raw.words, `${where}.words`, windowMs, fail, false) : [];
  if (tokens.length > 0) segment.tokens = tokens;
  return segment;
}

function seconds(value: unknown, where: string, fail: Fail): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${where} is missing or not a number of seconds`);
  return value;
}

/**
 * Services time segments against the audio *they* decoded, which can run a few ms past ours
 * (resampling, codec padding) or be slightly negative; the pipeline maps chunk time back to file
 * time and expects every timestamp inside the chunk, so clamp here, once.
 */
function clampSpan(startSec: number, endSec: number, windowMs: number): [number, number] {
  const from = clamp(Math.round(startSec * 1000), 0, windowMs);
  const to = clamp(Math.round(endSec * 1000), from, windowMs);
  return [from, to];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** whisper's avg_logprob is the mean token log-probability: exp() puts it on the local engine's 0..1 scale. */
function readConfidence(value: unknown, where: string, fail: Fail): number | undefined {
  // vLLM sends null when it did not compute it
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${where} is not a number`);
  // a log-probability above 0 is a rounding artefact: cap the confidence at 1
  return Math.exp(Math.min(0, value));
}

/**
 * Words become tokens the transcript assembler understands. Its rule is whisper's: a token that
 * starts with a space starts a new word. whisper-server's per-segment `words` really are tokens
 * (" Hel", "lo") and faster-whisper's words already carry their leading space, so per-segment
 * entries are kept verbatim; OpenAI's and Groq's top-level words ("Hello") do not, so they get one.
 */
function readWords(value: unknown, where: string, windowMs: number, fail: Fail, topLevel: boolean): RawToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`\`${where}\` is not an array`);
  return value.map((raw, i) => readWord(raw, `${where}[${i}]`, windowMs, fail, topLevel));
}

function readWord(raw: unknown, where: string, windowMs: number, fail: Fail, topLevel: boolean): RawToken {
  if (!isRecord(raw)) fail(`${where} is not an object`);
  if (typeof raw.word !== "string") fail(`${where}.word is missing or not a string`);
  const text = topLevel && !/^\s/.test(raw.word) ? ` ${raw.word}` : raw.word;
  if (raw.probability !== undefined && (typeof raw.probability !== "number" || !Number.isFinite(raw.probability))) {
    fail(`${where}.probability is not a number`);
  }
  const token: RawToken = { text, id: -1, p: typeof raw.probability === "number" ? raw.probability : 1 };
  // whisper-server leaves word times out when token timestamps are off: then the word has none
  if (raw.start === undefined && raw.end === undefined) return token;
  const [from, to] = clampSpan(seconds(raw.start, `${where}.start`, fail), seconds(raw.end, `${where}.end`, fail), windowMs);
  return { ...token, from, to };
}

/**
 * Top-level words (OpenAI, Groq) go to the segment they fall in: the last one starting at or
 * before the word's middle. Segments that already hold their own words (whisper-server,
 * speaches) keep them, and top-level words are then ignored, as speaches sends both copies.
 */
function attachWords(segments: RawSegment[], words: RawToken[]): void {
  if (words.length === 0 || segments.some((s) => s.tokens !== undefined)) return;
  for (const word of words) {
    const middle = word.from === undefined || word.to === undefined ? 0 : (word.from + word.to) / 2;
    let index = 0;
    segments.forEach((segment, i) => {
      if (segment.from <= middle) index = i;
    });
    const segment = segments[index]!;
    segment.tokens ??= [];
    segment.tokens.push(word);
  }
}

/** vLLM sends `duration` as a string ("7.43"); everyone else as a number. */
function readDuration(body: Record<string, unknown>, fail: Fail): number | null {
  const value = body.duration;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  if (value !== undefined && value !== null) fail("`duration` is not a number of seconds");
  // json shapes billed by duration (whisper-1, vLLM) report it as usage
  const usage = body.usage;
  if (isRecord(usage) && usage.type === "duration" && typeof usage.seconds === "number" && Number.isFinite(usage.seconds)) return usage.seconds;
  return null;
}

function readRequestId(body: Record<string, unknown>): string | undefined {
  const groq = body.x_groq;
  return isRecord(groq) && typeof groq.id === "string" && groq.id !== "" ? groq.id : undefined;
}

/**
 * whisper-1, Groq and whisper-server name the language ("english", "English"); speaches and vLLM
 * give a code ("en"). Transcripts store codes, like the local engine's, so names are mapped back.
 */
const LANGUAGE_CODES: Record<string, string> = {
  english: "en",
  chinese: "zh",
  german: "de",
  spanish: "es",
  russian: "ru",
  korean: "ko",
  french: "fr",
  japanese: "ja",
  portuguese: "pt",
  turkish: "tr",
  polish: "pl",
  catalan: "ca",
  dutch: "nl",
  arabic: "ar",
  swedish: "sv",
  italian: "it",
  indonesian: "id",
  hindi: "hi",
  finnish: "fi",
  vietnamese: "vi",
  hebrew: "he",
  ukrainian: "uk",
  greek: "el",
  czech: "cs",
  romanian: "ro",
  danish: "da",
  hungarian: "hu",
  norwegian: "no",
  thai: "th",
};

export function normalizeLanguage(name: string): string | null {
  const key = name.trim().toLowerCase();
  if (key === "") return null;
  return LANGUAGE_CODES[key] ?? key;
}

function readLanguage(value: unknown, fail: Fail): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") fail("`language` is not a string");
  return normalizeLanguage(value);
}
