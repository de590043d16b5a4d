import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * What a chunk job carries through Redis: a reference to the audio in the blob store and its
 * checksum, never the audio itself (a 30 s chunk is ~1.9 MB of samples; job data stays < 4 KB).
 */
export const chunkJobData = z.object({
  /** "<file>#<chunk>": named in errors and logs, matched by fault injection */
  label: z.string(),
  /** blob store key of the samples (chunks/<job id>-<sha256 prefix>) */
  blob: z.string(),
  /** sha256 of the blob's bytes: a worker refuses audio that is not what the coordinator wrote */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** 16 kHz mono float32 samples in the blob */
  samples: z.number().int().min(1),
  params: z.object({
    language: z.string(),
    translate: z.boolean(),
    prompt: z.string(),
    beamSize: z.number().int(),
    temperatureFallback: z.boolean(),
    wordTimestamps: z.boolean(),
  }),
});
export type ChunkJobData = z.infer<typeof chunkJobData>;

/** What a worker returns; BullMQ keeps it with the job until the coordinator has committed it. */
export const chunkJobResult = z.object({
  segments: z.array(
    z.object({
      from: z.number(),
      to: z.number(),
      text: z.string(),
      lang: z.string().optional(),
      confidence: z.number().optional(),
      tokens: z.array(z.object({ text: z.string(), id: z.number(), p: z.number(), from: z.number().optional(), to: z.number().optional() })).optional(),
    }),
  ),
  elapsedMs: z.number(),
  /** "<host>/<pid>/<device>/<n>" */
  worker: z.string(),
});
export type ChunkJobResult = z.infer<typeof chunkJobResult>;

/** failedReason prefix of chunks no attempt can fix (a worker throws BullMQ's UnrecoverableError with it) */
export const POISON_PREFIX = "poison chunk: ";

/** The samples exactly as the engine gets them (float32, little-endian): outputs stay byte-identical to a local run. */
export function encodeSamples(pcm: Float32Array): { bytes: Uint8Array; sha256: string } {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** Checks a blob against its job and turns it back into samples; the reason when it is unusable. */
export function decodeSamples(bytes: Uint8Array, data: Pick<ChunkJobData, "sha256" | "samples">): { pcm: Float32Array } | { problem: string } {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== data.sha256) return { problem: `checksum mismatch (blob ${sha256.slice(0, 12)}, job ${data.sha256.slice(0, 12)})` };
  if (bytes.byteLength !== data.samples * 4) return { problem: `${bytes.byteLength} bytes for ${data.samples} samples` };
  // copy: the blob's buffer may not be 4-byte aligned
  const pcm = new Float32Array(new Uint8Array(bytes).buffer);
  if (!pcm.every(Number.isFinite)) return { problem: "samples that are not finite numbers" };
  return { pcm };
}

/** How a finished-but-failed job's reason reads to the coordinator: may another attempt help? */
export function failureIsRetryable(failedReason: string): boolean {
  return !failedReason.startsWith(POISON_PREFIX);
}
