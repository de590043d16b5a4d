import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { APIConnectionTimeoutError, AuthenticationError, RateLimitError, toFile } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseTranscription } from "../../src/remote/parse-transcription.js";
import { type FakeTranscriptionServer, startFakeTranscriptionServer, type TranscriptionShape } from "../helpers/fake-transcription-server.js";
import { decodedSeconds, ffmpeg, speak } from "../helpers/media.js";

/*
 * The fake must speak the protocol the real `openai` package speaks, or tests of the remote
 * backend built on it prove nothing: so every case here goes through `openai` itself.
 */

let dir: string;
let flac: string;
let flacBytes: Buffer;
let clipMs: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fake-transcription-test-"));
  // about 6 s of speech: two of the fake's 5 s segments
  const wav = speak("The ferry leaves the harbour at nine. Bring a warm coat, because it gets cold on the water, even in summer.", join(dir, "clip.wav"));
  flac = join(dir, "clip.flac");
  ffmpeg(["-i", wav, "-ac", "1", "-ar", "16000", "-c:a", "flac", flac]);
  flacBytes = readFileSync(flac);
  clipMs = decodedSeconds(wav) * 1000;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: FakeTranscriptionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof startFakeTranscriptionServer>[0] = {}): Promise<FakeTranscriptionServer> {
  const server = await startFakeTranscriptionServer(options);
  servers.push(server);
  return server;
}

function client(server: FakeTranscriptionServer, extra: { apiKey?: string; timeout?: number } = {}): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: extra.apiKey ?? "sk-test", maxRetries: 0, timeout: extra.timeout ?? 20_000 });
}

const upload = () => toFile(flacBytes, "clip.flac", { type: "audio/flac" });

/** verbose_json where the shape has it; gpt-4o-transcribe only answers json */
const formatFor = (shape: TranscriptionShape) => (shape === "openai-json" ? ("json" as const) : ("verbose_json" as const));

describe("fake transcription server, driven by the openai package", () => {
  it("records the multipart fields, the key, and the uploaded audio, decoded to the clip's length", async () => {
    const server = await start();
    const result = await client(server).audio.transcriptions.create({
      file: await upload(),
      model: "whisper-1",
      language: "en",
      prompt: "Zürich, déjà vu",
      response_format: "verbose_json",
      timestamp_granularities: ["segment"],
      temperature: 0,
    });
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request).toMatchObject({
      number: 1,
      authorization: "Bearer sk-test",
      model: "whisper-1",
      language: "en",
      prompt: "Zürich, déjà vu",
      responseFormat: "verbose_json",
      timestampGranularities: ["segment"],
      status: 200,
      requestId: "req_fake_1",
    });
    // arrays go as one `name[]` field per value, numbers as their decimal text
    expect(request.fields).toEqual([
      ["model", "whisper-1"],
      ["language", "en"],
      ["prompt", "Zürich, déjà vu"],
      ["response_format", "verbose_json"],
      ["timestamp_granularities[]", "segment"],
      ["temperature", "0"],
    ]);
    expect(request.file).toMatchObject({ name: "clip.flac", type: "audio/flac" });
    expect(request.file!.bytes.equals(flacBytes)).toBe(true);
    expect(Math.abs(request.durationMs! - clipMs)).toBeLessThanOrEqual(50);
    expect(request.at).toBeLessThanOrEqual(Date.now());

    // the answer is whisper-1's verbose_json, one segment per started 5 s
    expect(result.language).toBe("english");
    expect(result.segments!.map((s) => s.text)).toEqual([" window 1 part 1", " window 1 part 2"]);
    const parsed = parseTranscription(result, { durationMs: clipMs });
    expect(parsed.granularity).toBe("segment");
    expect(parsed.language).toBe("en");
    expect(parsed.segments.map((s) => [s.from, s.to])).toEqual([
      [0, 5000],
      // the service's end (its decoding of the FLAC) is clamped to our window where it runs past it
      [5000, Math.min(Math.round(request.durationMs!), clipMs)],
    ]);
  });

  it("takes streamed uploads too (the package's own multipart encoder)", async () => {
    const server = await start();
    await client(server).audio.transcriptions.create({ file: createReadStream(flac), model: "whisper-1", response_format: "json" });
    const request = server.requests[0]!;
    expect(request.file!.name).toBe("clip.flac");
    expect(request.file!.bytes.equals(flacBytes)).toBe(true);
    expect(request.responseFormat).toBe("json");
    expect(Math.abs(request.durationMs! - clipMs)).toBeLessThanOrEqual(50);
  });

  for (const shape of ["openai-verbose", "openai-json", "whisper-server", "vllm", "groq"] as const) {
    it(`answers in the ${shape} shape, which parseTranscription reads into segments inside the window`, async () => {
      const server = await start({ shape });
      const { data, response } = await client(server)
        .audio.transcriptions.create({
          file: await upload(),
          model: "m",
          response_format: formatFor(shape),
          timestamp_granularities: shape === "openai-json" ? undefined : ["word", "segment"],
        })
        .withResponse();
      expect(response.headers.get("x-request-id")).toBe("req_fake_1");
      const parsed = parseTranscription(data, { durationMs: clipMs }, { words: true, service: shape });
      expect(parsed.segments.length).toBeGreaterThan(0);
      for (const segment of parsed.segments) {
        expect(segment.from).toBeGreaterThanOrEqual(0);
        expect(segment.to).toBeLessThanOrEqual(clipMs);
        expect(segment.from).toBeLessThanOrEqual(segment.to);
        expect(segment.text).toContain("window 1");
        for (const token of segment.tokens ?? []) expect(token.to!).toBeLessThanOrEqual(clipMs);
      }
      if (shape === "openai-json") {
        expect(parsed).toMatchObject({ granularity: "text", language: null, segments: [{ from: 0, to: clipMs }] });
        return;
      }
      expect(parsed.granularity).toBe("segment");
      expect(parsed.language).toBe("en");
      expect(parsed.durationSec! * 1000).toBeCloseTo(server.requests[0]!.durationMs!, -1);
      if (shape === "groq") expect(parsed.requestId).toBe("req_fake_1");
      // vLLM sends no words; the others do (top level, or per segment as tokens)
      expect(parsed.segments[0]!.tokens?.map((t) => t.text.trim())).toEqual(shape === "vllm" ? undefined : ["window", "1", "part", "1"]);
    });
  }

  it("answers response_format text as plain text", async () => {
    const server = await start({ shape: "groq" });
    const text = await client(server).audio.transcriptions.create({ file: await upload(), model: "whisper-large-v3", response_format: "text" });
    expect(text).toBe(" window 1 part 1 window 1 part 2\n");
    expect(parseTranscription(text, { durationMs: clipMs }).granularity).toBe("text");
  });

  it("plays scripted faults in order: a 429 carries Retry-After, then requests succeed again", async () => {
    const server = await start();
    server.script([{ status: 429, retryAfter: 1 }, { status: 500 }]);
    const api = client(server);
    const first = await api.audio.transcriptions.create({ file: await upload(), model: "whisper-1" }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RateLimitError);
    expect((first as RateLimitError).headers.get("retry-after")).toBe("1");
    expect((first as RateLimitError).error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
    const second = await api.audio.transcriptions.create({ file: await upload(), model: "whisper-1" }).catch((e: unknown) => e);
    expect(second).toMatchObject({ status: 500 });
    await expect(api.audio.transcriptions.create({ file: await upload(), model: "whisper-1" })).resolves.toMatchObject({
      text: " window 3 part 1 window 3 part 2",
    });
    expect(server.requests.map((r) => r.status)).toEqual([429, 500, 200]);
    // faulted requests still carried (and were checked for) real audio
    expect(server.requests.every((r) => Math.abs(r.durationMs! - clipMs) <= 50)).toBe(true);
  });

  it("answers 401 with OpenAI's error body when the key is wrong", async () => {
    const server = await start({ rules: { requireKey: "sk-right" } });
    const error = await client(server, { apiKey: "sk-wrong" })
      .audio.transcriptions.create({ file: await upload(), model: "whisper-1" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    expect(server.requests[0]!.authorization).toBe("Bearer sk-wrong");
    await expect(client(server, { apiKey: "sk-right" }).audio.transcriptions.create({ file: await upload(), model: "whisper-1" })).resolves.toHaveProperty(
      "text",
    );
  });

  it("rejects large uploads (scripted once, or as a rule) and unsupported fields", async () => {
    const server = await start();
    const api = client(server);
    const create = async (extra: { timestamp_granularities?: ("word" | "segment")[] } = {}) =>
      api.audio.transcriptions.create({ file: await upload(), model: "whisper-1", response_format: "verbose_json", ...extra }).then(
        () => 200,
        (e: { status?: number }) => e.status,
      );
    server.script([
      { status: 413, ifLargerThanBytes: flacBytes.length },
      { status: 413, ifLargerThanBytes: flacBytes.length - 1 },
    ]);
    expect(await create()).toBe(200); // not larger: answered normally, fault used up
    expect(await create()).toBe(413);
    server.rules = { rejectLargerThanBytes: 1000, unsupportedFields: ["timestamp_granularities"] };
    expect(await create()).toBe(413);
    expect(await create()).toBe(413);
    server.rules = { unsupportedFields: ["timestamp_granularities"] };
    const unsupported = await api.audio.transcriptions
      .create({ file: await upload(), model: "whisper-1", response_format: "verbose_json", timestamp_granularities: ["word"] })
      .catch((e: { status: number; error: unknown }) => e);
    expect(unsupported).toMatchObject({
      status: 400,
      error: { param: "timestamp_granularities", code: "unsupported_parameter", type: "invalid_request_error" },
    });
    server.script([{ status: 400, unsupported: "prompt" }]);
    expect(await create()).toBe(400);
    expect(await create()).toBe(200);
  });

  it("hangs on request, so client timeouts can be tested, and closes with the request still held", async () => {
    const server = await start();
    server.script([{ hangMs: 60_000 }]);
    const started = Date.now();
    const error = await client(server, { timeout: 500 })
      .audio.transcriptions.create({ file: await upload(), model: "whisper-1" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.requests[0]!.status).toBeUndefined();
  });

  it("answers 400 when the upload is not audio", async () => {
    const server = await start();
    const error = await client(server)
      .audio.transcriptions.create({ file: await toFile(Buffer.from("not audio at all"), "notes.txt"), model: "whisper-1" })
      .catch((e: { status: number; error: unknown }) => e);
    expect(error).toMatchObject({ status: 400, error: { param: "file" } });
    expect(server.requests[0]!.durationMs).toBeUndefined();
  });
});
