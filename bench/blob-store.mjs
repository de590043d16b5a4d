#!/usr/bin/env node
// npm run bench:blob [-- --blobs 40]
//
// What moving a chunk through the blob store costs: put, get and delete of 0.96 MB blobs (30 s of
// 16 kHz 16-bit mono, one queue chunk) on the file:// driver (a local folder) and the s3:// driver
// against the test S3 server (npm s3rver on 127.0.0.1, the one the tests start), one at a time and
// 4 at a time. Both ends share this machine, so the s3 figures are the driver's and the protocol's
// overhead, not a network's. Results: bench/results/blob-store-<date>.json.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuName, root } from "./many-files.mjs";

const BLOB_BYTES = 960_000;
const blobsAt = process.argv.indexOf("--blobs");
const BLOBS = blobsAt > 0 ? Number(process.argv[blobsAt + 1]) : 40;
/** @param {string} m */
const log = (m) => process.stderr.write(`bench:blob: ${m}\n`);
const { openBlobStore } = await import(join(root, "dist", "blob", "open-blob-store.js"));

/** @typedef {import("../src/blob/blob-store.js").BlobStore} BlobStore */

/**
 * Starts the tests' S3 server (test/helpers/s3-server-main.cjs) and resolves its endpoint.
 * @param {string} dir
 */
async function startS3(dir) {
  const main = join(root, "test", "helpers", "s3-server-main.cjs");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", main, dir, "bench-blobs"], { stdio: ["ignore", "pipe", "inherit"] });
  /** @type {string} */
  const endpoint = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.once("exit", (code) => reject(new Error(`S3 server exited (${code})`)));
  });
  return { endpoint, stop: () => child.pid && process.kill(child.pid, "SIGTERM") };
}

/**
 * Runs `op` on every index, `parallel` at a time; returns the seconds it took.
 * @param {number} parallel
 * @param {(i: number) => Promise<unknown>} op
 */
async function timed(parallel, op) {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < BLOBS) await op(next++);
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return (performance.now() - started) / 1000;
}

/**
 * @param {string} driver
 * @param {BlobStore} store
 * @param {number} parallel
 */
async function measure(driver, store, parallel) {
  const blobs = Array.from({ length: BLOBS }, () => new Uint8Array(randomBytes(BLOB_BYTES)));
  const key = (/** @type {number} */ i) => `chunks/bench-${parallel}-${i}`;
  /** @type {Record<string, unknown>} */
  const row = { driver, parallel, blobs: BLOBS, blobBytes: BLOB_BYTES };
  /** @type {[string, (i: number) => Promise<unknown>][]} */
  const ops = [
    ["put", (i) => store.put(key(i), /** @type {Uint8Array} */ (blobs[i]))],
    [
      "get",
      async (i) => {
        const bytes = await store.get(key(i));
        if (bytes.length !== BLOB_BYTES) throw new Error(`get ${key(i)}: ${bytes.length} bytes`);
      },
    ],
    ["delete", (i) => store.delete(key(i))],
  ];
  for (const [name, op] of ops) {
    const seconds = await timed(parallel, op);
    row[name] = {
      opsPerSecond: +(BLOBS / seconds).toFixed(1),
      ...(name === "delete" ? {} : { mbPerSecond: +((BLOBS * BLOB_BYTES) / 1e6 / seconds).toFixed(1) }),
    };
  }
  log(JSON.stringify(row));
  return row;
}

const folder = mkdtempSync(join(tmpdir(), "speechflow-bench-blob-"));
const s3dir = mkdtempSync(join(tmpdir(), "speechflow-bench-s3-"));
const s3 = await startS3(s3dir);
const results = [];
try {
  const file = openBlobStore(`file://${folder}`);
  const env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };
  const s3store = openBlobStore("s3://bench-blobs/run", env);
  for (const parallel of [1, 4]) {
    results.push(await measure("file", file, parallel));
    results.push(await measure("s3 (s3rver, 127.0.0.1)", s3store, parallel));
  }
  await Promise.all([file.close(), s3store.close()]);
} finally {
  s3.stop();
  rmSync(folder, { recursive: true, force: true });
  rmSync(s3dir, { recursive: true, force: true });
}
const date = new Date().toISOString().slice(0, 10);
const cpu = cpuName();
writeFileSync(join(root, "bench", "results", `blob-store-${date}.json`), `${JSON.stringify({ date, cpu, node: process.version, results }, null, 2)}\n`);
