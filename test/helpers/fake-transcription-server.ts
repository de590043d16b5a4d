import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI audio-transcription wire protocol
 * (POST /v1/audio/transcriptions, multipart/form-data in, JSON or text out, OpenAI-shaped error
 * bodies). Every upload is decoded with ffmpeg, so tests prove real audio of the right length was
 * sent, and the answer is built from the decoded duration. Which service it imitates is the
 * `shape`; faults are scripted per request, or set as standing rules.
 */

/** Whose answer to imitate: the verbose_json dialects differ in small, breaking ways. */
export type TranscriptionShape =
  /** whisper-1: language as a name, numeric duration, top-level `words` when asked */
  | "openai-verbose"
  /** gpt-4o-transcribe: only `{ text, usage }` with token usage, whatever format was asked */
  | "openai-json"
  /** whisper.cpp's whisper-server: per-segment `words` that are really tokens, language as a name */
  | "whisper-server"
  /** vLLM: `duration` as a string, language as a code, avg_logprob null */
  | "vllm"
  /** Groq: OpenAI's shape plus `x_groq: { id }` */
  | "groq";

/** One scripted fault; each request takes the next one, in order, whether or not it applies. */
export type ScriptedFault =
  | {
      status: number;
      /** seconds, sent as a Retry-After header */
      retryAfter?: number;
      /** only when the upload is larger than this; a smaller upload is answered normally */
      ifLargerThanBytes?: number;
      /** names the parameter in an `unsupported_parameter` error body (400) */
      unsupported?: string;
      /** replaces the OpenAI-style error body */
      body?: unknown;
    }
  /** holds the answer this long (then answers normally, if the client is still there) */
  | { hangMs: number };

/** Standing rules, checked on every request after any scripted fault. */
export interface TranscriptionRules {
  /** 413 for any upload larger than this many bytes */
  rejectLargerThanBytes?: number;
  /** 401 unless `Authorization: Bearer <key>` */
  requireKey?: string;
  /** 400 with an OpenAI `unsupported_parameter` body when the request carries one of these fields */
  unsupportedFields?: string[];
}

export interface UploadedFile {
  name: string;
  type: string;
  bytes: Buffer;
}

export interface TranscriptionRequest {
  /** 1-based, over all requests this server saw */
  number: number;
  /** Date.now() when the request arrived */
  at: number;
  authorization: string | undefined;
  /** every non-file form field, in order; repeated names (`timestamp_granularities[]`) keep all values */
  fields: [string, string][];
  model: string | undefined;
  language: string | undefined;
  prompt: string | undefined;
  responseFormat: string | undefined;
  /** the values of `timestamp_granularities[]` (the openai package sends one field per value) */
  timestampGranularities: string[];
  file: UploadedFile | undefined;
  /** the upload's length as ffmpeg decodes it to 16 kHz mono; undefined when it is not audio */
  durationMs: number | undefined;
  /** the status answered; undefined while hanging, or when the client left first */
  status: number | undefined;
  requestId: string;
}

export interface FakeTranscriptionServer {
  /** base URL for the client, ending in /v1 */
  url: string;
  requests: TranscriptionRequest[];
  shape: TranscriptionShape;
  rules: TranscriptionRules;
  /** the most requests in flight at once */
  readonly maxInFlight: number;
  /** appends faults, taken one per request in order */
  script(faults: ScriptedFault[]): void;
  close(): Promise<void>;
}

export async function startFakeTranscriptionServer(options: { shape?: TranscriptionShape; rules?: TranscriptionRules } = {}): Promise<FakeTranscriptionServer> {
  const state = new ServerState(options.shape ?? "openai-verbose", options.rules ?? {});
  const server = createServer((req, res) => {
    state.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, "server_error", `fake server bug: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: state.requests,
    get shape() {
      return state.shape;
    },
    set shape(shape: TranscriptionShape) {
      state.shape = shape;
    },
    get rules() {
      return state.rules;
    },
    set rules(rules: TranscriptionRules) {
      state.rules = rules;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    script: (faults) => state.faults.push(...faults),
    close: () =>
      new Promise((resolve) => {
        state.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class ServerState {
  readonly requests: TranscriptionRequest[] = [];
  readonly faults: ScriptedFault[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly scratch = mkdtempSync(join(tmpdir(), "fake-transcription-"));

  constructor(
    public shape: TranscriptionShape,
    public rules: TranscriptionRules,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await readBody(req);
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== "/v1/audio/transcriptions") {
      sendError(res, 404, "invalid_request_error", `Invalid URL (${req.method} ${req.url})`);
      return;
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on("close", () => this.inFlight--);
    const request = await this.record(req, body, at);
    res.setHeader("x-request-id", request.requestId);
    res.on("finish", () => (request.status = res.statusCode));
    const fault = this.faults.shift();
    if (fault && "hangMs" in fault) {
      // a client that gave up must not get a late answer written into a dead socket
      let gone = false;
      res.on("close", () => (gone = true));
      this.later(fault.hangMs, () => gone || this.answer(request, res));
      return;
    }
    if (fault && applies(fault, request)) {
      sendFault(res, fault);
      return;
    }
    this.answer(request, res);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async record(req: IncomingMessage, body: Buffer, at: number): Promise<TranscriptionRequest> {
    const number = this.requests.length + 1;
    const request: TranscriptionRequest = {
      number,
      at,
      authorization: req.headers.authorization,
      fields: [],
      model: undefined,
      language: undefined,
      prompt: undefined,
      responseFormat: undefined,
      timestampGranularities: [],
      file: undefined,
      durationMs: undefined,
      status: undefined,
      requestId: `req_fake_${number}`,
    };
    // recorded before the slow parts, so requests appear in arrival order
    this.requests.push(request);
    const form = await parseForm(req, body);
    if (!form) return request;
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") request.fields.push([name, value]);
      else if (name === "file") request.file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
    }
    const field = (name: string) => request.fields.find(([n]) => n === name)?.[1];
    request.model = field("model");
    request.language = field("language");
    request.prompt = field("prompt");
    request.responseFormat = field("response_format");
    request.timestampGranularities = request.fields.filter(([n]) => n === "timestamp_granularities[]").map(([, v]) => v);
    if (request.file) request.durationMs = await this.decodedMs(request);
    return request;
  }

  /** ffmpeg reads the upload from a temp file, as real services do (some containers need seeking). */
  private async decodedMs(request: TranscriptionRequest): Promise<number | undefined> {
    const path = join(this.scratch, `upload-${request.number}`);
    writeFileSync(path, request.file!.bytes);
    try {
      const bytes = await decodedBytes(path);
      return bytes === undefined ? undefined : bytes / 4 / 16;
    } finally {
      rmSync(path, { force: true });
    }
  }

  /** The standing rules, then the answer in the current shape. */
  private answer(request: TranscriptionRequest, res: ServerResponse): void {
    const rules = this.rules;
    if (rules.requireKey !== undefined && request.authorization !== `Bearer ${rules.requireKey}`) {
      const shown = (request.authorization ?? "").replace(/^Bearer /, "").slice(0, 6);
      sendError(res, 401, "invalid_request_error", `Incorrect API key provided: ${shown}***.`, { code: "invalid_api_key" });
      return;
    }
    if (!request.model) {
      sendError(res, 400, "invalid_request_error", "you must provide a model parameter", { param: "model" });
      return;
    }
    if (!request.file) {
      sendError(res, 400, "invalid_request_error", "you must provide a file parameter", { param: "file" });
      return;
    }
    if (rules.rejectLargerThanBytes !== undefined && request.file.bytes.length > rules.rejectLargerThanBytes) {
      sendFault(res, { status: 413 });
      return;
    }
    const unsupported = request.fields.map(([name]) => baseName(name)).find((name) => rules.unsupportedFields?.includes(name));
    if (unsupported) {
      sendFault(res, { status: 400, unsupported });
      return;
    }
    if (request.durationMs === undefined) {
      sendError(
        res,
        400,
        "invalid_request_error",
        "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        {
          param: "file",
        },
      );
      return;
    }
    sendTranscription(res, this.shape, request);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Node's own WHATWG Request parses multipart exactly as a browser-grade server would. */
async function parseForm(req: IncomingMessage, body: Buffer): Promise<FormData | undefined> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  try {
    return await new Request("http://127.0.0.1/upload", { method: "POST", headers, body }).formData();
  } catch {
    return undefined;
  }
}

/** Bytes of 16 kHz mono f32 ffmpeg decodes the file to; undefined when ffmpeg cannot read it. */
function decodedBytes(path: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn("ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let bytes = 0;
    ffmpeg.stdout.on("data", (chunk: Buffer) => (bytes += chunk.length));
    ffmpeg.on("error", reject);
    ffmpeg.on("close", (code) => resolve(code === 0 && bytes > 0 ? bytes : undefined));
  });
}

/** "timestamp_granularities[]" and "timestamp_granularities" name the same parameter. */
function baseName(field: string): string {
  return field.replace(/\[.*$/, "");
}

function applies(fault: Exclude<ScriptedFault, { hangMs: number }>, request: TranscriptionRequest): boolean {
  return fault.ifLargerThanBytes === undefined || (request.file?.bytes.length ?? 0) > fault.ifLargerThanBytes;
}

/** A scripted or rule-made error, with the body OpenAI sends for that status. */
function sendFault(res: ServerResponse, fault: Exclude<ScriptedFault, { hangMs: number }>): void {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  if (fault.body !== undefined) {
    res.writeHead(fault.status, { "content-type": "application/json", ...headers }).end(JSON.stringify(fault.body));
    return;
  }
  if (fault.unsupported !== undefined) {
    const message = `Unsupported parameter: '${fault.unsupported}' is not supported with this model.`;
    sendError(res, fault.status, "invalid_request_error", message, { param: fault.unsupported, code: "unsupported_parameter", headers });
    return;
  }
  const [type, message, code] = ERRORS[fault.status] ?? ["server_error", `The server had an error (status ${fault.status}).`, null];
  sendError(res, fault.status, type, message, { code, headers });
}

const ERRORS: Record<number, [type: string, message: string, code: string | null]> = {
  400: ["invalid_request_error", "Bad request.", null],
  401: ["invalid_request_error", "Incorrect API key provided.", "invalid_api_key"],
  413: ["invalid_request_error", "Maximum content size limit exceeded.", "request_too_large"],
  429: ["requests", "Rate limit reached for requests. Please try again in 1s.", "rate_limit_exceeded"],
  500: ["server_error", "The server had an error while processing your request. Sorry about that!", null],
  503: ["server_error", "The engine is currently overloaded, please try again later.", null],
};

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  extra: { param?: string; code?: string | null; headers?: Record<string, string> } = {},
): void {
  const body = { error: { message, type, param: extra.param ?? null, code: extra.code ?? null } };
  res.writeHead(status, { "content-type": "application/json", ...extra.headers }).end(JSON.stringify(body));
}

function sendTranscription(res: ServerResponse, shape: TranscriptionShape, request: TranscriptionRequest): void {
  const transcript = buildTranscript(request);
  // response_format "text" is plain text everywhere; gpt-4o-transcribe only has json
  if (request.responseFormat === "text") {
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(`${transcript.text}\n`);
    return;
  }
  const verbose = request.responseFormat === "verbose_json" && shape !== "openai-json";
  const body = verbose ? VERBOSE[shape](transcript, request) : JSON_BODY[shape](transcript, request);
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

interface FakeSegment {
  start: number;
  end: number;
  text: string;
}

interface FakeTranscript {
  durationSec: number;
  text: string;
  segments: FakeSegment[];
}

/** One segment per started 5 s of decoded audio: " window <request> part <k>". */
function buildTranscript(request: TranscriptionRequest): FakeTranscript {
  const durationSec = (request.durationMs ?? 0) / 1000;
  const segments: FakeSegment[] = [];
  for (let k = 1; (k - 1) * 5 < durationSec; k++) {
    segments.push({ start: (k - 1) * 5, end: Math.min(k * 5, durationSec), text: ` window ${request.number} part ${k}` });
  }
  return { durationSec, segments, text: segments.map((s) => s.text).join("") };
}

/** Each word of a segment gets an equal share of its time. */
function wordsOf(segment: FakeSegment): { word: string; start: number; end: number }[] {
  const words = segment.text.trim().split(/\s+/);
  const step = (segment.end - segment.start) / words.length;
  return words.map((word, i) => ({ word, start: round(segment.start + i * step), end: round(segment.start + (i + 1) * step) }));
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;

const wants = (request: TranscriptionRequest, granularity: "word" | "segment") =>
  granularity === "segment"
    ? request.timestampGranularities.length === 0 || request.timestampGranularities.includes("segment")
    : request.timestampGranularities.includes("word");

/** OpenAI's verbose segment object, as whisper-1 (and Groq, speaches) send it. */
function openAiSegment(segment: FakeSegment, id: number) {
  return {
    id,
    seek: Math.round(segment.start * 100),
    start: round(segment.start),
    end: round(segment.end),
    text: segment.text,
    tokens: segment.text
      .trim()
      .split(/\s+/)
      .map((_, i) => 1000 + i),
    temperature: 0,
    avg_logprob: -0.25,
    compression_ratio: 1.2,
    no_speech_prob: 0.01,
  };
}

/** OpenAI: segments unless only words were asked for, top-level words when asked for. */
function openAiVerbose(transcript: FakeTranscript, request: TranscriptionRequest, language: string) {
  return {
    task: "transcribe",
    language,
    duration: round(transcript.durationSec),
    text: transcript.text,
    ...(wants(request, "word") ? { words: transcript.segments.flatMap(wordsOf) } : {}),
    ...(wants(request, "segment") ? { segments: transcript.segments.map(openAiSegment) } : {}),
  };
}

const VERBOSE: Record<TranscriptionShape, (t: FakeTranscript, r: TranscriptionRequest) => unknown> = {
  "openai-verbose": (t, r) => ({ ...openAiVerbose(t, r, "english"), usage: { type: "duration", seconds: Math.ceil(t.durationSec) } }),
  "openai-json": (t, r) => JSON_BODY["openai-json"](t, r),
  groq: (t, r) => ({ ...openAiVerbose(t, r, "English"), x_groq: { id: r.requestId } }),
  // vLLM: duration is a string, avg_logprob may be null, no words
  vllm: (t) => ({
    duration: String(round(t.durationSec)),
    language: "en",
    text: t.text,
    segments: t.segments.map((s, i) => ({ ...openAiSegment(s, i), avg_logprob: null, compression_ratio: null, no_speech_prob: null })),
    words: null,
  }),
  // whisper-server: text has a line per segment, words are tokens (" window" " 1" ...) with probabilities
  "whisper-server": (t) => ({
    task: "transcribe",
    language: "english",
    duration: t.durationSec,
    text: t.segments.map((s) => `${s.text}\n`).join(""),
    segments: t.segments.map((s, id) => ({
      id,
      text: s.text,
      start: s.start,
      end: s.end,
      words: wordsOf(s).map((w) => ({ word: ` ${w.word}`, start: w.start, end: w.end, probability: 0.9 })),
      tokens: wordsOf(s).map((_, i) => 2000 + i),
      temperature: 0,
      avg_logprob: -0.1,
      no_speech_prob: 0.02,
    })),
    detected_language: "english",
    detected_language_probability: 0.97,
    language_probabilities: { en: 0.97 },
  }),
};

const JSON_BODY: Record<TranscriptionShape, (t: FakeTranscript, r: TranscriptionRequest) => unknown> = {
  "openai-verbose": (t) => ({ text: t.text, usage: { type: "duration", seconds: Math.ceil(t.durationSec) } }),
  "openai-json": (t) => ({
    text: t.text.trim(),
    usage: { type: "tokens", input_tokens: 20, output_tokens: 8, total_tokens: 28, input_token_details: { text_tokens: 0, audio_tokens: 20 } },
  }),
  groq: (t, r) => ({ text: t.text, x_groq: { id: r.requestId } }),
  vllm: (t) => ({ text: t.text, usage: { type: "duration", seconds: Math.ceil(t.durationSec) } }),
  "whisper-server": (t) => ({ text: t.segments.map((s) => `${s.text}\n`).join("") }),
};
