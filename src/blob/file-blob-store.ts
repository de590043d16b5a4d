import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { BlobStore } from "./blob-store.js";

/** A shared folder (NFS, SMB, a local disk for one machine) as a blob store. */
export class FileBlobStore implements BlobStore {
  readonly url: string;

  constructor(private readonly root: string) {
    this.url = `file://${root}`;
  }

  private path(key: string): string {
    const full = join(this.root, key);
    // keys are ours (chunks/<job id>-<sha>), but a key must never escape the root
    if (relative(this.root, full).startsWith("..")) throw new SpeechflowError("USAGE", `blob key escapes the store: ${key}`);
    return full;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // write then rename: a worker on another machine never reads half a chunk
    // a name of its own per write: two writers of one key (same process, same millisecond) never share a temp file
    const temp = `${target}.${randomUUID()}.part`;
    await writeFile(temp, bytes);
    await rename(temp, target);
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new SpeechflowError("BLOB_NOT_FOUND", `blob ${key} is not in ${this.url}`, { cause: error });
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    const dir = this.path(prefix);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      // folders are not keys; a .part file is a write still under way
      if (!entry.isFile() || entry.name.endsWith(".part")) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join("/");
      yield key;
    }
  }

  async close(): Promise<void> {}
}
