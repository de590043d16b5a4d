import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type PDFDocument from "pdfkit";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { SummaryRecord } from "../summaries/summary-schema.js";
import { formatClock as clock } from "./format-time.js";
import type { Segment } from "./transcript.js";

export interface PdfFonts {
  regular: string;
  bold: string;
}

/**
 * DejaVu Sans from the dejavu-fonts-ttf package: Latin with every European accent, Greek and
 * Cyrillic. A font path from config (`pdfFont`) replaces it, e.g. Noto Sans CJK for Chinese.
 */
export function resolvePdfFonts(customFont: string): PdfFonts {
  if (customFont) {
    if (!existsSync(customFont)) throw new SpeechflowError("USAGE", `pdfFont: no font file at ${customFont}`);
    return { regular: customFont, bold: customFont };
  }
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
  return { regular: join(dir, "DejaVuSans.ttf"), bold: join(dir, "DejaVuSans-Bold.ttf") };
}

export interface PdfMeta {
  source: string;
  durationMs: number;
  model: string;
  language: string | null;
  date: string;
  /** with diarization: each speaker's talk time, shown as a table after the summary */
  speakers?: { id: string; name?: string; talkMs: number }[] | undefined;
}

type Doc = InstanceType<typeof PDFDocument>;
/** speaker labels appear when a transcript carries them (diarised input) */
export type SpeakerSegment = Segment & { speaker?: string };

const GREY = "#666666";
const ACCENT = "#1f4e79";
/** a pause this long between segments starts a new paragraph */
const PARAGRAPH_GAP_MS = 2000;

/** Writes a PDF through a temp file and a rename, like every other output. */
export async function writePdfAtomic(
  target: string,
  tmpDir: string,
  draw: (doc: Doc) => void,
  info: { title: string; subject: string },
  fonts: PdfFonts,
): Promise<void> {
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(tmpDir, `${randomBytes(6).toString("hex")}.pdf`);
  // loaded here, not at start-up: pdfkit and its fonts cost ~0.25 s that runs without PDFs do not pay
  const { default: Pdf } = await import("pdfkit");
  try {
    await new Promise<void>((resolve, reject) => {
      // bufferPages stays off: each page is flushed to the stream when the next begins
      const doc = new Pdf({
        size: "A4",
        margins: { top: 64, bottom: 64, left: 60, right: 60 },
        info: { Title: info.title, Subject: info.subject, Creator: "speechflow", Producer: "speechflow (pdfkit)" },
        displayTitle: true,
        lang: "en",
      });
      const out = createWriteStream(tmp);
      out.on("error", reject);
      out.on("finish", () => resolve());
      doc.on("error", reject);
      doc.pipe(out);
      doc.registerFont("body", fonts.regular);
      doc.registerFont("bold", fonts.bold);
      doc.font("body");
      try {
        draw(doc);
      } catch (error) {
        reject(error);
        return;
      }
      doc.end();
    });
    renameSync(tmp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpeechflowError("OUTPUT_WRITE_FAILED", `cannot write ${target} (${code ?? (error as Error).message})`, { file: target, retryable: false });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Running header (title) and page number on every page, drawn outside the text area. */
function decoratePages(doc: Doc, header: string): void {
  let page = 0;
  const decorate = () => {
    page++;
    const { x, y } = doc;
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
    doc.font("body").fontSize(8).fillColor(GREY);
    doc.text(header, doc.page.margins.left, 32, { width, lineBreak: false, ellipsis: true });
    doc.text(String(page), doc.page.margins.left, doc.page.height - 40, { width, align: "center", lineBreak: false });
    doc.page.margins.bottom = bottom;
    doc.fillColor("black").fontSize(11);
    doc.x = x;
    doc.y = y;
  };
  decorate();
  doc.on("pageAdded", decorate);
}

function heading(doc: Doc, text: string, size = 15): void {
  doc.moveDown(0.8).font("bold").fontSize(size).fillColor(ACCENT).text(text).fillColor("black").font("body").fontSize(11).moveDown(0.3);
}

function bullets(doc: Doc, items: string[]): void {
  for (const item of items) doc.text(`•  ${item}`, { indent: 0, paragraphGap: 3 });
}

function paragraphs(segments: readonly SpeakerSegment[]): SpeakerSegment[][] {
  const out: SpeakerSegment[][] = [];
  let current: SpeakerSegment[] = [];
  for (const seg of segments) {
    const prev = current[current.length - 1];
    if (prev && (seg.start - prev.end >= PARAGRAPH_GAP_MS || current.length >= 12 || seg.speaker !== prev.speaker)) {
      out.push(current);
      current = [];
    }
    current.push(seg);
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * The per-file report: title block, summary, key points, action items, a table of contents
 * (links and PDF bookmarks to the chapters), then the whole transcript with timestamps.
 */
/** Who spoke how long: one line per speaker, talk time and share of all speech. */
function drawTalkTime(doc: Doc, speakers: NonNullable<PdfMeta["speakers"]>): void {
  heading(doc, "Speakers");
  doc.outline.addItem("Speakers");
  const total = speakers.reduce((n, s) => n + s.talkMs, 0) || 1;
  for (const s of speakers) {
    const who = s.name ? `${s.name} (${s.id})` : s.id;
    doc.text(`${who}:  ${clock(s.talkMs)}  (${Math.round((s.talkMs / total) * 100)}%)`);
  }
}

export function drawTranscriptReport(doc: Doc, summary: SummaryRecord, segments: readonly SpeakerSegment[], meta: PdfMeta): void {
  decoratePages(doc, summary.title === meta.source ? summary.title : `${summary.title} · ${meta.source}`);
  doc.font("bold").fontSize(22).text(summary.title);
  doc.moveDown(0.5).font("body").fontSize(10).fillColor(GREY);
  const rows: [string, string][] = [
    ["Source", meta.source],
    ["Duration", clock(meta.durationMs)],
    ["Transcribed", meta.date],
    ["Model", meta.model],
    ["Language", meta.language ?? "unknown"],
    ["Summary", summary.kind === "llm" ? `${summary.model} (${summary.length})` : `extractive, no language model (${summary.reason ?? ""})`],
  ];
  for (const [k, v] of rows) doc.text(`${k}:  ${v}`);
  doc.fillColor("black").fontSize(11);

  const outline = doc.outline;
  heading(doc, "Summary");
  outline.addItem("Summary");
  doc.text(summary.summary, { align: "justify" });
  if (summary.keyPoints.length) {
    heading(doc, "Key points");
    outline.addItem("Key points");
    bullets(doc, summary.keyPoints);
  }
  if (summary.actionItems.length) {
    heading(doc, "Action items");
    outline.addItem("Action items");
    bullets(
      doc,
      summary.actionItems.map((a) => (a.owner ? `${a.text} (${a.owner})` : a.text)),
    );
  }
  if (meta.speakers?.length) drawTalkTime(doc, meta.speakers);
  const chapters = summary.chapters;
  if (chapters.length) {
    heading(doc, "Contents");
    for (const [k, c] of chapters.entries()) doc.fillColor(ACCENT).text(`${clock(c.startMs)}   ${c.title}`, { goTo: `chapter-${k}`, underline: false });
    doc.fillColor("black");
  }

  doc.addPage();
  doc.font("bold").fontSize(18).text("Transcript");
  const transcriptItem = outline.addItem("Transcript", { expanded: true });
  doc.font("body").fontSize(11).moveDown(0.5);
  let next = 0;
  let lastSpeaker: string | undefined;
  const chapterHeading = () => {
    const c = chapters[next]!;
    doc.moveDown(0.6);
    doc.addNamedDestination(`chapter-${next}`);
    transcriptItem.addItem(`${clock(c.startMs)} ${c.title}`);
    doc
      .font("bold")
      .fontSize(13)
      .fillColor(ACCENT)
      .text(`${clock(c.startMs)}  ${c.title}`)
      .fillColor("black")
      .font("body")
      .fontSize(11)
      .moveDown(0.2);
    next++;
  };
  for (const para of paragraphs(segments)) {
    while (next < chapters.length && chapters[next]!.startMs <= para[0]!.start) chapterHeading();
    const speaker = para[0]!.speaker;
    const label = speaker && speaker !== lastSpeaker ? `${speaker}: ` : "";
    lastSpeaker = speaker ?? lastSpeaker;
    doc
      .fillColor(GREY)
      .fontSize(9)
      .text(`[${clock(para[0]!.start)}]  `, { continued: true });
    if (label) doc.font("bold").fillColor("black").fontSize(11).text(label, { continued: true }).font("body");
    doc
      .fillColor("black")
      .fontSize(11)
      .text(para.map((s) => s.text.trim()).join(" "), { paragraphGap: 6, align: "left" });
  }
  while (next < chapters.length) chapterHeading();
  if (segments.length === 0) doc.fillColor(GREY).text("(no speech was transcribed)").fillColor("black");
}

export interface BatchReportRow {
  path: string;
  status: string;
  durationMs: number | null;
  summary: string | null;
  error: string | null;
}

/** `report.pdf`: every input of the run with its duration, status and the start of its summary. */
export function drawBatchReport(doc: Doc, rows: BatchReportRow[], meta: { title: string; date: string; model: string }): void {
  decoratePages(doc, meta.title);
  doc.font("bold").fontSize(22).text(meta.title);
  const done = rows.filter((r) => r.status === "done" || r.status === "unchanged").length;
  const total = rows.reduce((n, r) => n + (r.durationMs ?? 0), 0);
  doc
    .moveDown(0.4)
    .font("body")
    .fontSize(10)
    .fillColor(GREY)
    .text(`${meta.date} · model ${meta.model} · ${rows.length} files, ${done} transcribed, ${rows.length - done} not · ${clock(total)} of audio`);
  doc.fillColor("black").fontSize(11).moveDown(1);
  for (const row of rows) {
    const ok = row.status === "done" || row.status === "unchanged";
    doc
      .font("bold")
      .fontSize(11)
      .fillColor(ok ? "black" : "#a00000")
      .text(row.path);
    doc
      .font("body")
      .fontSize(9)
      .fillColor(GREY)
      .text(`${row.status}${row.durationMs !== null ? ` · ${clock(row.durationMs)}` : ""}${row.error ? ` · ${row.error}` : ""}`);
    if (row.summary)
      doc
        .fillColor("black")
        .fontSize(10)
        .text(row.summary.length > 600 ? row.summary.slice(0, 599) + "…" : row.summary);
    doc.fillColor("black").moveDown(0.7);
  }
}
