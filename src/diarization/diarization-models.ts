import { createHash } from "node:crypto";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { managedModelsDir } from "../models/model-store.js";
import { modelSearchDirs } from "../models/resolve-model.js";
import { checkEmbeddingModel, checkSegmentationModel } from "./onnx-metadata.js";

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

/** `models add FILE.onnx [--name NAME]`: copies a diarization model into the models folder as `<name>.onnx`. */
export function addDiarizationModel(file: string, name: string | undefined, env: NodeJS.ProcessEnv): string {
  if (!existsSync(file)) throw new SpeechflowError("MODEL_NOT_FOUND", `${file} does not exist`);
  checkOnnxFile(file);
  const modelName = name ?? basename(file, ".onnx");
  if (!/^[A-Za-z0-9._-]+$/.test(modelName)) throw new SpeechflowError("USAGE", `model name "${modelName}" may only use letters, digits, ".", "_" and "-"`);
  const dir = managedModelsDir(env);
  mkdirSync(dir, { recursive: true });
  const target = join(dir, `${modelName}.onnx`);
  const tmp = `${target}.adding-${process.pid}`;
  copyFileSync(file, tmp);
  renameSync(tmp, target);
  return target;
}

/** Only models sherpa-onnx can load are registered: a segmentation or a speaker-embedding model, by their metadata. */
function checkOnnxFile(file: string): void {
  try {
    checkSegmentationModel(file, 16000);
  } catch (segmentation) {
    try {
      checkEmbeddingModel(file);
    } catch {
      throw new SpeechflowError(
        "MODEL_INVALID",
        `${file} is neither a pyannote segmentation model nor a speaker-embedding model sherpa-onnx can load: ${(segmentation as Error).message}`,
      );
    }
  }
}
