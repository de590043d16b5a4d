import type { Emit } from "../core/events.js";
import type { ChunkTranscriber } from "../engine/chunk-transcriber.js";

/**
 * Starts the engine on first use only: a nightly re-run where nothing changed never loads a model.
 * Announces `engine-ready` once it is up.
 */
export class LazyEngine {
  private starting: Promise<ChunkTranscriber> | undefined;

  constructor(
    private readonly transcriber: ChunkTranscriber,
    private readonly emit: Emit,
  ) {}

  get(): Promise<ChunkTranscriber> {
    this.starting ??= this.transcriber.start().then(({ loadMs }) => {
      const { workers, devices } = this.transcriber.capabilities;
      this.emit({ type: "engine-ready", workers, loadMs, device: devices });
      return this.transcriber;
    });
    return this.starting;
  }

  /**
   * Starts loading now, without waiting: called as soon as a file needs transcribing, so the model
   * loads while that file is still being decoded. A failure surfaces at the next get().
   */
  warm(): void {
    this.get().catch(() => undefined);
  }

  /** every input is decoded: tells the engine, if it was started at all */
  inputEnded(): void {
    this.starting?.then((t) => t.inputEnded?.()).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.transcriber.close();
  }
}
