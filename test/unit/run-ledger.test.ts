import { describe, expect, it } from "vitest";
import { SpeechflowError } from "../../src/errors/speechflow-error.js";
import { RunLedger } from "../../src/pipeline/run-ledger.js";

describe("RunLedger", () => {
  it("counts outcomes, keeps failures and lists every input once, in input order", () => {
    const ledger = new RunLedger();
    ledger.failed("/in/bad.wav", new SpeechflowError("MEDIA_UNREADABLE", "not audio"), undefined);
    ledger.done("/in/b.wav", { hash: "hb", durationMs: 2000, outputs: ["/out/b.txt"] }, true);
    ledger.done("/in/c.wav", { hash: "hc", durationMs: 3000, outputs: ["/out/c.txt"] }, false);
    ledger.interrupted("/in/d.wav", undefined);
    expect(ledger.counts).toEqual({ done: 2, skipped: 0, failed: 1, interrupted: 1 });
    // only audio transcribed in this run counts, not re-rendered files
    expect(ledger.audioMs).toBe(2000);
    expect(ledger.failures).toEqual([{ file: "/in/bad.wav", code: "MEDIA_UNREADABLE", message: "not audio" }]);
    const entries = ledger.entries(["/in/c.wav", "/in/bad.wav", "/in/b.wav", "/in/d.wav", "/in/never.wav"]);
    expect(entries.map((e) => [e.path, e.status])).toEqual([
      ["/in/c.wav", "done"],
      ["/in/bad.wav", "failed"],
      ["/in/b.wav", "done"],
      ["/in/d.wav", "interrupted"],
      ["/in/never.wav", "interrupted"],
    ]);
    expect(entries[1]!.error).toEqual({ code: "MEDIA_UNREADABLE", message: "not audio" });
  });
});
