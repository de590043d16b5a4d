import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hashFile } from "../../src/pipeline/settings-fingerprint.js";
import { ARTIFACTS } from "../helpers/paths.js";

// The content hash decides whether a file is new work; it is read through one reused 1 MiB buffer.
const dir = join(ARTIFACTS, "hash-file");
const sizes = { empty: 0, small: 1000, exact: 1 << 20, long: (5 << 20) / 2 + 7 };

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  for (const [name, size] of Object.entries(sizes)) {
    writeFileSync(join(dir, name), Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + (i >> 12)) & 255)));
  }
});

describe("hashFile (real files)", () => {
  it("gives the SHA-256 of the whole file, across buffer boundaries", async () => {
    for (const name of Object.keys(sizes)) {
      const expected = createHash("sha256")
        .update(readFileSync(join(dir, name)))
        .digest("hex");
      expect(await hashFile(join(dir, name)), name).toBe(expected);
    }
  });

  it("stops when interrupted, and names a missing file by its error code", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(hashFile(join(dir, "long"), controller.signal)).rejects.toMatchObject({ name: "AbortError" });
    await expect(hashFile(join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
