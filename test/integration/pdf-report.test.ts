import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drawTranscriptReport, resolvePdfFonts, type SpeakerSegment, writePdfAtomic } from "../../src/outputs/render-pdf.js";
import type { SummaryRecord } from "../../src/summaries/summary-schema.js";

const LINES: [string, string][] = [
  ["fr", "Le café de la gare ouvre à sept heures, déjà plein d'élèves."],
  ["de", "Grüße aus München: die Straße ist wegen Bauarbeiten gesperrt."],
  ["es", "¿Dónde está la estación? Mañana llegará el señor Muñoz."],
  ["pl", "Zażółć gęślą jaźń, powiedział Łukasz w Łodzi."],
  ["el", "Καλημέρα, η συνάντηση ξεκινά στις δέκα."],
  ["ru", "Привет, встреча начинается в десять часов."],
  ["uk", "Доброго ранку, ґанок і їжак."],
];

const summary: SummaryRecord = {
  title: "Réunion multilingue",
  summary: "Un résumé avec des accents: été, naïve, Ærø.",
  keyPoints: ["Пункт первый", "Σημείο δεύτερο"],
  actionItems: [{ text: "Zadzwonić do Łukasza", owner: "Zoë" }],
  chapters: [
    { title: "Ouverture", startMs: 0 },
    { title: "Ελληνικά και русский", startMs: 20000 },
  ],
  language: "fr",
  kind: "llm",
  model: "test",
  endpoint: null,
  length: "medium",
  promptVersion: 1,
  usage: { calls: 1, promptTokens: 1, completionTokens: 1 },
  createdAt: "2026-11-26T00:00:00Z",
};

describe("PDF transcript report", () => {
  it("keeps accents, Polish, Greek and Cyrillic in the transcript, with speaker labels and chapters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pdf-"));
    const segments: SpeakerSegment[] = LINES.map(([, text], i) => ({ id: i, start: i * 5000, end: i * 5000 + 4000, text, speaker: i < 4 ? "Anna" : "Борис" }));
    const target = join(dir, "multi.pdf");
    await writePdfAtomic(
      target,
      join(dir, "tmp"),
      (doc) => drawTranscriptReport(doc, summary, segments, { source: "multi.wav", durationMs: 35000, model: "test", language: "fr", date: "2026-11-26" }),
      { title: summary.title, subject: "test" },
      resolvePdfFonts(""),
    );
    const text = execFileSync("pdftotext", ["-enc", "UTF-8", target, "-"]).toString("utf8").replace(/\s+/g, " ");
    for (const [, line] of LINES) expect(text).toContain(line);
    for (const s of [summary.summary, ...summary.keyPoints, "Zadzwonić do Łukasza (Zoë)", "Anna:", "Борис:", "00:20 Ελληνικά και русский"])
      expect(text).toContain(s);
    const info = execFileSync("pdfinfo", [target]).toString("utf8");
    expect(info).toMatch(/^Title:\s+Réunion multilingue$/m);
  });

  it("names a missing custom font file", () => {
    expect(() => resolvePdfFonts("/nope/NotoSansCJK.otf")).toThrow(/pdfFont: no font file at \/nope\/NotoSansCJK\.otf/);
  });
});
