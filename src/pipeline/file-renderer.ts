import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SpeechflowConfig } from "../config/config-schema.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { SAMPLE_RATE } from "../media/ffmpeg-gateway.js";
import type { ResolvedModel } from "../models/resolve-model.js";
import type { JsonMetadata } from "../outputs/format-json.js";
import { assembleTranscript } from "../outputs/transcript.js";
import { renderFormat, writeOutputs } from "../outputs/write-outputs.js";
import type { DoneChunk } from "../store/chunk-table.js";
import type { StateStore } from "../store/state-store.js";
import type { TrackedFile } from "../store/tracked-file.js";

/**
 * The outputs stage for one file: assembles its stored chunks into a transcript, writes every
 * requested format and marks the file done. Outputs depend only on stored chunks and settings, so a
 * resumed or re-rendered file gets byte-identical files.
 */
/** Per-chunk backends for the JSON metadata, when any chunk was transcribed remotely. */
function chunkOrigins(chunks: DoneChunk[]): Pick<JsonMetadata, "chunks"> {
  if (!chunks.some((c) => c.backend?.startsWith("remote:"))) return {};
  return { chunks: chunks.map((c) => ({ index: c.idx, backend: c.backend ?? "whisper.cpp", ...(c.remote ? { requestIds: c.remote.requestIds } : {}) })) };
}

export class FileRenderer {
  constructor(
    private readonly config: SpeechflowConfig,
    private readonly store: StateStore,
    private readonly outputDir: string,
    private readonly model: ResolvedModel,
    private readonly settings: Record<string, unknown>,
  ) {}

  outputsPresent(outputStem: string): boolean {
    return this.config.formats.every((f) => existsSync(join(this.outputDir, `${outputStem}.${f}`)));
  }

  render(file: TrackedFile): string[] {
    const chunks = this.store.chunks.doneInOrder(file.id);
    const transcript = assembleTranscript(chunks, { sampleRate: SAMPLE_RATE, words: this.config.wordTimestamps });
    const durationMs = file.durationMs ?? 0;
    const meta = { ...this.metadata(file, durationMs, transcript.language), ...chunkOrigins(chunks) };
    const outputs = writeOutputs(
      this.outputDir,
      file.outputStem,
      this.config.formats,
      (f) => renderFormat(f, transcript, meta, this.config.maxLineWidth),
      file.path,
    );
    this.store.files.finish(file.id, { durationMs, chunkCount: chunks.length, language: transcript.language, outputs });
    return outputs;
  }

  private metadata(file: TrackedFile, durationMs: number, language: string | null): JsonMetadata {
    return {
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      source: { path: file.relPath, size: file.size, sha256: file.contentHash },
      model: { name: this.model.name, file: this.model.path.split("/").pop() ?? this.model.path },
      language,
      durationMs,
      settings: { ...this.settings, model: this.model.name },
    };
  }
}
