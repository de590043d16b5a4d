import { z } from "zod";

/**
 * Typed lifecycle events. The core never prints; reporters (progress bars, plain lines, NDJSON,
 * silent) turn these into output. `--json` writes them unchanged (plus `time`), so this schema is
 * the NDJSON contract: docs/events.schema.json is generated from it and a test validates every
 * line a real run prints. Add fields freely; never rename or remove one (scripts depend on them).
 */
export const EVENTS_SCHEMA_VERSION = 1;

const failureInfo = z.object({
  file: z.string().describe("the input: an absolute path, or the URL as given"),
  code: z.string().describe("SpeechflowError code, e.g. MEDIA_UNREADABLE"),
  message: z.string().describe("one line, names the cause"),
});
export type FailureInfo = z.infer<typeof failureInfo>;

const counts = z.object({ ref: z.number(), correct: z.number(), substitutions: z.number(), deletions: z.number(), insertions: z.number() });

export const eventSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("run-start"),
      schema: z.literal(EVENTS_SCHEMA_VERSION).describe("version of this event format"),
      runId: z.number().int(),
      inputs: z.number().int().describe("media files found plus inputs that could not be used"),
      model: z.string(),
      workers: z.number().int(),
      slots: z.number().int().describe("chunks transcribed at the same time over all workers"),
      threads: z.number().int().describe("threads per chunk"),
      layout: z
        .string()
        .optional()
        .describe("how the local engine's layout was chosen (auto: cores, memory, model size), or the queue its remote workers serve"),
      db: z.string(),
      output: z.string(),
    })
    .describe("first event of a transcribe or eval run"),
  z.object({ type: z.literal("model-download-start"), name: z.string(), url: z.string(), sizeMiB: z.number() }),
  z.object({ type: z.literal("model-download-progress"), name: z.string(), receivedBytes: z.number(), totalBytes: z.number().nullable() }),
  z.object({ type: z.literal("model-download-done"), name: z.string(), path: z.string(), bytes: z.number(), resumed: z.boolean() }),
  z.object({ type: z.literal("download-start"), file: z.string().describe("the URL (credentials removed)"), totalBytes: z.number().nullable() }),
  z.object({ type: z.literal("download-progress"), file: z.string(), receivedBytes: z.number(), totalBytes: z.number().nullable() }),
  z.object({
    type: z.literal("download-done"),
    file: z.string(),
    bytes: z.number(),
    cached: z.boolean().describe("true when the earlier download was still valid"),
  }),
  z.object({ type: z.literal("engine-ready"), workers: z.number().int(), loadMs: z.number(), device: z.string() }),
  z.object({
    type: z.literal("file-start"),
    file: z.string(),
    relPath: z.string(),
    resumedChunks: z.number().int().describe("chunks already done in an earlier run"),
  }),
  z.object({ type: z.literal("file-duration"), file: z.string(), durationMs: z.number() }),
  z.object({ type: z.literal("file-skipped"), file: z.string(), reason: z.literal("unchanged") }),
  z.object({ type: z.literal("chunk-done"), file: z.string(), index: z.number().int(), audioMs: z.number(), elapsedMs: z.number() }),
  z.object({ type: z.literal("chunk-retry"), file: z.string(), index: z.number().int(), attempt: z.number().int(), message: z.string() }),
  z.object({
    type: z.literal("file-done"),
    file: z.string(),
    durationMs: z.number(),
    chunks: z.number().int(),
    outputs: z.array(z.string()).describe("absolute paths of the files written"),
    elapsedMs: z.number(),
  }),
  z.object({ type: z.literal("file-failed"), ...failureInfo.shape }),
  z
    .object({ type: z.literal("diarization-progress"), file: z.string(), done: z.number().int(), total: z.number().int() })
    .describe("the model diarization engine's progress: speaker embeddings computed so far"),
  z
    .object({ type: z.literal("diarization-done"), file: z.string(), engine: z.enum(["stereo", "model"]), speakers: z.number().int(), elapsedMs: z.number() })
    .describe("speaker turns found for a file (--diarize)"),
  z.object({
    type: z.literal("summary-done"),
    file: z.string(),
    kind: z.enum(["llm", "extractive"]),
    cached: z.boolean().describe("taken from the state database: no request made"),
    outputs: z.array(z.string()),
  }),
  z
    .object({ type: z.literal("summary-failed"), file: z.string(), message: z.string() })
    .describe("the transcript is safe; an extractive summary was written instead and the next run tries the model again"),
  // inFlight: chunks whisper.cpp was running (one of them the cause); waiting: chunks sent ahead that had not started (sent again)
  z.object({ type: z.literal("worker-exit"), worker: z.number().int(), reason: z.string(), inFlight: z.number().int(), waiting: z.number().int() }),
  z.object({ type: z.literal("warning"), message: z.string(), file: z.string().optional() }),
  z
    .object({
      type: z.literal("run-end"),
      status: z.enum(["completed", "interrupted", "failed"]),
      files: z.number().int(),
      done: z.number().int(),
      skipped: z.number().int(),
      failed: z.number().int(),
      audioMs: z.number().describe("audio transcribed in this run"),
      elapsedMs: z.number(),
      failures: z.array(failureInfo),
      manifest: z.string().optional().describe("path of <output>/manifest.jsonl"),
      report: z.string().optional().describe("path of <output>/report.pdf (--report)"),
      summaries: z
        .object({
          done: z.number().int(),
          cached: z.number().int(),
          failed: z.number().int(),
          calls: z.number().int().describe("LLM requests made"),
          promptTokens: z.number().int(),
          completionTokens: z.number().int(),
        })
        .optional()
        .describe("with --summarize or --pdf"),
      remote: z
        .object({
          provider: z.string(),
          model: z.string(),
          requests: z.number().int(),
          audioSeconds: z.number().describe("audio uploaded"),
          billedSeconds: z.number().describe("what the service bills (Groq: at least 10 s per request)"),
          estimatedCostUsd: z.number().describe("billed seconds x the preset's list price; 0 for self-hosted services"),
        })
        .optional()
        .describe("when a remote backend transcribed chunks (--engine remote, --remote-fallback)"),
    })
    .describe("last event of a transcribe run; also the body POSTed to --notify-url"),
  z
    .object({
      type: z.literal("eval-end"),
      layout: z.enum(["librispeech", "tsv", "beside", "jsonl"]),
      utterances: z.number().int(),
      missing: z.number().int().describe("utterances without a transcript (failed), scored as empty"),
      wer: z.number(),
      cer: z.number(),
      words: counts,
      normalized: z.boolean(),
      reports: z.array(z.string()),
    })
    .describe("after run-end, when eval has scored the dataset"),
  z
    .object({
      type: z.literal("diarization-eval-end"),
      files: z.number().int(),
      der: z.number().describe("diarization error rate (0.05 = 5%), as NIST md-eval computes it"),
      jer: z.number().describe("Jaccard error rate (DIHARD/dscore)"),
      missed: z.number().describe("seconds of reference speaker time missed"),
      falseAlarm: z.number(),
      confusion: z.number(),
      scored: z.number().describe("seconds of reference speaker time scored"),
      collar: z.number(),
      skipOverlap: z.boolean(),
      reports: z.array(z.string()),
    })
    .describe("after run-end, when eval --diarization has scored the dataset"),
]);

export type SpeechflowEvent = z.infer<typeof eventSchema>;
export type Emit = (event: SpeechflowEvent) => void;
