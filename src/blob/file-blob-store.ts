import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
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
    for (const entry of await this.files(prefix)) {
      // a .part file is a write still under way (or one whose writer died: removeAbandonedWrites)
      if (entry.name.endsWith(".part")) continue;
      yield relative(this.root, join(entry.parentPath, entry.name)).split(sep).join("/");
    }
  }

  async removeAbandonedWrites(olderThanMs: number): Promise<number> {
    // a writer killed between writeFile and rename leaves its temp file; nothing else ever removes it
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const entry of await this.files("")) {
      if (!entry.name.endsWith(".part")) continue;
      const file = join(entry.parentPath, entry.name);
      const modified = await stat(file).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      // gone meanwhile: its writer renamed it
      if (modified === undefined || modified > cutoff) continue;
      await rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  /** every file under the folder `prefix` (none when the folder does not exist) */
  private async files(prefix: string): Promise<Dirent[]> {
    try {
      const entries = await readdir(this.path(prefix), { recursive: true, withFileTypes: true });
      return entries.filter((entry) => entry.isFile());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  async close(): Promise<void> {}
}
