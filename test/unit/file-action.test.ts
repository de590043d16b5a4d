import { describe, expect, it } from "vitest";
import { decideFileAction, type FileFacts } from "../../src/pipeline/file-action.js";

const settings = { fingerprint: "fp1", retryFailed: false };
const facts: FileFacts = { size: 100, mtimeMs: 5, outputStem: "a/talk", outputsPresent: true, diarizationCurrent: true };
const done = {
  status: "done" as const,
  fingerprint: "fp1",
  size: 100,
  mtimeMs: 5,
  outputStem: "a/talk",
  contentHash: "h1",
  errorCode: null,
  error: null,
};

describe("decideFileAction (the rerun policy)", () => {
  it("a new file is hashed, then transcribed from scratch", () => {
    expect(decideFileAction(facts, undefined, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...facts, contentHash: "h1" }, undefined, settings)).toEqual({ kind: "transcribe", resume: false });
  });

  it("done, same size/mtime/settings/stem and every output present: skipped without hashing", () => {
    expect(decideFileAction(facts, done, settings)).toEqual({ kind: "skip-unchanged" });
  });

  it("a missing output is re-rendered from stored chunks once the hash shows the same content", () => {
    const missing = { ...facts, outputsPresent: false };
    expect(decideFileAction(missing, done, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...missing, contentHash: "h1" }, done, settings)).toEqual({ kind: "render-outputs" });
  });

  it("touched but identical content (mtime changed, same hash): skipped after hashing", () => {
    const touched = { ...facts, mtimeMs: 9 };
    expect(decideFileAction(touched, done, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...touched, contentHash: "h1" }, done, settings)).toEqual({ kind: "skip-unchanged" });
  });

  it("changed content or changed settings: transcribed again from scratch", () => {
    expect(decideFileAction({ ...facts, mtimeMs: 9, contentHash: "h2" }, done, settings)).toEqual({ kind: "transcribe", resume: false });
    expect(decideFileAction(facts, done, { ...settings, fingerprint: "fp2" })).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...facts, contentHash: "h1" }, done, { ...settings, fingerprint: "fp2" })).toEqual({ kind: "transcribe", resume: false });
  });

  it("a new output name (stem) is not a skip: the hash decides, outputs are written under the new name", () => {
    const moved = { ...facts, outputStem: "b/talk", outputsPresent: false };
    expect(decideFileAction(moved, done, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...moved, contentHash: "h1" }, done, settings)).toEqual({ kind: "render-outputs" });
  });

  it("new diarization settings re-diarize and re-render from stored chunks, never re-transcribe", () => {
    const stale = { ...facts, diarizationCurrent: false };
    expect(decideFileAction(stale, done, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...stale, contentHash: "h1" }, done, settings)).toEqual({ kind: "render-outputs" });
    expect(decideFileAction({ ...stale, contentHash: "h2" }, done, settings)).toEqual({ kind: "transcribe", resume: false });
  });

  it("an interrupted file with the same content resumes its stored chunks", () => {
    for (const status of ["pending", "processing"] as const) {
      expect(decideFileAction({ ...facts, contentHash: "h1" }, { ...done, status }, settings)).toEqual({ kind: "transcribe", resume: true });
    }
  });

  it("a corrupt file that has not changed is reported again without decoding; retry or a change tries it again", () => {
    const corrupt = { ...done, status: "failed" as const, errorCode: "MEDIA_UNREADABLE", error: "moov atom not found" };
    expect(decideFileAction(facts, corrupt, settings)).toEqual({
      kind: "report-failure-again",
      code: "MEDIA_UNREADABLE",
      message: "moov atom not found (unchanged since; fix the file, or run speechflow retry)",
    });
    expect(decideFileAction(facts, corrupt, { ...settings, retryFailed: true })).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...facts, size: 101 }, corrupt, settings)).toEqual({ kind: "hash" });
  });

  it("a file that failed for a passing reason (a chunk, a crash) is tried again and resumes", () => {
    const chunkFailed = { ...done, status: "failed" as const, errorCode: "CHUNK_FAILED", error: "chunk 3 failed" };
    expect(decideFileAction(facts, chunkFailed, settings)).toEqual({ kind: "hash" });
    expect(decideFileAction({ ...facts, contentHash: "h1" }, chunkFailed, settings)).toEqual({ kind: "transcribe", resume: true });
  });
});
