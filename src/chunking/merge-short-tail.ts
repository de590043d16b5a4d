import type { PlannedChunk } from "./chunk-planner.js";

/**
 * Remote services bill a minimum per request (Groq: 10 s) and do better with context, so no window
 * sent to them is shorter than `minSamples` unless the whole file is: the planner's last chunk,
 * when short, is joined to the one before it (a window of up to maxChunkSeconds + minSamples, well
 * under any upload limit). Two chunks are held back to know which is last; the result is a pure
 * function of the planner's output, so a resumed run sees the same windows.
 */
export class ShortTailMerger {
  private held: PlannedChunk[] = [];

  constructor(private readonly minSamples: number) {}

  push(chunks: PlannedChunk[]): PlannedChunk[] {
    if (this.minSamples <= 0) return chunks;
    this.held.push(...chunks);
    return this.held.splice(0, Math.max(0, this.held.length - 2));
  }

  finish(chunks: PlannedChunk[]): PlannedChunk[] {
    if (this.minSamples <= 0) return chunks;
    const out = this.push(chunks);
    const [before, last] = this.held.length === 2 ? this.held : [undefined, this.held[0]];
    this.held = [];
    if (!last) return out;
    if (!before) return [...out, last];
    if (last.pcm.length >= this.minSamples) return [...out, before, last];
    const pcm = new Float32Array(before.pcm.length + last.pcm.length);
    pcm.set(before.pcm);
    pcm.set(last.pcm, before.pcm.length);
    return [...out, { index: before.index, spans: [...before.spans, ...last.spans], pcm }];
  }
}
