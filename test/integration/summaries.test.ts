import PQueue from "p-queue";
import { afterEach, describe, expect, it } from "vitest";
import type { Segment } from "../../src/outputs/transcript.js";
import { LlmEndpoint } from "../../src/summaries/llm-endpoint.js";
import { type SummarizeOptions, summarizeTranscript } from "../../src/summaries/summarize-transcript.js";
import type { SummaryRecord } from "../../src/summaries/summary-schema.js";
import { type Behaviour, type FakeOpenAi, startFakeOpenAi, summaryReply } from "../helpers/fake-openai-server.js";

const KEY = "sk-test-SECRET-0123456789";
const servers: FakeOpenAi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(decide: (index: number) => Behaviour) {
  const server = await startFakeOpenAi((_req, i) => decide(i));
  servers.push(server);
  return server;
}

const segments = (n: number, text = "We talked about the budget and the release plan for the next quarter."): Segment[] =>
  Array.from({ length: n }, (_, i) => ({ id: i, start: i * 5000, end: i * 5000 + 4000, text: `${text} (${i})` }));

function endpoint(baseURL: string, extra: Partial<ConstructorParameters<typeof LlmEndpoint>[1]> = {}, model = "test-model") {
  return new LlmEndpoint(
    { baseURL, model, apiKeyEnv: "TEST_LLM_KEY" },
    { timeoutMs: 5000, maxRetries: 3, breakerThreshold: 5, baseDelayMs: 10, env: { TEST_LLM_KEY: KEY }, ...extra },
  );
}

function options(endpoints: LlmEndpoint[], extra: Partial<SummarizeOptions> = {}): SummarizeOptions {
  const cache = new Map<string, SummaryRecord>();
  return {
    length: "medium",
    language: "",
    transcriptLanguage: "en",
    contextTokens: 8192,
    endpoints,
    queue: new PQueue({ concurrency: 2 }),
    cache: { get: (k) => cache.get(k), put: (k, r) => void cache.set(k, r) },
    signal: new AbortController().signal,
    sourceName: "meeting.wav",
    ...extra,
  };
}

describe("LLM summaries against an OpenAI-compatible server on 127.0.0.1", () => {
  it("a diarized transcript reaches the model with each line's speaker, so action items can get owners", async () => {
    const server = await fake(() => ({ kind: "reply", content: summaryReply() }));
    const spoken = segments(2).map((s, i) => ({ ...s, speaker: i === 0 ? "Maria" : "SPEAKER_01" }));
    await summarizeTranscript(spoken, options([endpoint(server.baseURL)]));
    const prompt = server.requests[0]!.body.messages.map((m) => m.content).join("\n");
    expect(prompt).toMatch(/\[00:00\] Maria: We talked about the budget/);
    expect(prompt).toMatch(/\[00:05\] SPEAKER_01: We talked/);
  });

  it("makes a JSON-mode chat request with the key as a bearer token and returns the validated summary", async () => {
    const server = await fake(() => ({ kind: "reply", content: summaryReply() }));
    const { record, cached, error } = await summarizeTranscript(segments(3), options([endpoint(server.baseURL)]));
    expect(error).toBeUndefined();
    expect(cached).toBe(false);
    expect(record).toMatchObject({
      kind: "llm",
      model: "test-model",
      title: "Weekly planning: Zürich office",
      keyPoints: ["Release moves to Thursday", "Café budget approved"],
    });
    expect(record.actionItems[0]).toEqual({ text: "Send the release notes", owner: "Maria" });
    expect(record.chapters).toEqual([
      { title: "Opening", startMs: 0 },
      { title: "Budget", startMs: 4000 },
    ]);
    expect(record.usage.calls).toBe(1);
    expect(record.usage.promptTokens).toBeGreaterThan(0);
    const request = server.requests[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body.response_format).toEqual({ type: "json_object" });
    expect(request.body.model).toBe("test-model");
    expect(request.body.messages[1]!.content).toContain("[00:05] We talked about the budget");
    expect(JSON.stringify(record)).not.toContain(KEY);
  });

  it("sends an invalid reply back with the validation error, then accepts the corrected one", async () => {
    const server = await fake((i) => ({ kind: "reply", content: i === 0 ? '{"title": "x", "summary": 42' : summaryReply() }));
    const { record, error } = await summarizeTranscript(segments(3), options([endpoint(server.baseURL)]));
    expect(error).toBeUndefined();
    expect(record.kind).toBe("llm");
    expect(server.requests).toHaveLength(2);
    const repair = server.requests[1]!.body.messages;
    expect(repair.at(-2)).toEqual({ role: "assistant", content: '{"title": "x", "summary": 42' });
    expect(repair.at(-1)!.content).toMatch(/^That reply is not valid: not valid JSON/);
  });

  it("reports a model that keeps answering with the wrong shape, and falls back to an extractive summary", async () => {
    const server = await fake(() => ({ kind: "reply", content: JSON.stringify({ title: "t", summary: "s" }) }));
    const { record, error } = await summarizeTranscript(segments(3), options([endpoint(server.baseURL)]));
    expect(server.requests).toHaveLength(3);
    expect(error).toMatch(/invalid summary 3 times \(last: keyPoints: .*\)/);
    expect(record.kind).toBe("extractive");
    expect(record.reason).toMatch(/^the LLM summary failed/);
    expect(record.summary).toContain("We talked about the budget");
  });

  it("waits as long as Retry-After says on a 429, then succeeds", async () => {
    const server = await fake((i) =>
      i === 0
        ? { kind: "status", status: 429, retryAfter: "1", body: { error: { message: "Rate limit", type: "rate_limit" } } }
        : { kind: "reply", content: summaryReply() },
    );
    const { error } = await summarizeTranscript(segments(2), options([endpoint(server.baseURL)]));
    expect(error).toBeUndefined();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("retries a timed-out request", async () => {
    const server = await fake((i) => (i === 0 ? { kind: "hang" } : { kind: "reply", content: summaryReply() }));
    const { error } = await summarizeTranscript(segments(2), options([endpoint(server.baseURL, { timeoutMs: 400 })]));
    expect(error).toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it("opens the circuit breaker after repeated 500s: later summaries make no request at all", async () => {
    const server = await fake(() => ({ kind: "status", status: 500 }));
    const ep = endpoint(server.baseURL);
    const opts = options([ep]);
    const results = [];
    for (let k = 0; k < 3; k++) results.push(await summarizeTranscript(segments(2, `Topic number ${k} was discussed.`), opts));
    // 4 attempts for the first summary, the 5th failure in a row (second summary) opens the breaker
    expect(server.requests).toHaveLength(5);
    expect(ep.open).toBe(true);
    expect(results.every((r) => r.record.kind === "extractive")).toBe(true);
    expect(results[2]!.error).toMatch(/skipped \(failing in this run\)/);
  });

  it("falls back to the next endpoint when the primary refuses", async () => {
    const primary = await fake(() => ({
      kind: "status",
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${KEY}`, type: "invalid_request_error" } },
    }));
    const backup = await fake(() => ({ kind: "reply", content: summaryReply() }));
    const { record, error } = await summarizeTranscript(segments(2), options([endpoint(primary.baseURL), endpoint(backup.baseURL, {}, "backup-model")]));
    expect(error).toBeUndefined();
    expect(record.model).toBe("backup-model");
    expect(primary.requests).toHaveLength(1); // a 401 is not retried
    const failing = await summarizeTranscript(segments(2, "Other words."), options([endpoint(primary.baseURL)]));
    expect(failing.error).toMatch(/HTTP 401/);
    expect(failing.error).not.toContain(KEY); // the server echoed the key; it is cut out
  });

  it("summarises a transcript longer than the context map-reduce by time window, within the concurrency bound", async () => {
    const server = await fake(() => ({ kind: "reply", content: summaryReply() }));
    const long = segments(400);
    const { record, error } = await summarizeTranscript(long, options([endpoint(server.baseURL)], { contextTokens: 4096 }));
    expect(error).toBeUndefined();
    const maps = server.requests.filter((r) => /part \d+ of \d+ of the transcript/.test(r.body.messages[0]!.content));
    const total = Number(/part \d+ of (\d+)/.exec(maps[0]!.body.messages[0]!.content)![1]);
    expect(total).toBeGreaterThan(2);
    expect(maps).toHaveLength(total);
    expect(server.requests).toHaveLength(total + 1); // one reduce
    expect(server.requests.at(-1)!.body.messages[0]!.content).toMatch(/from the summaries of its consecutive parts/);
    // every request fits the context (3 characters per token, as estimated)
    for (const r of server.requests) expect(r.body.messages.reduce((n, m) => n + m.content.length, 0) / 3).toBeLessThan(4096);
    expect(server.maxInFlight).toBeLessThanOrEqual(2);
    expect(server.maxInFlight).toBe(2);
    expect(record.usage.calls).toBe(total + 1);
  });

  it("takes a summary from the cache without a request", async () => {
    const server = await fake(() => ({ kind: "reply", content: summaryReply() }));
    const opts = options([endpoint(server.baseURL)]);
    await summarizeTranscript(segments(3), opts);
    const again = await summarizeTranscript(segments(3), opts);
    expect(again.cached).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it("writes an extractive summary, labelled, when no endpoint is configured", async () => {
    const { record, error } = await summarizeTranscript(segments(20), options([]));
    expect(error).toBeUndefined();
    expect(record).toMatchObject({ kind: "extractive", reason: "no LLM endpoint configured (llmBaseUrl)", model: null });
    expect(record.summary.length).toBeGreaterThan(0);
  });
});
