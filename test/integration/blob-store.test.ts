import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileBlobStore } from "../../src/blob/file-blob-store.js";
import { openBlobStore } from "../../src/blob/open-blob-store.js";
import { S3BlobStore } from "../../src/blob/s3-blob-store.js";
import { describeBlobStoreContract, failureOf, listAll } from "../helpers/blob-store-contract.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";

let s3: S3TestServer;
const folders: string[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** every S3 store gets a prefix of its own in the one bucket, so tests do not see each other's keys */
const s3Env = () => ({ ...s3.env, SPEECHFLOW_RETRY_BASE_MS: "1" });

describeBlobStoreContract("file://", {
  open: async () => {
    const folder = mkdtempSync(join(tmpdir(), "speechflow-blob-"));
    folders.push(folder);
    return openBlobStore(`file://${folder}`);
  },
  second: (store) => openBlobStore(store.url),
  listKeys: 200,
});

describeBlobStoreContract("s3:// (s3rver)", {
  open: async () => openBlobStore(`s3://${s3.bucket}/run-${randomUUID()}`, s3Env()),
  second: (store) => openBlobStore(store.url, s3Env()),
  listKeys: 1050,
});

describe("S3BlobStore failures", () => {
  it("refuses a wrong access key at once with one line naming the store, not the secret", async () => {
    const store = new S3BlobStore(`s3://${s3.bucket}/denied`, { ...s3Env(), AWS_ACCESS_KEY_ID: "WRONGKEY", AWS_SECRET_ACCESS_KEY: "very-secret-value" });
    const failure = await failureOf(store.put("chunks/x", new Uint8Array([1])));
    await store.close();
    expect(failure?.code).toBe("BLOB_STORE_FAILED");
    expect(failure?.message).toContain(`s3://${s3.bucket}/denied: access denied at ${s3.endpoint} (InvalidAccessKeyId HTTP 403)`);
    expect(failure?.message).not.toContain("very-secret-value");
    expect(failure?.message).not.toContain("\n");
  });

  it("names a missing bucket and the endpoint", async () => {
    const store = new S3BlobStore("s3://no-such-bucket/p", s3Env());
    const failures = [await failureOf(store.put("chunks/x", new Uint8Array([1]))), await failureOf(listAll(store, "chunks"))];
    await store.close();
    for (const failure of failures) {
      expect(failure?.code).toBe("BLOB_STORE_FAILED");
      expect(failure?.message).toBe(`s3://no-such-bucket/p: bucket no-such-bucket does not exist at ${s3.endpoint}`);
    }
  });

  it("gives up on an unreachable endpoint after its attempts, naming the store and the endpoint", async () => {
    const closed = await freePort();
    const store = new S3BlobStore(`s3://${s3.bucket}/p`, { ...s3Env(), AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${closed}` });
    const failure = await failureOf(store.get("chunks/x"));
    await store.close();
    expect(failure?.code).toBe("BLOB_STORE_FAILED");
    expect(failure?.message).toBe(`s3://${s3.bucket}/p: get chunks/x failed at http://127.0.0.1:${closed} after 4 attempts (ECONNREFUSED)`);
  });

  it("retries 503 SlowDown and 500 answers, then succeeds", async () => {
    // a real HTTP proxy in front of s3rver that refuses the first two requests as S3 does under load
    const refusals = [503, 500];
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method}`);
      const status = refusals.shift();
      if (status) {
        req.resume();
        const code = status === 503 ? "SlowDown" : "InternalError";
        res
          .writeHead(status, { "content-type": "application/xml" })
          .end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>try again</Message></Error>`);
        return;
      }
      const upstream = request(`${s3.endpoint}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const store = new S3BlobStore(`s3://${s3.bucket}/retried`, { ...s3Env(), AWS_ENDPOINT_URL_S3: endpoint });
    try {
      await store.put("chunks/x", new Uint8Array([7, 8, 9]));
      expect(seen).toEqual(["PUT", "PUT", "PUT"]);
      expect([...(await store.get("chunks/x"))]).toEqual([7, 8, 9]);
    } finally {
      await store.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe("FileBlobStore partial writes", () => {
  it("never lists a writer's temp file; removeAbandonedWrites removes only those older than the grace", async () => {
    const folder = mkdtempSync(join(tmpdir(), "speechflow-blob-"));
    folders.push(folder);
    const store = new FileBlobStore(folder);
    await store.put("chunks/a/whole", new Uint8Array([1, 2, 3]));
    // what a coordinator killed between writeFile and rename leaves, and one still being written
    const dead = join(folder, "chunks", "a", "lost.1234.part");
    const live = join(folder, "chunks", "fresh.5678.part");
    writeFileSync(dead, "half");
    writeFileSync(live, "half");
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(dead, hourAgo, hourAgo);
    expect(await listAll(store, "chunks")).toEqual(["chunks/a/whole"]);
    expect(await store.removeAbandonedWrites(600_000)).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(await store.removeAbandonedWrites(0)).toBe(1);
    expect(existsSync(live)).toBe(false);
    expect(await store.get("chunks/a/whole")).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("has nothing to remove in an empty or missing folder", async () => {
    expect(await new FileBlobStore(join(tmpdir(), `speechflow-missing-${randomUUID()}`)).removeAbandonedWrites(0)).toBe(0);
  });
});

describe("openBlobStore", () => {
  it("opens file:// and s3:// stores; an s3 URL keeps bucket and prefix, without trailing slashes", async () => {
    const folder = mkdtempSync(join(tmpdir(), "speechflow-blob-"));
    folders.push(folder);
    expect(openBlobStore(`file://${folder}`)).toBeInstanceOf(FileBlobStore);
    const store = openBlobStore(`s3://${s3.bucket}/some/prefix/`, s3Env());
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store.url).toBe(`s3://${s3.bucket}/some/prefix`);
    await store.close();
  });

  it.each([
    ["http://example.com/x", "unsupported scheme http:"],
    ["redis://127.0.0.1/0", "unsupported scheme redis:"],
    ["not a url", "not a URL"],
    ["s3://", "does not name a bucket"],
    ["s3://Upper_Case/x", "does not name a bucket"],
    ["s3://bucket:9000/x", "does not name a bucket"],
    ["s3://bucket/x?endpoint=y", "no query or fragment"],
  ])("rejects %s with a usage error (%s)", (url, expected) => {
    let caught: { code?: string; message?: string } | undefined;
    try {
      openBlobStore(url, s3Env());
    } catch (error) {
      caught = error as typeof caught;
    }
    expect(caught?.code).toBe("USAGE");
    expect(caught?.message).toContain(expected);
  });

  it("rejects credentials in the URL without repeating them", () => {
    let message = "";
    try {
      openBlobStore("s3://AKIAEXAMPLE:s3cr3t@bucket/x", s3Env());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("AWS_ACCESS_KEY_ID");
    expect(message).not.toContain("s3cr3t");
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
