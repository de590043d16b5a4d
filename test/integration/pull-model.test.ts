import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullModel } from "../../src/models/pull-model.js";
import { type ModelServer, startModelServer } from "../helpers/model-server.js";
import { MICRO_MODEL_PATH } from "../helpers/paths.js";

let model: Buffer;
let sha1: string;
let server: ModelServer;
const entry = () => ({ name: "micro", sha1, sizeMiB: 7 });
const fast = { retryDelayMs: 10, stallTimeoutMs: 5000 };

beforeAll(async () => {
  model = readFileSync(MICRO_MODEL_PATH);
  sha1 = createHash("sha1").update(model).digest("hex");
  const corrupt = Buffer.from(model);
  corrupt[corrupt.length - 1]! ^= 0xff;
  server = await startModelServer({ "ggml-micro.bin": model, "ggml-corrupt.bin": corrupt });
});
afterAll(() => server.close());

describe("pullModel against a real HTTP server on 127.0.0.1", () => {
  it("downloads, checks the SHA-1 and renames into place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    const progress: number[] = [];
    const result = await pullModel(entry(), { baseUrl: server.url, dir, ...fast, onProgress: (p) => progress.push(p.receivedBytes) });
    expect(result).toMatchObject({ path: join(dir, "ggml-micro.bin"), bytes: model.length, sha1, resumed: false });
    expect(readFileSync(result.path).equals(model)).toBe(true);
    expect(existsSync(`${result.path}.part`)).toBe(false);
    expect(progress.at(-1)).toBe(model.length);
  });

  it("a file published elsewhere (diarization models): full URL, own file name, SHA-256 checked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    const sha256 = createHash("sha256").update(model).digest("hex");
    const onnx = { name: "seg", sha1: "", sizeMiB: 7, url: `${server.url}/ggml-micro.bin`, fileName: "seg.onnx", sha256 };
    const result = await pullModel(onnx, { baseUrl: "unused", dir, ...fast });
    expect(result).toMatchObject({ path: join(dir, "seg.onnx"), bytes: model.length, sha1: sha256 });
    await expect(pullModel({ ...onnx, fileName: "bad.onnx", sha256: "0".repeat(64) }, { baseUrl: "unused", dir, ...fast })).rejects.toThrow(
      /checksum mismatch for seg: expected SHA-256 0{64}, got [0-9a-f]{64}/,
    );
    expect(existsSync(join(dir, "bad.onnx"))).toBe(false);
  });

  it("resumes with a Range request after the connection is cut half-way", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    const before = server.requests.length;
    server.cutAfter(Math.floor(model.length / 2));
    const result = await pullModel(entry(), { baseUrl: server.url, dir, ...fast });
    const mine = server.requests.slice(before);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.range).toBeUndefined();
    expect(mine[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(mine[1]!.range!)![0])).toBeGreaterThan(0);
    expect(result.resumed).toBe(true);
    expect(readFileSync(result.path).equals(model)).toBe(true);
  });

  it("resumes a .part left by an earlier, interrupted pull", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    writeFileSync(join(dir, "ggml-micro.bin.part"), model.subarray(0, 1_000_000));
    const before = server.requests.length;
    const result = await pullModel(entry(), { baseUrl: server.url, dir, ...fast });
    expect(server.requests.slice(before).map((r) => r.range)).toEqual(["bytes=1000000-"]);
    expect(readFileSync(result.path).equals(model)).toBe(true);
  });

  it("deletes the download and fails on a checksum mismatch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    await expect(pullModel({ name: "corrupt", sha1, sizeMiB: 7 }, { baseUrl: server.url, dir, ...fast })).rejects.toThrow(
      /checksum mismatch for corrupt: expected SHA-1 [0-9a-f]{40}, got [0-9a-f]{40}; the download was deleted/,
    );
    expect(existsSync(join(dir, "ggml-corrupt.bin"))).toBe(false);
    expect(existsSync(join(dir, "ggml-corrupt.bin.part"))).toBe(false);
  });

  it("explains a 404", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    await expect(pullModel({ name: "nope", sha1, sizeMiB: 1 }, { baseUrl: server.url, dir, ...fast })).rejects.toThrow(
      /model nope is not at http:\/\/127\.0\.0\.1:\d+\/ggml-nope\.bin \(HTTP 404\)/,
    );
  });

  it("explains a refused connection", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), "sf-pull-"));
    await expect(pullModel(entry(), { baseUrl: `http://127.0.0.1:${port}`, dir, ...fast })).rejects.toThrow(
      /cannot reach 127\.0\.0\.1:\d+: connection refused/,
    );
  });
});
