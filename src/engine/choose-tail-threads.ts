/** What a CPU worker knows when a chunk gets a slot. */
export interface TailFacts {
  /** the pipeline has said no more chunks will come (every input is decoded and planned) */
  inputEnded: boolean;
  /** chunks still waiting in this worker behind this one */
  waitingBehind: number;
  /** for each other chunk running in this worker: how long it has been running, ms */
  othersRunningMs: number[];
  /** how long a chunk took here so far with the configured threads (undefined before the first) */
  chunkMs: number | undefined;
  /** chunks this worker runs at once, and threads per chunk */
  concurrency: number;
  threads: number;
}

/**
 * The last chunk of a run on a CPU worker: started beside the others with its own few threads, it
 * ends alone while the cores the others used sit idle (one chunk in two of an odd-sized batch on the
 * default 2 x 1 layout: ~4% of a dense batch). Waiting for them and then taking every thread is
 * faster when they are nearly done: it returns the threads to use, and whether to wait first.
 * How much more threads help depends on the build: measured with whisper.cpp's CLI (tiny-sized
 * model), 2 threads against 1 are 1.95x as fast with ggml's own products but 1.4x with OpenBLAS
 * (pinned to one thread, see scripts/whisper-cpp-patches.mjs). The rule assumes the lower figure,
 * sqrt(concurrency): assuming too much would make the last chunk wait for nothing, assuming too
 * little only leaves a little speed unused.
 */
export function chooseTailThreads(f: TailFacts): { threads: number; waitForOthers: boolean } {
  const alone = { threads: f.threads, waitForOthers: false };
  if (!f.inputEnded || f.waitingBehind > 0 || f.othersRunningMs.length === 0 || f.concurrency < 2 || f.chunkMs === undefined) return alone;
  const othersLeftMs = Math.max(0, ...f.othersRunningMs.map((ran) => f.chunkMs! - ran));
  const waitThenAll = othersLeftMs + f.chunkMs / Math.sqrt(f.concurrency);
  return waitThenAll < f.chunkMs ? { threads: f.threads * f.concurrency, waitForOthers: true } : alone;
}
