import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake does with one request: reply with content, or fail in a chosen way. */
export type Behaviour = { kind: "reply"; content: string } | { kind: "status"; status: number; retryAfter?: string; body?: unknown } | { kind: "hang" };

export interface ChatRequest {
  at: number;
  headers: IncomingMessage["headers"];
  body: { model: string; messages: { role: string; content: string }[]; response_format?: { type: string }; stream?: boolean };
}

export interface FakeOpenAi {
  /** the baseURL to give the client: http://127.0.0.1:PORT/v1 */
  baseURL: string;
  requests: ChatRequest[];
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire protocol
 * (POST /v1/chat/completions, JSON in, `chat.completion` objects with usage out, OpenAI-shaped
 * error bodies). `decide` picks each request's fate, so tests script invalid JSON, 429s, 500s
 * and hangs; the default reply is computed by `answer`.
 */
export async function startFakeOpenAi(decide: (request: ChatRequest, index: number) => Behaviour): Promise<FakeOpenAi> {
  const requests: ChatRequest[] = [];
  const hanging: ServerResponse[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "Not found", type: "invalid_request_error" } }));
        return;
      }
      const request: ChatRequest = { at: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest["body"] };
      requests.push(request);
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const behaviour = decide(request, requests.length - 1);
      // answer a little later, so that concurrent requests overlap as they would for real
      setTimeout(() => {
        const finish = () => inFlight--;
        if (behaviour.kind === "hang") {
          hanging.push(res);
          res.on("close", finish);
          return;
        }
        if (behaviour.kind === "status") {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (behaviour.retryAfter !== undefined) headers["retry-after"] = behaviour.retryAfter;
          res
            .writeHead(behaviour.status, headers)
            .end(JSON.stringify(behaviour.body ?? { error: { message: `status ${behaviour.status}`, type: "server_error" } }), finish);
          return;
        }
        const promptTokens = Math.ceil(request.body.messages.reduce((n, m) => n + m.content.length, 0) / 4);
        const completionTokens = Math.ceil(behaviour.content.length / 4);
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: `chatcmpl-${requests.length}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: request.body.model,
            choices: [{ index: 0, message: { role: "assistant", content: behaviour.content, refusal: null }, logprobs: null, finish_reason: "stop" }],
            usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
          }),
          finish,
        );
      }, 30);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid summary reply, in the language and with the chapters a test wants to find. */
export function summaryReply(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    title: "Weekly planning: Zürich office",
    summary: "The team agreed on the déjà-vu release plan. Привет from the Kyiv office; Ελληνικά notes; zażółć gęślą jaźń.",
    keyPoints: ["Release moves to Thursday", "Café budget approved"],
    actionItems: [
      { text: "Send the release notes", owner: "Maria" },
      { text: "Book the room", owner: null },
    ],
    chapters: [
      { title: "Opening", startSeconds: 0 },
      { title: "Budget", startSeconds: 4 },
    ],
    language: "en",
    ...overrides,
  });
}
