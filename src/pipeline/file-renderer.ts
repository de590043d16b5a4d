import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { SpeechflowConfig } from "../config/config-schema.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import type { ResolvedModel } from "../models/resolve-model.js";
import type { JsonMetadata } from "../outputs/format-json.js";
import { formatRttm } from "../outputs/format-rttm.js";
import { renderFormat, writeOutputFile, writeOutputs } from "../outputs/write-outputs.js";
import type { DoneChunk } from "../store/chunk-table.js";
import type { StateStore } from "../store/state-store.js";
import type { TrackedFile } from "../store/tracked-file.js";
import { fileTranscript } from "./file-transcript.js";

/** Per-chunk backends for the JSON metadata, when any chunk was transcribed remotely. */
function chunkOrigins(chunks: DoneChunk[]): Pick<JsonMetadata, "chunks"> {
  if (!chunks.some((c) => c.backend?.startsWith("remote:"))) return {};
  // a json-only model (gpt-4o-transcribe) gives one segment per window: the output says so
  const origin = (c: DoneChunk) => ({
    index: c.idx,
    backend: c.backend ?? "whisper.cpp",
    ...(c.remote ? { requestIds: c.remote.requestIds } : {}),
    ...(c.remote?.granularity === "text" ? { granularity: "text" as const } : {}),
  });
  return { chunks: chunks.map(origin) };
}

/**
 * The outputs stage for one file: assembles its stored chunks (and stored speaker turns) into a
 * transcript, writes every requested format (and the RTTM when diarizing) and marks the file done.
 * Outputs depend only on stored results and settings, so a resumed or re-rendered file gets
 * byte-identical files.
 */
export class FileRenderer {
  constructor(
    private readonly config: SpeechflowConfig,
    private readonly store: StateStore,
    private readonly outputDir: string,
    private readonly model: ResolvedModel,
    private readonly settings: Record<string, unknown>,
  ) {}

  /** every requested format exists (and the RTTM when diarizing) */
  outputsPresent(outputStem: string): boolean {
    const extensions: string[] = [...this.config.formats, ...(this.config.diarize === "off" ? [] : ["rttm"])];
    return extensions.every((f) => existsSync(join(this.outputDir, `${outputStem}.${f}`)));
  }

  render(file: TrackedFile): string[] {
    const chunks = this.store.chunks.doneInOrder(file.id);
    const transcript = fileTranscript(this.store, file, this.config, { words: this.config.wordTimestamps });
    const durationMs = file.durationMs ?? 0;
    const meta = { ...this.metadata(file, durationMs, transcript.language), ...chunkOrigins(chunks) };
    const render = (f: (typeof this.config.formats)[number]) => renderFormat(f, transcript, meta, this.config.maxLineWidth);
    const outputs = writeOutputs(this.outputDir, file.outputStem, this.config.formats, render, file.path);
    const turns = this.config.diarize === "off" ? undefined : this.store.diarizations.get(file.id)?.turns;
    if (turns)
      outputs.push(
        writeOutputFile(
          this.outputDir,
          `${file.outputStem}.rttm`,
          formatRttm(
            basename(file.outputStem),
            turns.map((t) => ({ ...t, start: t.start / 1000, end: t.end / 1000 })),
          ),
        ),
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
