import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { modelSearchDirs } from "../models/resolve-model.js";

export interface DiarizationModelFile {
  path: string;
  /** size + hash of the first MiB: part of the diarization fingerprint */
  identity: string;
}

const looksLikePath = (value: string) => value.includes("/") || value.includes("\\") || value.endsWith(".onnx");

function identify(path: string): DiarizationModelFile {
  const info = statSync(path);
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(Math.min(info.size, 1 << 20));
    readSync(fd, head, 0, head.length, 0);
    return { path, identity: `${info.size}:${createHash("sha256").update(head).digest("hex").slice(0, 16)}` };
  } finally {
    closeSync(fd);
  }
}

/** A diarization model by path, or by name as `<name>.onnx` in the model folders (where models add / pull-diarization put it). */
export function findDiarizationModel(value: string, cwd: string, env: NodeJS.ProcessEnv): DiarizationModelFile | undefined {
  if (looksLikePath(value)) {
    const path = resolve(cwd, value);
    return existsSync(path) ? identify(path) : undefined;
  }
  for (const dir of modelSearchDirs(cwd, env)) {
    const path = join(dir, `${value}.onnx`);
    if (existsSync(path)) return identify(path);
  }
  return undefined;
}

export function requireDiarizationModel(value: string, what: string, cwd: string, env: NodeJS.ProcessEnv): DiarizationModelFile {
  const found = findDiarizationModel(value, cwd, env);
  if (found) return found;
  throw new SpeechflowError(
    "MODEL_NOT_FOUND",
    `${what} model "${value}" not found (looked for ${value}.onnx in ${modelSearchDirs(cwd, env).join(", ")}); ` +
      "run `speechflow models pull-diarization`, or `speechflow models add FILE.onnx --name NAME`, or use --diarize stereo for two-channel calls",
  );
}
