import { fileURLToPath } from "node:url";
import { SpeechflowError } from "../errors/speechflow-error.js";
import type { BlobStore } from "./blob-store.js";
import { FileBlobStore } from "./file-blob-store.js";
import { S3BlobStore } from "./s3-blob-store.js";

/** The blob store a `--blob` URL names: `file:///shared/folder` or `s3://bucket/prefix`. */
export function openBlobStore(url: string, env: NodeJS.ProcessEnv = process.env): BlobStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SpeechflowError("USAGE", `--blob: not a URL: ${url} (use file:///shared/folder or s3://bucket/prefix)`);
  }
  if (parsed.protocol === "file:") return new FileBlobStore(fileURLToPath(parsed));
  if (parsed.protocol === "s3:") return new S3BlobStore(url, env);
  throw new SpeechflowError("USAGE", `--blob: unsupported scheme ${parsed.protocol} in ${url} (use file:// or s3://)`);
}
