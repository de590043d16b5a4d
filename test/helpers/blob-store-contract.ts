import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { BlobStore } from "../../src/blob/blob-store.js";

/** Collects an async iterable, sorted, so two listings compare as sets. */
export async function listAll(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix)) keys.push(key);
  return keys.sort();
}

/** The rejection's SpeechflowError code and message (undefined when the promise resolved). */
export async function failureOf(promise: Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { code: e.code ?? "", message: e.message ?? String(error) };
  }
}

/** Puts `count` small blobs under `folder/`, a few at a time; returns their keys, sorted. */
async function putMany(store: BlobStore, folder: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${folder}/${String(i).padStart(5, "0")}`);
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, new TextEncoder().encode(key))));
  }
  return keys.sort();
}

/**
 * What every BlobStore must do, whatever holds the bytes (a shared folder, S3): each driver's test
 * calls this with a factory that opens a new, empty store (`second` opens another client on the
 * same store, as a second machine would). `listKeys`: how many keys the listing test writes (over
 * 1000 for S3, whose listings come in pages of 1000).
 */
export function describeBlobStoreContract(
  name: string,
  factory: { open: () => Promise<BlobStore>; second: (store: BlobStore) => BlobStore; listKeys: number },
): void {
  describe(`BlobStore contract: ${name}`, () => {
    const opened: BlobStore[] = [];
    const open = async () => {
      const store = await factory.open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it("gives back 1 MB of random bytes exactly as they were put, also through a second client", async () => {
      const store = await open();
      const bytes = new Uint8Array(randomBytes(1024 * 1024));
      await store.put("chunks/one", bytes);
      expect(Buffer.from(await store.get("chunks/one")).equals(Buffer.from(bytes))).toBe(true);
      const other = factory.second(store);
      opened.push(other);
      expect(Buffer.from(await other.get("chunks/one")).equals(Buffer.from(bytes))).toBe(true);
    });

    it("rejects a missing key with BLOB_NOT_FOUND naming the key and the store", async () => {
      const store = await open();
      const failure = await failureOf(store.get("chunks/never-written"));
      expect(failure?.code).toBe("BLOB_NOT_FOUND");
      expect(failure?.message).toContain("chunks/never-written");
      expect(failure?.message).toContain(store.url);
    });

    it("deletes a blob; deleting it again is fine, and it is gone from get and list", async () => {
      const store = await open();
      await store.put("chunks/gone", new Uint8Array([1, 2, 3]));
      await store.put("chunks/kept", new Uint8Array([4]));
      await store.delete("chunks/gone");
      await store.delete("chunks/gone");
      await store.delete("chunks/never-written");
      expect((await failureOf(store.get("chunks/gone")))?.code).toBe("BLOB_NOT_FOUND");
      expect(await listAll(store, "chunks")).toEqual(["chunks/kept"]);
    });

    it(`lists exactly the keys under a prefix (${factory.listKeys} of them), not a sibling folder's`, async () => {
      const store = await open();
      const keys = await putMany(store, "chunks", factory.listKeys);
      await store.put("chunks2/not-under-chunks", new Uint8Array([1]));
      await store.put("other/x", new Uint8Array([1]));
      expect(await listAll(store, "chunks")).toEqual(keys);
      expect(await listAll(store, "chunks/")).toEqual(keys);
      expect(await listAll(store, "nothing-here")).toEqual([]);
    });

    it("keeps nested keys apart and lists them with their full key", async () => {
      const store = await open();
      await store.put("a/b/c/deep", new Uint8Array([1]));
      await store.put("a/b/shallow", new Uint8Array([2]));
      await store.put("a/top", new Uint8Array([3]));
      expect(await listAll(store, "a")).toEqual(["a/b/c/deep", "a/b/shallow", "a/top"]);
      expect(await listAll(store, "a/b")).toEqual(["a/b/c/deep", "a/b/shallow"]);
      expect([...(await store.get("a/b/c/deep"))]).toEqual([1]);
      expect([...(await store.get("a/b/shallow"))]).toEqual([2]);
    });

    it("ends with one whole blob when two writers put the same key at once", async () => {
      const store = await open();
      const other = factory.second(store);
      opened.push(other);
      for (let round = 0; round < 5; round++) {
        const first = new Uint8Array(randomBytes(512 * 1024));
        const second = new Uint8Array(randomBytes(512 * 1024));
        await Promise.all([store.put("chunks/same", first), other.put("chunks/same", second)]);
        const got = Buffer.from(await store.get("chunks/same"));
        expect(got.equals(Buffer.from(first)) || got.equals(Buffer.from(second))).toBe(true);
      }
      expect(await listAll(store, "chunks")).toEqual(["chunks/same"]);
    });
  });
}
