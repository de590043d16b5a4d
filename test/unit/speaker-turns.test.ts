import { describe, expect, it } from "vitest";
import { assignSpeakers } from "../../src/diarization/assign-speakers.js";
import { labelTurns, speakerAt, speakerInfo } from "../../src/diarization/speaker-turns.js";
import { channelsDiffer, stereoTurns } from "../../src/diarization/stereo-activity.js";
import { formatJson } from "../../src/outputs/format-json.js";
import { formatRttm } from "../../src/outputs/format-rttm.js";
import { formatSrt } from "../../src/outputs/format-srt.js";
import { formatTxt } from "../../src/outputs/format-txt.js";
import { formatVtt } from "../../src/outputs/format-vtt.js";
import type { Transcript } from "../../src/outputs/transcript.js";

const turns = labelTurns([
  { start: 5000, end: 9000, speaker: 7 },
  { start: 0, end: 4000, speaker: 3 },
  { start: 8500, end: 12000, speaker: 3 },
]);

describe("speaker turns", () => {
  it("labels speakers in order of first appearance, whatever the engine's ids", () => {
    expect(turns).toEqual([
      { start: 0, end: 4000, speaker: "SPEAKER_00" },
      { start: 5000, end: 9000, speaker: "SPEAKER_01" },
      { start: 8500, end: 12000, speaker: "SPEAKER_00" },
    ]);
  });

  it("gives a stretch the speaker with the largest overlap, or the nearest turn in a gap", () => {
    expect(speakerAt(turns, 500, 3500)).toBe("SPEAKER_00");
    expect(speakerAt(turns, 3500, 6000)).toBe("SPEAKER_01"); // 1000 ms of 01 beats 500 ms of 00
    expect(speakerAt(turns, 4200, 4400)).toBe("SPEAKER_00"); // gap: 200 ms after 00's turn, 600 ms before 01's
    expect(speakerAt(turns, 4700, 4900)).toBe("SPEAKER_01");
    expect(speakerAt([], 0, 10)).toBeUndefined();
  });

  it("counts talk time per speaker, overlap counted for both, names in label order", () => {
    expect(speakerInfo(turns, ["Alice", "Bob"])).toEqual([
      { id: "SPEAKER_00", name: "Alice", talkMs: 7500 },
      { id: "SPEAKER_01", name: "Bob", talkMs: 4000 },
    ]);
    expect(speakerInfo(turns, [])[1]).toEqual({ id: "SPEAKER_01", talkMs: 4000 });
  });
});

describe("stereo activity", () => {
  const frames = (pattern: string, loud = -20, quiet = -80) => Float32Array.from(pattern, (c) => (c === "#" ? loud : c === "~" ? -45 : quiet));
  const options = { thresholdDb: -50, minOnMs: 90, minOffMs: 150 };

  it("one speaker per channel; both active is overlap; the other party's bleed is not speech", () => {
    // 30 ms frames: left talks, then both (overlap), then right; "~" on the left is the right speaker's bleed
    const left = frames("....#####################.......~~~~~~~~~~.....");
    const right = frames("..................#########################....");
    const raw = stereoTurns({ frameMs: 30, db: [left, right] }, options);
    expect(labelTurns(raw)).toEqual([
      { start: 120, end: 750, speaker: "SPEAKER_00" },
      { start: 540, end: 1290, speaker: "SPEAKER_01" },
    ]);
  });

  it("bridges short pauses and drops clicks", () => {
    const left = frames("#####..#####.........#.........");
    const raw = stereoTurns({ frameMs: 30, db: [left, frames(".".repeat(left.length))] }, options);
    expect(raw).toEqual([{ start: 0, end: 360, speaker: 0 }]);
  });

  it("tells a two-party call from the same mix on both channels", () => {
    const a = frames("#####.....#####.....");
    const b = frames(".....#####.....#####");
    expect(channelsDiffer({ frameMs: 30, db: [a, b] })).toBe(true);
    expect(channelsDiffer({ frameMs: 30, db: [a, Float32Array.from(a)] })).toBe(false);
  });
});

describe("outputs with speakers", () => {
  const transcript: Transcript = {
    language: "en",
    segments: [
      { id: 0, start: 0, end: 3000, text: "Hello there." },
      { id: 1, start: 3200, end: 3900, text: "Still me." },
      { id: 2, start: 5200, end: 8000, text: "Hi, <it's> me & you." },
    ],
  };
  const diarized = assignSpeakers(transcript, turns, ["Alice", "Bob"]);

  it("txt labels the speaker where it changes", () => {
    expect(formatTxt(diarized)).toBe("[Alice] Hello there.\nStill me.\n[Bob] Hi, <it's> me & you.\n");
  });

  it("srt prefixes each cue, vtt opens a voice span with the name escaped", () => {
    expect(formatSrt(diarized, 42)).toContain("00:00:00,000 --> 00:00:03,000\n[Alice] Hello there.\n");
    const vtt = formatVtt(assignSpeakers(transcript, turns, ["A <b> & c"]), 42);
    expect(vtt).toContain("00:00:00.000 --> 00:00:03.000\n<v A &lt;b&gt; &amp; c>Hello there.\n");
    expect(vtt).toContain("<v SPEAKER_01>Hi, &lt;it's&gt; me &amp; you.\n");
  });

  it("json carries speaker on segments and a speakers list with talk time", () => {
    const meta = {
      tool: { name: "speechflow", version: "0" },
      source: { path: "a.wav", size: 1, sha256: "x" },
      model: { name: "m", file: "m.bin" },
      language: "en",
      durationMs: 12000,
      settings: {},
    };
    const json = JSON.parse(formatJson(diarized, meta)) as { speakers: unknown[]; segments: { speaker: string }[] };
    expect(json.segments.map((s) => s.speaker)).toEqual(["Alice", "Alice", "Bob"]);
    expect(json.speakers).toEqual([
      { id: "SPEAKER_00", name: "Alice", talkMs: 7500 },
      { id: "SPEAKER_01", name: "Bob", talkMs: 4000 },
    ]);
  });

  it("outputs without diarization are unchanged (no speaker fields)", () => {
    expect(formatTxt(transcript)).toBe("Hello there.\nStill me.\nHi, <it's> me & you.\n");
    expect(formatSrt(transcript, 42)).not.toContain("[");
  });

  it("rttm: one SPEAKER line per turn, seconds with 3 decimals, spaces replaced", () => {
    expect(
      formatRttm(
        "team call",
        turns.slice(0, 2).map((t) => ({ ...t, start: t.start / 1000, end: t.end / 1000 })),
      ),
    ).toBe("SPEAKER team_call 1 0.000 4.000 <NA> <NA> SPEAKER_00 <NA> <NA>\nSPEAKER team_call 1 5.000 4.000 <NA> <NA> SPEAKER_01 <NA> <NA>\n");
  });
});
