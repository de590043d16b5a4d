import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import PQueue from "p-queue";
import type { SpeechflowConfig } from "../config/config-schema.js";
import type { Emit } from "../core/events.js";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { type BatchReportRow, drawBatchReport, drawTranscriptReport, type PdfFonts, resolvePdfFonts, writePdfAtomic } from "../outputs/render-pdf.js";
import { tmpDirOf, writeOutputFile } from "../outputs/write-outputs.js";
import type { StateStore } from "../store/state-store.js";
import type { TrackedFile } from "../store/tracked-file.js";
import { LlmEndpoint } from "../summaries/llm-endpoint.js";
import { summarizeTranscript, summaryCacheKey } from "../summaries/summarize-transcript.js";
import { summaryMarkdown } from "../summaries/summary-markdown.js";
import type { SummaryRecord } from "../summaries/summary-schema.js";
import { fileTranscript } from "./file-transcript.js";

export interface SummaryTotals {
  done: number;
  cached: number;
  failed: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

type StoredSummary = SummaryRecord & { key?: string };

/** `MODEL@BASE_URL[#KEY_ENV]` -> endpoint parts */
function parseFallback(spec: string, defaultKeyEnv: string): { model: string; baseURL: string; apiKeyEnv: string } {
  const at = spec.indexOf("@");
  const rest = spec.slice(at + 1);
  const hash = rest.lastIndexOf("#");
  return { model: spec.slice(0, at), baseURL: hash > 0 ? rest.slice(0, hash) : rest, apiKeyEnv: hash > 0 ? rest.slice(hash + 1) : defaultKeyEnv };
}

/**
 * outputs stage, after the transcripts: `<name>.summary.{md,json}` and `<name>.pdf` for each finished
 * file, and `report.pdf` for the run. A summary that fails never touches the transcript: the file
 * stays done, an extractive summary is written (labelled, with the reason), and the failure is
 * reported so that the next run tries the model again.
 */
export class SummaryStage {
  readonly totals: SummaryTotals = { done: 0, cached: 0, failed: 0, calls: 0, promptTokens: 0, completionTokens: 0 };
  private readonly endpoints: LlmEndpoint[];
  private readonly queue: PQueue;
  private fonts: PdfFonts | undefined;
  private readonly summaries = new Map<string, string>();

  constructor(
    private readonly config: SpeechflowConfig,
    private readonly store: StateStore,
    private readonly outputDir: string,
    private readonly emit: Emit,
    private readonly signal: AbortSignal,
    env: NodeJS.ProcessEnv,
    private readonly modelName: string,
    retryBaseDelayMs = 1000,
  ) {
    if (config.llmBaseUrl && !config.llmModel)
      throw new SpeechflowError("USAGE", "llmBaseUrl is set but llmModel is empty: name the model to use (--llm-model)");
    const options = {
      timeoutMs: config.llmTimeoutSeconds * 1000,
      maxRetries: config.llmMaxRetries,
      breakerThreshold: config.llmMaxRetries + 2,
      baseDelayMs: retryBaseDelayMs,
      env,
      onRetry: (message: string) => emit({ type: "warning", message }),
    };
    const specs = config.llmBaseUrl ? [{ baseURL: config.llmBaseUrl, model: config.llmModel, apiKeyEnv: config.llmApiKeyEnv }] : [];
    if (config.llmBaseUrl) for (const f of config.llmFallbacks) specs.push(parseFallback(f, config.llmApiKeyEnv));
    this.endpoints = specs.map((spec) => new LlmEndpoint(spec, options));
    this.queue = new PQueue({ concurrency: config.llmConcurrency });
    if (config.pdf || config.report) this.fonts = resolvePdfFonts(config.pdfFont);
  }

  get wanted(): boolean {
    return this.config.summarize || this.config.pdf;
  }

  private readStored(stem: string): StoredSummary | undefined {
    try {
      return JSON.parse(readFileSync(join(this.outputDir, `${stem}.summary.json`), "utf8")) as StoredSummary;
    } catch {
      return undefined;
    }
  }

  /** Summary (and PDF) for one finished file; `force` redoes them even when they look current. */
  async process(row: TrackedFile, force = false): Promise<void> {
    if (!this.wanted || this.signal.aborted) return;
    const transcript = fileTranscript(this.store, row, this.config, { words: false });
    const options = {
      length: this.config.summaryLength,
      language: this.config.summaryLanguage,
      transcriptLanguage: transcript.language,
      contextTokens: this.config.llmContextTokens,
      endpoints: this.endpoints,
      queue: this.queue,
      signal: this.signal,
      sourceName: basename(row.relPath),
      cache: { get: (k: string) => this.store.summaries.get<SummaryRecord>(k), put: (k: string, r: SummaryRecord) => this.store.summaries.put(k, r) },
    };
    const key = summaryCacheKey(transcript.segments, options);
    const stored = this.readStored(row.outputStem);
    const pdfPath = join(this.outputDir, `${row.outputStem}.pdf`);
    const summaryCurrent = stored?.key === key && !(stored.kind === "extractive" && this.endpoints.length > 0);
    if (!force && summaryCurrent && (!this.config.pdf || existsSync(pdfPath))) {
      this.summaries.set(row.path, stored!.summary);
      return;
    }
    try {
      const result = summaryCurrent && !force ? { record: stored!, cached: true, error: undefined } : await summarizeTranscript(transcript.segments, options);
      const record: StoredSummary = { ...result.record, key };
      this.totals.calls += result.cached ? 0 : record.usage.calls;
      this.totals.promptTokens += result.cached ? 0 : record.usage.promptTokens;
      this.totals.completionTokens += result.cached ? 0 : record.usage.completionTokens;
      const outputs: string[] = [];
      if (this.config.summarize) {
        outputs.push(writeOutputFile(this.outputDir, `${row.outputStem}.summary.json`, JSON.stringify(record, null, 2) + "\n"));
        outputs.push(writeOutputFile(this.outputDir, `${row.outputStem}.summary.md`, summaryMarkdown(record, row.relPath)));
      }
      if (this.config.pdf) {
        await writePdfAtomic(
          pdfPath,
          tmpDirOf(this.outputDir),
          (doc) =>
            drawTranscriptReport(doc, record, transcript.segments, {
              speakers: transcript.speakers,
              source: row.relPath,
              durationMs: row.durationMs ?? 0,
              model: this.modelName,
              language: transcript.language,
              date: row.updatedAt.slice(0, 10),
            }),
          { title: record.title, subject: `Transcript of ${row.relPath}` },
          this.fonts!,
        );
        outputs.push(pdfPath);
      }
      this.summaries.set(row.path, record.summary);
      if (result.error) {
        this.totals.failed++;
        this.emit({ type: "summary-failed", file: row.path, message: `${result.error}; wrote an extractive summary instead` });
      } else {
        this.totals.done++;
        if (result.cached) this.totals.cached++;
        this.emit({ type: "summary-done", file: row.path, kind: record.kind, cached: result.cached, outputs });
      }
    } catch (raw) {
      const error = toSpeechflowError(raw);
      if (error.code === "INTERRUPTED") return;
      this.totals.failed++;
      this.emit({ type: "summary-failed", file: row.path, message: error.message });
    }
  }

  /** `report.pdf` over the run's manifest entries. */
  async writeBatchReport(rows: Omit<BatchReportRow, "summary">[]): Promise<string | undefined> {
    if (!this.config.report || !this.fonts) return undefined;
    const target = join(this.outputDir, "report.pdf");
    const full = rows.map((r) => ({ ...r, summary: this.summaries.get(r.path) ?? null }));
    await writePdfAtomic(
      target,
      tmpDirOf(this.outputDir),
      (doc) => drawBatchReport(doc, full, { title: "speechflow report", date: new Date().toISOString().slice(0, 16).replace("T", " "), model: this.modelName }),
      { title: "speechflow report", subject: `${rows.length} files` },
      this.fonts,
    );
    return target;
  }

  async idle(): Promise<void> {
    await this.queue.onIdle();
  }
}
