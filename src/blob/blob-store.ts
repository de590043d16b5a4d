/**
 * Where chunk audio waits between the coordinator and queue workers. Audio never goes through
 * Redis: the coordinator writes each chunk under its job (`chunks/<job id>-<sha256 prefix>`) and the job
 * carries only the key and checksum. Drivers: a shared folder (`file://`) and S3-compatible object
 * storage (`s3://bucket/prefix`).
 */
export interface BlobStore {
  /** the store's URL without credentials, for logs and `queue status` */
  readonly url: string;
  /** writes `bytes` under `key` (atomically: a reader sees the whole blob or none) */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** the blob's bytes; rejects with a SpeechflowError BLOB_NOT_FOUND when it does not exist */
  get(key: string): Promise<Uint8Array>;
  /** removes the blob; a missing blob is not an error */
  delete(key: string): Promise<void>;
  /** every key under the folder `prefix` ("chunks" and "chunks/" list chunks/…, never chunks2/…), in no particular order */
  list(prefix: string): AsyncIterable<string>;
  /**
   * removes what writers that died mid-put left behind (older than `olderThanMs`, so a put still under
   * way is never touched) and says how many; a store whose puts are atomic on the server has none
   */
  removeAbandonedWrites(olderThanMs: number): Promise<number>;
  /** releases connections */
  close(): Promise<void>;
}
