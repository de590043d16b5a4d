import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { retryBaseDelayMs, withRetry } from "../core/retry.js";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { BlobStore } from "./blob-store.js";
import { classifyS3Error } from "./classify-s3-error.js";
import { type S3Settings, s3Settings } from "./s3-settings.js";

/** attempts per request, the first included: a coordinator and its workers ride out a short outage */
const ATTEMPTS = 4;
const BASE_DELAY_MS = 250;

/** the SDK module and a client made from it */
interface Connection {
  sdk: typeof import("@aws-sdk/client-s3");
  client: S3Client;
}

/**
 * S3-compatible object storage (AWS, MinIO, Ceph, R2...) as a blob store: `s3://bucket/prefix`,
 * endpoint, region and credentials from the environment as the AWS CLI reads them. A PUT is atomic
 * in S3 (a reader sees the old object, the new one or none), so no temporary key is needed.
 * The SDK is loaded on first use: it takes most of a second to import, and every CLI start pays
 * for what `openBlobStore` imports.
 */
export class S3BlobStore implements BlobStore {
  readonly url: string;
  private readonly settings: S3Settings;
  private connecting: Promise<Connection> | undefined;
  private readonly baseDelayMs: number;

  constructor(url: string, env: NodeJS.ProcessEnv = process.env) {
    this.settings = s3Settings(url, env);
    this.url = this.settings.url;
    this.baseDelayMs = retryBaseDelayMs(env) ?? BASE_DELAY_MS;
    // speechflow pins the SDK and supports Node 20 itself; the SDK's notice about its future
    // releases would otherwise be printed into every run's output on Node 20
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  }

  private connection(): Promise<Connection> {
    this.connecting ??= import("@aws-sdk/client-s3").then((sdk) => ({ sdk, client: new sdk.S3Client(this.clientConfig()) }));
    return this.connecting;
  }

  private clientConfig(): S3ClientConfig {
    const s = this.settings;
    return {
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(s.region ? { region: s.region } : {}),
      ...(s.credentials ? { credentials: s.credentials } : {}),
      forcePathStyle: s.forcePathStyle,
      // withRetry retries (one policy for every client in speechflow), so the SDK must not as well
      maxAttempts: 1,
      // CRC32 headers on every request (the SDK's default since 2025) are refused by several
      // S3-compatible servers; chunk jobs carry a SHA-256 that the reader checks anyway
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // a blackholed endpoint must fail, not hang a worker
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    };
  }

  private objectKey(key: string): string {
    if (key === "" || key.startsWith("/")) throw new SpeechflowError("USAGE", `not a blob key: "${key}"`);
    return this.settings.prefix ? `${this.settings.prefix}/${key}` : key;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connection();
    await this.request("put", key, () => client.send(new sdk.PutObjectCommand({ Bucket: this.settings.bucket, Key, Body: bytes })));
  }

  async get(key: string): Promise<Uint8Array> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connection();
    // the body is read inside the attempt, so a connection dropped mid-download is retried too
    return await this.request("get", key, async () => {
      const response = await client.send(new sdk.GetObjectCommand({ Bucket: this.settings.bucket, Key }));
      if (!response.Body) throw new SpeechflowError("BLOB_STORE_FAILED", `${this.url}: GET ${key} returned no body`);
      return await response.Body.transformToByteArray();
    });
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connection();
    // S3 answers 204 for a key that is not there: deleting twice is fine
    await this.request("delete", key, () => client.send(new sdk.DeleteObjectCommand({ Bucket: this.settings.bucket, Key })));
  }

  async *list(prefix: string): AsyncIterable<string> {
    // a prefix names a folder, as in FileBlobStore: "chunks" lists chunks/…, never chunks2/…
    const folder = prefix.replace(/^\/+|\/+$/g, "");
    const base = this.settings.prefix ? `${this.settings.prefix}/` : "";
    const Prefix = folder ? `${base}${folder}/` : base;
    const { sdk, client } = await this.connection();
    let ContinuationToken: string | undefined;
    do {
      const page = await this.request("list", prefix, () =>
        client.send(new sdk.ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix, ...(ContinuationToken ? { ContinuationToken } : {}) })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key?.startsWith(base)) yield object.Key.slice(base.length);
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async removeAbandonedWrites(): Promise<number> {
    // a PutObject that dies leaves nothing: the server keeps a whole object or none
    return 0;
  }

  async close(): Promise<void> {
    if (this.connecting) (await this.connecting).client.destroy();
  }

  /** One S3 call with retries for transient failures; every other failure becomes one clear line. */
  private async request<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(call, {
        attempts: ATTEMPTS,
        baseDelayMs: this.baseDelayMs,
        classify: (error) => ({ retry: classifyS3Error(error) === "transient" }),
      });
    } catch (error) {
      throw this.failure(op, key, error);
    }
  }

  private failure(op: string, key: string, error: unknown): SpeechflowError {
    if (error instanceof SpeechflowError) return error;
    const kind = classifyS3Error(error);
    const where = this.settings.endpoint ? ` at ${new URL(this.settings.endpoint).origin}` : "";
    const what = errorName(error);
    const reason: Record<typeof kind, string> = {
      "not-found": `blob ${key} is not in ${this.url}`,
      denied: `${this.url}: access denied${where} (${what}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN`,
      "no-bucket": `${this.url}: bucket ${this.settings.bucket} does not exist${where}`,
      "no-credentials": `${this.url}: no S3 credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`,
      "no-region": `${this.url}: no region; set AWS_REGION`,
      transient: `${this.url}: ${op} ${key} failed${where} after ${ATTEMPTS} attempts (${what})`,
      final: `${this.url}: ${op} ${key} failed${where} (${what})`,
    };
    const code = kind === "not-found" ? "BLOB_NOT_FOUND" : "BLOB_STORE_FAILED";
    return new SpeechflowError(code, reason[kind], { cause: error, retryable: kind === "transient" });
  }
}

/** "NoSuchBucket", "ECONNREFUSED", "HTTP 500": never the message, which may quote a request. */
function errorName(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e?.$metadata?.httpStatusCode === "number" ? ` HTTP ${e.$metadata.httpStatusCode}` : "";
  const code = typeof e?.code === "string" ? e.code : typeof e?.name === "string" ? e.name : "unknown error";
  return `${code}${status}`;
}
