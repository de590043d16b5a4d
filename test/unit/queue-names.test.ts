import { describe, expect, it } from "vitest";
import { chunkJobData, decodeSamples, encodeSamples, failureIsRetryable, POISON_PREFIX } from "../../src/queue/chunk-payload.js";
import { parseMetricsListen } from "../../src/queue/queue-metrics.js";
import { adHocJobId, blobKeyFor, chunkJobId, queueNameFor, workerServes } from "../../src/queue/queue-names.js";
import type { WorkerInfo } from "../../src/queue/queue-registry.js";
import { redisFindings } from "../../src/queue/redis-checks.js";
import { redactRedisUrl, redisConnectionOptions } from "../../src/queue/redis-options.js";
import { waitReason } from "../../src/queue/wait-reason.js";

const params = { language: "en", translate: false, prompt: "", beamSize: 1, temperatureFallback: true, wordTimestamps: false };
const base = { modelIdentity: "7340032:abcdef0123456789", buildClass: "smart-whisper@0.8.1", params };
const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

describe("queue names and job ids", () => {
  it("the queue name depends on the model file, the engine build and every decoding setting, and has no ':'", () => {
    const name = queueNameFor(base);
    expect(name).toMatch(/^sf-[0-9a-f]{20}$/);
    expect(queueNameFor({ ...base })).toBe(name);
    const variants = [
      { ...base, modelIdentity: "7340032:0000000000000000" },
      { ...base, buildClass: "smart-whisper@0.9.0" },
      ...Object.entries({ language: "de", translate: true, prompt: "Names", beamSize: 5, temperatureFallback: false, wordTimestamps: true }).map(([k, v]) => ({
        ...base,
        params: { ...params, [k]: v },
      })),
    ];
    const names = new Set(variants.map(queueNameFor));
    expect(names.size).toBe(variants.length);
    expect(names.has(name)).toBe(false);
  });

  it("a chunk's job id is the same for the same file content, chunk and settings, differs otherwise, and has no ':'", () => {
    const id = chunkJobId(hash, 3, "0123456789abcdef0123456789abcdef");
    expect(id).toBe("9f86d081884c7d659a2feaa0c55ad015-3-0123456789abcdef");
    expect(id).not.toContain(":");
    expect(chunkJobId(hash, 4, "0123456789abcdef0123456789abcdef")).not.toBe(id);
    expect(chunkJobId(hash, 3, "fedcba9876543210fedcba9876543210")).not.toBe(id);
    expect(chunkJobId(`0${hash.slice(1)}`, 3, "0123456789abcdef0123456789abcdef")).not.toBe(id);
    expect(() => chunkJobId("a:b", 0, "x")).toThrow();
    expect(() => chunkJobId(hash, -1, "ab")).toThrow();
    expect(adHocJobId("a.wav#0", hash)).not.toBe(adHocJobId("b.wav#0", hash));
    expect(adHocJobId("a.wav#0", hash)).toMatch(/^adhoc-[0-9a-f]{40}$/);
    expect(blobKeyFor(id, hash)).toBe(`chunks/${id}-${hash.slice(0, 16)}`);
    // identical audio in two jobs (two coordinators, two files): two blobs, so one run's cleanup never removes the other's
    expect(blobKeyFor(adHocJobId("a.wav#0", hash), hash)).not.toBe(blobKeyFor(adHocJobId("b.wav#0", hash), hash));
  });

  it("a worker serves a queue only with the same model file and engine build", () => {
    expect(workerServes(base, { modelIdentity: base.modelIdentity, buildClass: base.buildClass })).toBe(true);
    expect(workerServes(base, { modelIdentity: "1:2", buildClass: base.buildClass })).toBe(false);
    expect(workerServes(base, { modelIdentity: base.modelIdentity, buildClass: "smart-whisper@0.9.0" })).toBe(false);
  });
});

describe("chunk payload", () => {
  it("samples survive the blob byte for byte; a changed byte, a wrong length or non-finite samples are refused", () => {
    const pcm = Float32Array.from({ length: 1601 }, (_, i) => Math.sin(i / 7) * 0.3);
    const { bytes, sha256 } = encodeSamples(pcm);
    const back = decodeSamples(bytes.slice(), { sha256, samples: pcm.length });
    expect("pcm" in back && Buffer.from(back.pcm.buffer).equals(Buffer.from(pcm.buffer))).toBe(true);
    const tampered = bytes.slice();
    tampered[10] = tampered[10]! ^ 1;
    expect(decodeSamples(tampered, { sha256, samples: pcm.length })).toEqual({ problem: expect.stringMatching(/^checksum mismatch/) });
    expect(decodeSamples(bytes, { sha256, samples: pcm.length + 1 })).toEqual({ problem: `${bytes.length} bytes for ${pcm.length + 1} samples` });
    const nan = encodeSamples(Float32Array.from([0, Number.NaN]));
    expect(decodeSamples(nan.bytes, { sha256: nan.sha256, samples: 2 })).toEqual({ problem: "samples that are not finite numbers" });
  });

  it("a job carries a reference to the audio, not the audio: its data stays well under 4 KB", () => {
    const pcm = new Float32Array(30 * 16000);
    const { sha256 } = encodeSamples(pcm);
    const label = `/mnt/recordings/${"department/".repeat(10)}a long meeting recording name.mp4#120`;
    const data = chunkJobData.parse({
      label,
      blob: blobKeyFor("job", sha256),
      sha256,
      samples: pcm.length,
      params: { ...params, prompt: "Names: ".repeat(40) },
    });
    expect(JSON.stringify(data).length).toBeLessThan(4096);
  });

  it("only poison chunks are final; engine crashes and missing blobs may be tried again", () => {
    expect(failureIsRetryable(`${POISON_PREFIX}a.wav#0: checksum mismatch`)).toBe(false);
    expect(failureIsRetryable("worker crashed (killed by SIGABRT)")).toBe(true);
    expect(failureIsRetryable("job stalled more than allowable limit")).toBe(true);
  });
});

describe("Redis settings", () => {
  it("reads redis:// and rediss:// URLs, with credentials and database", () => {
    expect(redisConnectionOptions("redis://queue-host:6380/2")).toMatchObject({ host: "queue-host", port: 6380, db: 2, maxRetriesPerRequest: null });
    const secure = redisConnectionOptions("rediss://user:p%40ss@h/0");
    expect(secure).toMatchObject({ host: "h", port: 6379, db: 0, username: "user", password: "p@ss", tls: {} });
    expect(redisConnectionOptions("redis://h").db).toBe(0);
    expect(() => redisConnectionOptions("http://h")).toThrow(/unsupported scheme/);
    expect(() => redisConnectionOptions("redis://h/x")).toThrow(/database must be a number/);
    expect(() => redisConnectionOptions("not a url")).toThrow(/not a URL/);
    expect(redactRedisUrl("redis://u:secret@h:1/0")).toBe("redis://u:***@h:1/0");
  });

  it("BullMQ's requirements: version >= 6.2 and noeviction are errors, AOF off a warning", () => {
    expect(redisFindings({ version: "7.0.15", maxmemoryPolicy: "noeviction", aof: true })).toEqual([]);
    expect(redisFindings({ version: "6.2.0", maxmemoryPolicy: "noeviction", aof: false })).toEqual([
      { level: "warning", message: expect.stringMatching(/AOF is off/) },
    ]);
    expect(redisFindings({ version: "6.0.9", maxmemoryPolicy: "allkeys-lru", aof: true }).map((f) => f.level)).toEqual(["error", "error"]);
    expect(redisFindings({ version: "10.1.0", maxmemoryPolicy: "unknown", aof: true })).toEqual([{ level: "warning", message: expect.any(String) }]);
  });

  it("--metrics takes PORT or HOST:PORT", () => {
    expect(parseMetricsListen("9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(parseMetricsListen("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(() => parseMetricsListen("70000")).toThrow();
    expect(() => parseMetricsListen("localhost")).toThrow();
  });
});

describe("why chunks wait", () => {
  const meta = { name: "sf-1", modelName: "large-v3-turbo", ...base };
  const worker = (modelIdentity: string, modelName: string): WorkerInfo => ({
    ...{ id: `w-${modelName}`, host: "h", pid: 1, modelName, modelIdentity, buildClass: base.buildClass },
    ...{ devices: "cpu", concurrency: 1, queues: [], processed: 0 },
  });

  it("says nothing when nothing waits or a worker serves the queue; names the model wanted and the models held otherwise", () => {
    expect(waitReason(meta, 0, [])).toBeUndefined();
    expect(waitReason(meta, 5, [worker(base.modelIdentity, "large-v3-turbo")])).toBeUndefined();
    expect(waitReason(meta, 5, [])).toMatch(/^no worker is connected; start one with model large-v3-turbo/);
    expect(waitReason(meta, 5, [worker("1:2", "base.en")])).toBe(
      `no connected worker holds model large-v3-turbo (${base.modelIdentity}) on ${base.buildClass}; connected workers hold base.en (1:2) on ${base.buildClass}`,
    );
  });
});
