// The test S3 server's process (started by s3-server.ts): npm s3rver on 127.0.0.1, objects on disk,
// with one change. s3rver writes an object in place, so two PUTs of one key interleave their bytes
// and a GET during a PUT reads half an object; S3 (and MinIO, Ceph, R2) replace an object whole,
// which the queue relies on. So each PUT is written to a temporary file and renamed into place,
// one PUT per key at a time (the metadata beside the object belongs to the same PUT).
// Usage: node --openssl-legacy-provider s3-server-main.cjs <dir> <bucket>; prints "listening on <host>:<port>".
"use strict";
const { createHash, randomUUID } = require("node:crypto");
const { createWriteStream } = require("node:fs");
const { mkdir, rename } = require("node:fs/promises");
const { dirname } = require("node:path");
const { pipeline } = require("node:stream/promises");
const S3rver = require("s3rver");

/** @type {Map<string, Promise<void>>} */
const locks = new Map();

/**
 * @param {any} store s3rver's FilesystemStore (untyped)
 * @param {any} object an S3Object: bucket, key, metadata, content (a Buffer or a stream)
 */
function putObject(store, object) {
  /** @type {string} */
  const objectPath = store.getResourcePath(object.bucket, object.key, "object");
  const previous = locks.get(objectPath) ?? Promise.resolve();
  const current = previous.then(() => writeWhole(store, object, objectPath));
  const tail = current.then(
    () => {},
    () => {},
  );
  locks.set(objectPath, tail);
  tail.then(() => {
    if (locks.get(objectPath) === tail) locks.delete(objectPath);
  });
  return current;
}

/**
 * @param {any} store
 * @param {any} object
 * @param {string} objectPath
 */
async function writeWhole(store, object, objectPath) {
  await mkdir(dirname(objectPath), { recursive: true });
  const temp = `${objectPath}.${randomUUID()}.part`;
  const md5 = createHash("md5");
  let size = 0;
  const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  await pipeline(
    source,
    async function* (chunks) {
      for await (const chunk of chunks) {
        md5.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(temp),
  );
  const digest = md5.digest("hex");
  await rename(temp, objectPath);
  await store.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
}

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) throw new Error("usage: s3-server-main.cjs <dir> <bucket>");
const server = new S3rver({ directory, address: "127.0.0.1", port: 0, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
/** @type {any} */
const store = Reflect.get(server, "store");
store.putObject = (/** @type {any} */ object) => putObject(store, object);
server
  .run()
  .then(({ address, port }) => console.log(`listening on ${address}:${port}`))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
