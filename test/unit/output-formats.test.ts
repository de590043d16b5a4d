import { describe, expect, it } from "vitest";
import { formatJson } from "../../src/outputs/format-json.js";
import { formatSrt } from "../../src/outputs/format-srt.js";
import { formatTimestamp } from "../../src/outputs/format-time.js";
import { formatTxt } from "../../src/outputs/format-txt.js";
import { escapeVttText, formatVtt } from "../../src/outputs/format-vtt.js";
import { wrapText } from "../../src/outputs/subtitle-cues.js";
import { assembleTranscript, type Transcript } from "../../src/outputs/transcript.js";

const transcript: Transcript = {
  language: "en",
  segments: [
    { id: 0, start: 0, end: 2500, text: "Hello there." },
    { id: 1, start: 3000, end: 3723004.4, text: "Tom & Jerry <3 said --> go" },
  ],
};

describe("timestamps", () => {
  it("formats hours, minutes, seconds and milliseconds", () => {
    expect(formatTimestamp(0, ",")).toBe("00:00:00,000");
    expect(formatTimestamp(3723004.4, ",")).toBe("01:02:03,004");
    expect(formatTimestamp(59999.6, ".")).toBe("00:01:00.000");
  });
});

describe("srt", () => {
  it("numbers cues from 1 with srt timing lines", () => {
    const srt = formatSrt(transcript, 42);
    const blocks = srt.trim().split("\n\n");
    expect(blocks).toHaveLength(2);
    blocks.forEach((block, i) => {
      const [n, timing] = block.split("\n");
      expect(n).toBe(String(i + 1));
      expect(timing).toMatch(/^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$/);
    });
    expect(srt).toContain("00:00:03,000 --> 01:02:03,004");
    expect(srt).not.toContain("said -->");
  });

  it("wraps long text into cues of at most two lines of the width", () => {
    const long: Transcript = { language: "en", segments: [{ id: 0, start: 0, end: 10000, text: "word ".repeat(40).trim() }] };
    const cues = formatSrt(long, 20).trim().split("\n\n");
    expect(cues.length).toBeGreaterThan(1);
    let lastEnd = "";
    for (const cue of cues) {
      const lines = cue.split("\n");
      const text = lines.slice(2);
      expect(text.length).toBeLessThanOrEqual(2);
      for (const line of text) expect(line.length).toBeLessThanOrEqual(20);
      const [start, end] = lines[1]!.split(" --> ") as [string, string];
      expect(start >= lastEnd).toBe(true);
      expect(end > start).toBe(true);
      lastEnd = end;
    }
    expect(lastEnd).toBe("00:00:10,000");
  });
});

describe("vtt", () => {
  it("starts with WEBVTT and uses dots in timings", () => {
    const vtt = formatVtt(transcript, 42);
    expect(vtt.startsWith("WEBVTT\n\n")).toBe(true);
    expect(vtt).toMatch(/^00:00:00\.000 --> 00:00:02\.500$/m);
  });

  it("escapes &, < and > (so no cue text can contain -->)", () => {
    expect(escapeVttText("a & b <c> -->")).toBe("a &amp; b &lt;c&gt; --&gt;");
    const vtt = formatVtt(transcript, 42);
    expect(vtt).toContain("Tom &amp; Jerry &lt;3 said --&gt; go");
    expect(vtt.split("\n").filter((l) => l.includes("-->"))).toHaveLength(2);
  });
});

describe("txt and json", () => {
  it("writes one line per segment", () => {
    expect(formatTxt(transcript)).toBe("Hello there.\nTom & Jerry <3 said --> go\n");
    expect(formatTxt({ language: null, segments: [] })).toBe("");
  });

  it("includes metadata and segments, and nothing that changes between runs", () => {
    const json = JSON.parse(
      formatJson(transcript, {
        tool: { name: "speechflow", version: "1" },
        source: { path: "a.wav", size: 1, sha256: "x" },
        model: { name: "m", file: "m.bin" },
        language: null,
        durationMs: 5000,
        settings: { language: "auto" },
      }),
    ) as Record<string, unknown>;
    expect(json.language).toBe("en");
    expect(json.segments).toEqual(transcript.segments);
    expect(JSON.stringify(json)).not.toMatch(/20\d\d-\d\d-\d\dT/);
  });
});

describe("wrapText", () => {
  it("never splits words and puts an over-long word on its own line", () => {
    expect(wrapText("a bb ccc dddd", 6)).toEqual(["a bb", "ccc", "dddd"]);
    expect(wrapText("supercalifragilistic yes", 5)).toEqual(["supercalifragilistic", "yes"]);
  });
});

describe("assembleTranscript", () => {
  it("maps segments and words from chunk time to file time, monotonic, without empty text", () => {
    const spans = [
      { start: 16000, end: 48000 },
      { start: 160000, end: 176000 },
    ];
    const t = assembleTranscript(
      [
        {
          spans,
          segments: [
            {
              from: 0,
              to: 1900,
              text: " one two",
              lang: "en",
              tokens: [
                { id: 10, text: " one", p: 0.9, from: 0, to: 900 },
                { id: 11, text: " tw", p: 0.8, from: 900, to: 1500 },
                { id: 12, text: "o", p: 0.7, from: 1500, to: 1900 },
                { id: 50364, text: "[_TT_95]", p: 0.1, from: 1900, to: 1900 },
              ],
            },
            { from: 2100, to: 30000, text: " three", lang: "en" },
            { from: 2900, to: 3000, text: "  ", lang: "en" },
          ],
        },
      ],
      { sampleRate: 16000, words: true },
    );
    expect(t.language).toBe("en");
    expect(t.segments.map((s) => [s.start, s.end, s.text])).toEqual([
      [1000, 2900, "one two"],
      [10100, 11000, "three"],
    ]);
    expect(t.segments[0]!.words).toEqual([
      { start: 1000, end: 1900, text: "one", probability: 0.9 },
      { start: 1900, end: 2900, text: "two", probability: 0.7 },
    ]);
  });
});
