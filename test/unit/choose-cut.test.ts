import { describe, expect, it } from "vitest";
import { chooseCut } from "../../src/chunking/choose-cut.js";

/**
 * Frames from a picture: "s" speech at -20 dB, "." a pause at -60 dB, "," a pause with some sound at
 * -45 dB, "q" quieter speech at -40 dB, "g" a gap between words the VAD hears as speech (-34 dB).
 */
function frames(picture: string): { db: number[]; pause: boolean[] } {
  const chars = [...picture];
  const level: Record<string, number> = { ".": -60, ",": -45, q: -40, s: -20, g: -34 };
  return { db: chars.map((c) => level[c]!), pause: chars.map((c) => c === "." || c === ",") };
}
const window = { from: 0, limit: 0, quietFrom: 0, minPauseFrames: 3, pauseOnly: false };

describe("chooseCut", () => {
  it("cuts at the latest pause before the limit, in its middle", () => {
    const { db, pause } = frames("ssss....ssssss....ssssssss");
    // pauses at 4-7 and 14-17; the limit lies after both
    expect(chooseCut(db, pause, { ...window, limit: 22 })).toBe(16);
  });

  it("takes the part of a pause before the limit when the pause runs past it", () => {
    const { db, pause } = frames("ssssssssss......ssss");
    expect(chooseCut(db, pause, { ...window, limit: 12 })).toBeLessThanOrEqual(12);
    expect(pause[chooseCut(db, pause, { ...window, limit: 12 })! - 1]).toBe(true);
  });

  it("cuts at a later pause even when an earlier one is quieter", () => {
    const { db, pause } = frames("sss.....sssss,,,,ssssss");
    expect(chooseCut(db, pause, { ...window, limit: 22 })).toBe(15);
  });

  it("ignores short pauses that are not the quietest (a consonant's closure is not a pause)", () => {
    const { db, pause } = frames("sss.....sssssss,ssss,sss");
    expect(chooseCut(db, pause, { ...window, limit: 23 })).toBe(6);
  });

  it("cuts at the latest of the quietest frames when the speech has no pause", () => {
    const { db, pause } = frames("ssqsssssqssssssssss");
    expect(chooseCut(db, pause, { ...window, limit: 18 })).toBe(8);
    // only the last few frames searched: none quieter, so the latest frame
    expect(chooseCut(db, pause, { ...window, limit: 18, quietFrom: 10 })).toBe(18);
  });

  it("makes no cut when only a pause will do and there is none after `from`", () => {
    const { db, pause } = frames("ss....ssssssssssssss");
    expect(chooseCut(db, pause, { ...window, limit: 18, pauseOnly: true, from: 8 })).toBeUndefined();
    expect(chooseCut(db, pause, { ...window, limit: 18, pauseOnly: true, from: 0 })).toBe(4);
  });

  it("in dense speech, cuts at the latest gap between words (120 ms, 12 dB under the speech) rather than an earlier pause", () => {
    const { db, pause } = frames("ssss....ssssssssssssssggggsssssssssggggssssss");
    // the pause at 4-7 is seconds before the limit; the word gaps at 22-25 and 35-38 are later
    expect(chooseCut(db, pause, { ...window, limit: 44 })).toBe(37);
  });

  it("does not take a consonant's short dip (90 ms) for a gap between words", () => {
    const { db, pause } = frames("ssss....sssssssssssssssgggsssssssss");
    expect(chooseCut(db, pause, { ...window, limit: 34 })).toBe(6);
  });
});
