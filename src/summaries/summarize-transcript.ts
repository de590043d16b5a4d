import { createHash } from "node:crypto";
import type PQueue from "p-queue";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { formatClock as clock } from "../outputs/format-time.js";
import type { Segment } from "../outputs/transcript.js";
import { extractiveSummary } from "./extractive-summary.js";
import type { ChatMessage, LlmEndpoint } from "./llm-endpoint.js";
import {
  type LlmSummary,
  llmSummarySchema,
  PROMPT_VERSION,
  type SummaryContent,
  type SummaryLength,
  type SummaryRecord,
  type TokenUsage,
} from "./summary-schema.js";

export interface SummaryCache {
  get(key: string): SummaryRecord | undefined;
  put(key: string, record: SummaryRecord): void;
}

export interface SummarizeOptions {
  length: SummaryLength;
  /** language to write in; empty = the transcript's */
  language: string;
  transcriptLanguage: string | null;
  /** the model's context window, in tokens; longer transcripts are summarised map-reduce */
  contextTokens: number;
  /** primary first, then the fallbacks; empty = offline extractive summary */
  endpoints: LlmEndpoint[];
  /** bounds concurrent requests across the whole run */
  queue: PQueue;
  cache: SummaryCache;
  signal: AbortSignal;
  sourceName: string;
}

export interface SummarizeResult {
  record: SummaryRecord;
  cached: boolean;
  /** set when endpoints were configured but none produced a valid summary (record is extractive) */
  error?: string;
}

const REPAIRS = 2;
/** prompt instructions and JSON output, reserved out of the context window */
const OVERHEAD_TOKENS = 700;
const OUTPUT_TOKENS = 1200;

/** About 3 characters per token: conservative for English (about 4), not far off for others. */
const estimateTokens = (text: string) => Math.ceil(text.length / 3);

/** `[mm:ss] text`, with the speaker when the transcript was diarized (action items get owners). */
const transcriptLines = (segments: (Segment & { speaker?: string })[]) =>
  segments.map((s) => `[${clock(s.start)}] ${s.speaker ? `${s.speaker}: ` : ""}${s.text.trim()}`);

const LENGTH_RULE: Record<SummaryLength, string> = {
  short: "2-3 sentences",
  medium: "one paragraph of 5-8 sentences",
  long: "3-5 paragraphs",
};

function systemPrompt(options: SummarizeOptions, scope: string): string {
  const language = options.language || options.transcriptLanguage || "";
  return [
    `You summarise ${scope}. Reply with one JSON object only, no prose and no code fence, with exactly these keys:`,
    `"title": a short title for the recording;`,
    `"summary": ${LENGTH_RULE[options.length]};`,
    `"keyPoints": array of the main points, one sentence each;`,
    `"actionItems": array of {"text", "owner"} for tasks someone agreed or was asked to do; "owner" is the person named as responsible, or null;`,
    `"chapters": array of {"title", "startSeconds"}: the topics in order, each with the time it starts in seconds, read from the [mm:ss] or [h:mm:ss] marks;`,
    `"language": the language you wrote in.`,
    language ? `Write in this language: ${language}.` : "Write in the language of the transcript.",
  ].join("\n");
}

function parseReply(content: string): { ok: true; value: LlmSummary } | { ok: false; error: string } {
  const text = content
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON (${(error as Error).message})` };
  }
  const result = llmSummarySchema.safeParse(json);
  if (!result.success) {
    return {
      ok: false,
      error: result.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; "),
    };
  }
  return { ok: true, value: result.data };
}

/** One request through the fallback chain, with invalid replies sent back for repair. */
async function callValidated(messages: ChatMessage[], options: SummarizeOptions, usage: TokenUsage): Promise<{ value: LlmSummary; endpoint: LlmEndpoint }> {
  const failures: string[] = [];
  for (const endpoint of options.endpoints) {
    if (endpoint.open) {
      failures.push(`${endpoint.label}: skipped (failing in this run)`);
      continue;
    }
    const conversation = [...messages];
    try {
      for (let attempt = 0; attempt <= REPAIRS; attempt++) {
        const reply = await options.queue.add(() => endpoint.chat(conversation, options.signal));
        usage.calls++;
        usage.promptTokens += reply.promptTokens;
        usage.completionTokens += reply.completionTokens;
        const parsed = parseReply(reply.content);
        if (parsed.ok) return { value: parsed.value, endpoint };
        if (attempt === REPAIRS)
          throw new SpeechflowError("SUMMARY_INVALID", `${endpoint.label}: invalid summary ${REPAIRS + 1} times (last: ${parsed.error})`);
        conversation.push(
          { role: "assistant", content: reply.content.slice(0, 20000) },
          { role: "user", content: `That reply is not valid: ${parsed.error}. Reply again with only the corrected JSON object, all keys present.` },
        );
      }
    } catch (raw) {
      const error = toSpeechflowError(raw);
      if (error.code === "INTERRUPTED") throw error;
      failures.push(error.message);
    }
  }
  throw new SpeechflowError("LLM_FAILED", failures.join(" | "));
}

/** Splits transcript lines into windows of at most `budget` tokens, in time order. */
function windows(lines: string[], budget: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    const t = estimateTokens(line) + 1;
    if (current.length > 0 && size + t > budget) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(line);
    size += t;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function llmSummary(segments: Segment[], options: SummarizeOptions, usage: TokenUsage): Promise<{ value: LlmSummary; endpoint: LlmEndpoint }> {
  const lines = transcriptLines(segments);
  const budget = options.contextTokens - OVERHEAD_TOKENS - OUTPUT_TOKENS;
  const parts = windows(lines, budget);
  if (parts.length <= 1) {
    return callValidated(
      [
        { role: "system", content: systemPrompt(options, "the transcript of a recording") },
        { role: "user", content: lines.join("\n") },
      ],
      options,
      usage,
    );
  }
  // map: each time window on its own (concurrently, within the queue's bound)
  const partials = await Promise.all(
    parts.map((part, k) =>
      callValidated(
        [
          {
            role: "system",
            content: systemPrompt(options, `part ${k + 1} of ${parts.length} of the transcript of a long recording (summarise only this part)`),
          },
          { role: "user", content: part.join("\n") },
        ],
        options,
        usage,
      ).then((r) => r.value),
    ),
  );
  // reduce: combine partial summaries, in groups that fit, until one is left
  let level = partials;
  for (;;) {
    const texts = level.map((p, k) => `Part ${k + 1}:\n${JSON.stringify(p)}`);
    const groups = windows(texts, budget);
    const combined = await Promise.all(
      groups.map((group) =>
        callValidated(
          [
            {
              role: "system",
              content: systemPrompt(
                options,
                "a long recording from the summaries of its consecutive parts (merge them into one summary of the whole; keep chapter times)",
              ),
            },
            { role: "user", content: group.join("\n\n") },
          ],
          options,
          usage,
        ),
      ),
    );
    if (combined.length === 1) return combined[0]!;
    level = combined.map((c) => c.value);
  }
}

export function summaryCacheKey(segments: Segment[], options: Pick<SummarizeOptions, "endpoints" | "length" | "language" | "contextTokens">): string {
  return createHash("sha256")
    .update(
      JSON.stringify({
        transcript: transcriptLines(segments),
        endpoints: options.endpoints.map((e) => [e.spec.baseURL, e.spec.model]),
        promptVersion: PROMPT_VERSION,
        length: options.length,
        language: options.language,
        contextTokens: options.contextTokens,
      }),
    )
    .digest("hex");
}

const toContent = (value: LlmSummary, durationMs: number): SummaryContent => ({
  ...value,
  chapters: value.chapters
    .map((c) => ({ title: c.title, startMs: Math.min(Math.round(c.startSeconds * 1000), durationMs) }))
    .sort((a, b) => a.startMs - b.startMs),
});

/**
 * Summarises one transcript: from the cache when the same transcript was summarised with the same
 * model, prompt version and options; else through the endpoints (map-reduce when it does not fit
 * the context); else (no endpoint, or every endpoint failed) an extractive summary, labelled.
 */
export async function summarizeTranscript(segments: Segment[], options: SummarizeOptions): Promise<SummarizeResult> {
  const base = { length: options.length, promptVersion: PROMPT_VERSION, createdAt: new Date().toISOString() };
  const durationMs = segments.length ? segments[segments.length - 1]!.end : 0;
  const extractive = (reason: string, usage: TokenUsage): SummaryRecord => ({
    ...extractiveSummary(segments, { length: options.length, language: options.transcriptLanguage, sourceName: options.sourceName }),
    ...base,
    kind: "extractive",
    reason,
    model: null,
    endpoint: null,
    usage,
  });
  const usage: TokenUsage = { calls: 0, promptTokens: 0, completionTokens: 0 };
  if (options.endpoints.length === 0) return { record: extractive("no LLM endpoint configured (llmBaseUrl)", usage), cached: false };
  if (segments.length === 0) return { record: extractive("the transcript is empty", usage), cached: false };

  const key = summaryCacheKey(segments, options);
  const hit = options.cache.get(key);
  if (hit) return { record: hit, cached: true };
  try {
    const { value, endpoint } = await llmSummary(segments, options, usage);
    const record: SummaryRecord = {
      ...toContent(value, durationMs),
      ...base,
      kind: "llm",
      model: endpoint.spec.model,
      endpoint: endpoint.label.split(" at ")[1] ?? null,
      usage,
    };
    options.cache.put(key, record);
    return { record, cached: false };
  } catch (raw) {
    const error = toSpeechflowError(raw);
    if (error.code === "INTERRUPTED") throw error;
    return { record: extractive(`the LLM summary failed: ${error.message}`, usage), cached: false, error: error.message };
  }
}
