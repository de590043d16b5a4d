import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SpeechflowError } from "../errors/speechflow-error.js";

export interface ResolvedModel {
  /** what the user asked for ("base.en" or a path) */
  name: string;
  path: string;
  size: number;
  /** identifies the file's content cheaply (size + hash of the first MiB): part of the settings fingerprint */
  identity: string;
}

const PACKAGE_MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "models");

export function userCacheModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "speechflow", "models");
}

/** Folders searched for a model given by name, in order. */
export function modelSearchDirs(cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [env.SPEECHFLOW_MODELS, join(cwd, "models"), PACKAGE_MODELS_DIR, userCacheModelsDir(env)].filter(
    (d): d is string => typeof d === "string" && d.length > 0,
  );
  return [...new Set(dirs.map((d) => resolve(d)))];
}

function looksLikePath(value: string): boolean {
  return value.includes("/") || value.includes("\\") || value.endsWith(".bin");
}

function checkModelFile(path: string, name: string): ResolvedModel {
  const info = statSync(path);
  if (!info.isFile()) throw new SpeechflowError("MODEL_INVALID", `model ${path} is not a file`);
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(Math.min(info.size, 1 << 20));
    readSync(fd, head, 0, head.length, 0);
    if (head.length < 4 || head.readUInt32LE(0) !== 0x67676d6c) {
      throw new SpeechflowError(
        "MODEL_INVALID",
        `model ${path} is not a whisper.cpp ggml model (bad magic); use a ggml-*.bin file from the whisper.cpp model repository`,
      );
    }
    const identity = `${info.size}:${createHash("sha256").update(head).digest("hex").slice(0, 16)}`;
    return { name, path, size: info.size, identity };
  } finally {
    closeSync(fd);
  }
}

export function resolveModel(value: string, cwd: string, env: NodeJS.ProcessEnv = process.env): ResolvedModel {
  if (looksLikePath(value)) {
    const path = resolve(cwd, value);
    if (!existsSync(path)) throw new SpeechflowError("MODEL_NOT_FOUND", `model file ${path} does not exist`);
    return checkModelFile(path, basename(path));
  }
  const dirs = modelSearchDirs(cwd, env);
  for (const dir of dirs) {
    for (const file of [`ggml-${value}.bin`, `${value}.bin`]) {
      const path = join(dir, file);
      if (existsSync(path)) return checkModelFile(path, value);
    }
  }
  throw new SpeechflowError(
    "MODEL_NOT_FOUND",
    `model "${value}" not found (looked for ggml-${value}.bin in ${dirs.join(", ")}); ` +
      `download ggml-${value}.bin from https://huggingface.co/ggerganov/whisper.cpp into one of those folders, ` +
      `or pass --model /path/to/model.bin`,
  );
}
