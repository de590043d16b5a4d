import { z } from "zod";

/** Bump when the prompts or the schema change: cached summaries made with another version are redone. */
export const PROMPT_VERSION = 1;

export const SUMMARY_LENGTHS = ["short", "medium", "long"] as const;
export type SummaryLength = (typeof SUMMARY_LENGTHS)[number];

/** What the model must return (validated; invalid output is sent back with the error). */
export const llmSummarySchema = z.object({
  title: z.string().min(1).max(200),
  summary: z.string().min(1),
  keyPoints: z.array(z.string().min(1)).max(30),
  actionItems: z.array(z.object({ text: z.string().min(1), owner: z.string().nullable().optional() })).max(50),
  chapters: z.array(z.object({ title: z.string().min(1), startSeconds: z.number().min(0) })).max(100),
  language: z.string().min(2).max(40),
});
export type LlmSummary = z.infer<typeof llmSummarySchema>;

/** A summary as speechflow keeps it: chapters in milliseconds of the file's time. */
export interface SummaryContent extends Omit<LlmSummary, "chapters"> {
  chapters: { title: string; startMs: number }[];
}

export interface TokenUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

/** `<name>.summary.json`: the summary plus where it came from. */
export interface SummaryRecord extends SummaryContent {
  /** llm: written by a model; extractive: sentences picked from the transcript, offline */
  kind: "llm" | "extractive";
  /** for extractive: why no model wrote it ("no endpoint configured" or the failure) */
  reason?: string;
  model: string | null;
  endpoint: string | null;
  length: SummaryLength;
  promptVersion: number;
  usage: TokenUsage;
  createdAt: string;
}
