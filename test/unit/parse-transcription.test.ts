import { describe, expect, it } from "vitest";
import { SpeechflowError } from "../../src/errors/speechflow-error.js";
import { assembleTranscript } from "../../src/outputs/transcript.js";
import { normalizeLanguage, parseTranscription } from "../../src/remote/parse-transcription.js";

/*
 * Shape samples, written for these tests after each service's documentation or source (values are
 * ours, the field names, types and nesting are theirs):
 * - OPENAI_VERBOSE, OPENAI_WORDS: OpenAI API reference, "The transcription object (Verbose JSON)" and
 *   `TranscriptionVerbose` / `TranscriptionSegment` / `TranscriptionWord` in the openai v6 package's
 *   resources/audio/transcriptions.d.ts (top-level `words` of {word,start,end}, usage of type duration).
 * - GPT4O_JSON: same reference, "The transcription object (JSON)" with token usage (gpt-4o-transcribe).
 * - GROQ_VERBOSE, GROQ_JSON: Groq speech-to-text docs (console.groq.com/docs/speech-text): OpenAI's
 *   fields plus `x_groq: { id }`; language given as a name.
 * - SPEACHES_VERBOSE: speaches src/speaches/api_types.py (CreateTranscriptionResponseVerboseJson):
 *   language code, per-segment `words` with probability, and the same words again at the top level.
 * - WHISPER_SERVER_VERBOSE: whisper.cpp examples/server-common.cpp format_verbose_json: language as
 *   a full name, per-segment `words` built from tokens (with probability), detected_language extras.
 * - VLLM_VERBOSE: vLLM entrypoints/openai protocol.py TranscriptionResponseVerbose: `duration: str`,
 *   `avg_logprob: float | None`, language code.
 */

const OPENAI_VERBOSE = {
  task: "transcribe",
  language: "english",
  duration: 9.52,
  text: "The ferry leaves at nine. Bring a coat, it gets cold on the water.",
  segments: [
    {
      id: 0,
      seek: 0,
      start: 0.0,
      end: 2.84,
      text: " The ferry leaves at nine.",
      tokens: [50364, 440, 25706],
      temperature: 0.0,
      avg_logprob: -0.2,
      compression_ratio: 1.1,
      no_speech_prob: 0.004,
    },
    {
      id: 1,
      seek: 0,
      start: 2.84,
      end: 9.52,
      text: " Bring a coat, it gets cold on the water.",
      tokens: [50506, 24948, 257],
      temperature: 0.0,
      avg_logprob: -0.45,
      compression_ratio: 1.1,
      no_speech_prob: 0.004,
    },
  ],
  usage: { type: "duration", seconds: 10 },
};

const OPENAI_WORDS = {
  ...OPENAI_VERBOSE,
  words: [
    { word: "The", start: 0.0, end: 0.3 },
    { word: "ferry", start: 0.3, end: 0.8 },
    { word: "leaves", start: 0.8, end: 1.3 },
    { word: "at", start: 1.3, end: 1.5 },
    { word: "nine", start: 1.5, end: 2.8 },
    { word: "Bring", start: 3.1, end: 3.5 },
    { word: "a", start: 3.5, end: 3.6 },
    { word: "coat", start: 3.6, end: 4.2 },
  ],
};

const GPT4O_JSON = {
  text: "The ferry leaves at nine.",
  usage: { type: "tokens", input_tokens: 31, output_tokens: 7, total_tokens: 38, input_token_details: { text_tokens: 0, audio_tokens: 31 } },
};

const GROQ_VERBOSE = {
  task: "transcribe",
  language: "English",
  duration: 4.2,
  text: " Good morning, everyone.",
  segments: [
    {
      id: 0,
      seek: 0,
      start: 0,
      end: 4.2,
      text: " Good morning, everyone.",
      tokens: [50365, 2205, 2446],
      temperature: 0,
      avg_logprob: -0.12,
      compression_ratio: 0.8,
      no_speech_prob: 0.02,
    },
  ],
  x_groq: { id: "req_01jt8q6example" },
};

const GROQ_JSON = { text: " Good morning, everyone.", x_groq: { id: "req_01jt8q7example" } };

const SPEACHES_VERBOSE = {
  task: "transcribe",
  language: "en",
  duration: 3.0,
  text: "Hello there.",
  words: [
    { start: 0.0, end: 0.52, word: " Hello", probability: 0.91, speaker: null },
    { start: 0.52, end: 1.1, word: " there.", probability: 0.84, speaker: null },
  ],
  segments: [
    {
      avg_logprob: -0.3,
      compression_ratio: 0.6,
      end: 1.1,
      id: 1,
      no_speech_prob: 0.01,
      seek: 0,
      start: 0.0,
      temperature: 0.0,
      text: " Hello there.",
      tokens: [50364, 2425, 456],
      words: [
        { start: 0.0, end: 0.52, word: " Hello", probability: 0.91, speaker: null },
        { start: 0.52, end: 1.1, word: " there.", probability: 0.84, speaker: null },
      ],
      speaker: null,
    },
  ],
};

const WHISPER_SERVER_VERBOSE = {
  task: "transcribe",
  language: "german",
  duration: 2.5,
  text: " Guten Morgen.\n",
  detected_language: "german",
  detected_language_probability: 0.93,
  language_probabilities: { de: 0.93, en: 0.05 },
  segments: [
    {
      id: 0,
      text: " Guten Morgen.",
      start: 0.0,
      end: 2.5,
      // tokens, not words: " Gut" + "en" make one word
      words: [
        { word: " Gut", start: 0.0, end: 0.4, probability: 0.8 },
        { word: "en", start: 0.4, end: 0.7, probability: 0.95 },
        { word: " Morgen", start: 0.7, end: 1.6, probability: 0.9 },
        { word: ".", start: 1.6, end: 1.7, probability: 0.99 },
      ],
      tokens: [31950, 268, 26892, 13],
      temperature: 0.0,
      avg_logprob: -0.15,
      no_speech_prob: 0.01,
    },
  ],
};

const VLLM_VERBOSE = {
  duration: "5.0",
  language: "en",
  text: " Testing one two three.",
  segments: [
    {
      id: 0,
      avg_logprob: null,
      compression_ratio: null,
      end: 2.4,
      no_speech_prob: null,
      seek: 0,
      start: 0.0,
      temperature: 0.0,
      text: " Testing one two three.",
      tokens: [50365, 45517],
    },
  ],
  words: null,
};

const window = (durationMs: number) => ({ durationMs });

describe("parseTranscription: one case per service", () => {
  it("OpenAI whisper-1 verbose_json: seconds to ms, exp(avg_logprob) as confidence, language name to code", () => {
    const parsed = parseTranscription(OPENAI_VERBOSE, window(10_000));
    expect(parsed).toEqual({
      granularity: "segment",
      language: "en",
      durationSec: 9.52,
      segments: [
        { from: 0, to: 2840, text: " The ferry leaves at nine.", confidence: Math.exp(-0.2), lang: "en" },
        { from: 2840, to: 9520, text: " Bring a coat, it gets cold on the water.", confidence: Math.exp(-0.45), lang: "en" },
      ],
    });
  });

  it("OpenAI gpt-4o-transcribe json: text only, spread over the whole window", () => {
    expect(parseTranscription(GPT4O_JSON, window(6_000))).toEqual({
      granularity: "text",
      language: null,
      durationSec: null,
      segments: [{ from: 0, to: 6_000, text: "The ferry leaves at nine." }],
    });
  });

  it("whisper-1 json with duration usage: text only, duration from usage", () => {
    const parsed = parseTranscription({ text: " Hi.", usage: { type: "duration", seconds: 3 } }, window(2_900));
    expect(parsed.granularity).toBe("text");
    expect(parsed.durationSec).toBe(3);
  });

  it("Groq verbose_json: x_groq.id becomes the request id, capitalised language name normalised", () => {
    const parsed = parseTranscription(GROQ_VERBOSE, window(4_200));
    expect(parsed.requestId).toBe("req_01jt8q6example");
    expect(parsed.language).toBe("en");
    expect(parsed.segments).toEqual([{ from: 0, to: 4200, text: " Good morning, everyone.", confidence: Math.exp(-0.12), lang: "en" }]);
  });

  it("Groq json: text only with the request id", () => {
    expect(parseTranscription(GROQ_JSON, window(4_000))).toEqual({
      granularity: "text",
      language: null,
      durationSec: null,
      requestId: "req_01jt8q7example",
      segments: [{ from: 0, to: 4000, text: " Good morning, everyone." }],
    });
  });

  it("speaches verbose_json: language code kept, per-segment words used once (not doubled by the top-level copy)", () => {
    const parsed = parseTranscription(SPEACHES_VERBOSE, window(3_000), { words: true });
    expect(parsed.language).toBe("en");
    expect(parsed.durationSec).toBe(3);
    expect(parsed.segments[0]!.tokens).toEqual([
      { text: " Hello", id: -1, p: 0.91, from: 0, to: 520 },
      { text: " there.", id: -1, p: 0.84, from: 520, to: 1100 },
    ]);
  });

  it("whisper-server verbose_json: per-segment words are tokens and are kept verbatim", () => {
    const parsed = parseTranscription(WHISPER_SERVER_VERBOSE, window(2_500), { words: true });
    expect(parsed.language).toBe("de");
    expect(parsed.segments).toHaveLength(1);
    expect(parsed.segments[0]).toMatchObject({ from: 0, to: 2500, text: " Guten Morgen.", lang: "de", confidence: Math.exp(-0.15) });
    expect(parsed.segments[0]!.tokens!.map((t) => t.text)).toEqual([" Gut", "en", " Morgen", "."]);
    expect(parsed.segments[0]!.tokens![1]).toEqual({ text: "en", id: -1, p: 0.95, from: 400, to: 700 });
  });

  it("vLLM verbose_json: duration as a string, null avg_logprob means no confidence", () => {
    const parsed = parseTranscription(VLLM_VERBOSE, window(5_000), { words: true });
    expect(parsed.durationSec).toBe(5);
    expect(parsed.language).toBe("en");
    expect(parsed.segments).toEqual([{ from: 0, to: 2400, text: " Testing one two three.", lang: "en" }]);
  });

  it("response_format text: a plain string is a text-only transcript", () => {
    expect(parseTranscription(" Guten Morgen.\n", window(2_500))).toEqual({
      granularity: "text",
      language: null,
      durationSec: null,
      segments: [{ from: 0, to: 2500, text: " Guten Morgen.\n" }],
    });
  });
});

describe("parseTranscription: timestamps", () => {
  it("clamps segments into the window and keeps from <= to", () => {
    const body = {
      text: "a b c",
      segments: [
        { start: -0.2, end: 1.0, text: " a" },
        { start: 3.9, end: 4.3, text: " b" },
        { start: 5.0, end: 6.0, text: " c" },
        { start: 2.0, end: 1.5, text: " d" },
      ],
    };
    const spans = parseTranscription(body, window(4_000)).segments.map((s) => [s.from, s.to]);
    expect(spans).toEqual([
      [0, 1000],
      [3900, 4000],
      [4000, 4000],
      [2000, 2000],
    ]);
  });

  it("clamps word timestamps too", () => {
    const body = { text: "x", segments: [{ start: 0, end: 2.1, text: " x" }], words: [{ word: "x", start: 1.9, end: 2.3 }] };
    expect(parseTranscription(body, window(2_000), { words: true }).segments[0]!.tokens).toEqual([{ text: " x", id: -1, p: 1, from: 1900, to: 2000 }]);
  });

  it("accepts numeric-string durations with spaces and decimals", () => {
    expect(parseTranscription({ text: "", duration: " 12.75 " }, window(1)).durationSec).toBe(12.75);
  });
});

describe("parseTranscription: words", () => {
  it("puts OpenAI's top-level words on the segment they fall in, with a leading space and p = 1", () => {
    const parsed = parseTranscription(OPENAI_WORDS, window(10_000), { words: true });
    const [first, second] = parsed.segments;
    expect(first!.tokens!.map((t) => t.text)).toEqual([" The", " ferry", " leaves", " at", " nine"]);
    expect(second!.tokens!.map((t) => t.text)).toEqual([" Bring", " a", " coat"]);
    expect(first!.tokens![1]).toEqual({ text: " ferry", id: -1, p: 1, from: 300, to: 800 });
  });

  it("leaves tokens out unless words are asked for", () => {
    for (const body of [OPENAI_WORDS, SPEACHES_VERBOSE, WHISPER_SERVER_VERBOSE]) {
      for (const segment of parseTranscription(body, window(10_000)).segments) expect(segment.tokens).toBeUndefined();
    }
  });

  it("keeps words asked for without segments (timestamp_granularities=[word]) on the text-only segment", () => {
    const { segments: _dropped, ...wordsOnly } = OPENAI_WORDS;
    const parsed = parseTranscription(wordsOnly, window(10_000), { words: true });
    expect(parsed.granularity).toBe("text");
    expect(parsed.segments).toHaveLength(1);
    expect(parsed.segments[0]!.tokens).toHaveLength(8);
  });

  it("gives the transcript assembler one word per OpenAI word and merges whisper-server tokens into words", () => {
    const spans = [{ start: 0, end: 16_000 * 10 }];
    const openai = assembleTranscript([{ spans, segments: parseTranscription(OPENAI_WORDS, window(10_000), { words: true }).segments }], {
      sampleRate: 16_000,
      words: true,
    });
    expect(openai.segments[0]!.words!.map((w) => w.text)).toEqual(["The", "ferry", "leaves", "at", "nine"]);
    expect(openai.language).toBe("en");
    const server = assembleTranscript([{ spans, segments: parseTranscription(WHISPER_SERVER_VERBOSE, window(2_500), { words: true }).segments }], {
      sampleRate: 16_000,
      words: true,
    });
    expect(server.segments[0]!.words!.map((w) => w.text)).toEqual(["Guten", "Morgen."]);
    expect(server.language).toBe("de");
  });
});

describe("parseTranscription: text-only and silence", () => {
  it("an empty transcript is no segment", () => {
    expect(parseTranscription({ text: "" }, window(5_000)).segments).toEqual([]);
    expect(parseTranscription("   \n", window(5_000)).segments).toEqual([]);
    expect(parseTranscription({ text: "", segments: [], language: "english", duration: 5 }, window(5_000))).toEqual({
      granularity: "segment",
      language: "en",
      durationSec: 5,
      segments: [],
    });
  });

  it("text with an empty segment list falls back to text-only rather than losing the text", () => {
    const parsed = parseTranscription({ text: " Something.", segments: [] }, window(3_000));
    expect(parsed).toMatchObject({ granularity: "text", segments: [{ from: 0, to: 3000, text: " Something." }] });
  });
});

describe("parseTranscription: unexpected shapes", () => {
  const garbage: [string, unknown][] = [
    ["null", null],
    ["a number", 42],
    ["an array", [{ text: "x" }]],
    ["an object without text", { transcript: "hello" }],
    ["text that is not a string", { text: 5 }],
    ["segments that are not an array", { text: "x", segments: { start: 0 } }],
    ["a segment that is not an object", { text: "x", segments: ["x"] }],
    ["a segment without text", { text: "x", segments: [{ start: 0, end: 1 }] }],
    ["a segment start given as a string", { text: "x", segments: [{ start: "0", end: 1, text: "x" }] }],
    ["a segment without end", { text: "x", segments: [{ start: 0, text: "x" }] }],
    ["a non-finite start", { text: "x", segments: [{ start: Number.NaN, end: 1, text: "x" }] }],
    ["a non-numeric duration", { text: "x", duration: "five" }],
    ["a language that is not a string", { text: "x", language: 7 }],
    ["an avg_logprob that is not a number", { text: "x", segments: [{ start: 0, end: 1, text: "x", avg_logprob: "high" }] }],
  ];
  for (const [what, body] of garbage) {
    it(`rejects ${what}`, () => {
      expect(() => parseTranscription(body, window(1_000))).toThrow(SpeechflowError);
    });
  }

  it("checks words only when they are asked for", () => {
    const body = { text: "x", segments: [{ start: 0, end: 1, text: " x" }], words: [{ word: 3, start: 0, end: 1 }] };
    expect(parseTranscription(body, window(1_000)).segments).toHaveLength(1);
    expect(() => parseTranscription(body, window(1_000), { words: true })).toThrow(/words\[0\]\.word/);
    expect(() => parseTranscription({ ...body, words: "x" }, window(1_000), { words: true })).toThrow(/`words` is not an array/);
  });

  it("says which service sent what, as a non-retryable REMOTE_FAILED", () => {
    let caught: unknown;
    try {
      parseTranscription({ html: "<html>login</html>" }, window(1_000), { service: "groq" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpeechflowError);
    const error = caught as SpeechflowError;
    expect(error.code).toBe("REMOTE_FAILED");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^groq answered with an unexpected shape: `text` is missing/);
    expect(error.message).toContain("<html>login</html>");
  });

  it("shortens a long body in the message", () => {
    const error = (() => {
      try {
        parseTranscription({ blob: "x".repeat(5_000) }, window(1_000));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error!.message.length).toBeLessThan(400);
  });
});

describe("normalizeLanguage", () => {
  it("maps whisper's language names to ISO-639-1 codes and passes other values through lower-cased", () => {
    expect(normalizeLanguage("english")).toBe("en");
    expect(normalizeLanguage("English")).toBe("en");
    expect(normalizeLanguage(" japanese ")).toBe("ja");
    expect(normalizeLanguage("ukrainian")).toBe("uk");
    expect(normalizeLanguage("en")).toBe("en");
    expect(normalizeLanguage("PT")).toBe("pt");
    expect(normalizeLanguage("Klingon")).toBe("klingon");
    expect(normalizeLanguage("")).toBeNull();
  });
});
