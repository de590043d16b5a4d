import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { MODEL_CATALOG, modelFileName } from "./model-catalog.js";
import { modelSearchDirs, resolveModel, userCacheModelsDir } from "./resolve-model.js";

/** Where pulled and added models go: $SPEECHFLOW_MODELS, else the user cache dir. */
export function managedModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPEECHFLOW_MODELS || userCacheModelsDir(env);
}

export interface ModelListing {
  name: string;
  known: boolean;
  present: boolean;
  path: string | undefined;
  sizeBytes: number | undefined;
  /** size of the published file, for models not downloaded yet */
  sizeMiB: number | undefined;
}

function nameOfFile(file: string): string {
  return basename(file)
    .replace(/^ggml-/, "")
    .replace(/\.bin$/, "");
}

/** Every catalog model (present or not) and every other ggml file in the search folders. */
export function listModels(cwd: string, env: NodeJS.ProcessEnv = process.env): ModelListing[] {
  const found = new Map<string, string>();
  for (const dir of modelSearchDirs(cwd, env)) {
    let files: string[] = [];
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith(".bin"))
        .sort();
    } catch {
      continue;
    }
    for (const f of files) if (!found.has(nameOfFile(f))) found.set(nameOfFile(f), join(dir, f));
  }
  const rows: ModelListing[] = [];
  for (const entry of MODEL_CATALOG.values()) {
    const path = found.get(entry.name);
    rows.push({ name: entry.name, known: true, present: !!path, path, sizeBytes: path ? statSync(path).size : undefined, sizeMiB: entry.sizeMiB });
  }
  for (const [name, path] of found) {
    if (!MODEL_CATALOG.has(name)) rows.push({ name, known: false, present: true, path, sizeBytes: statSync(path).size, sizeMiB: undefined });
  }
  return rows;
}

/** Copies a ggml file into the managed folder under `name` (checked to be a whisper.cpp model first). */
export function addModel(file: string, name: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (!existsSync(file)) throw new SpeechflowError("MODEL_NOT_FOUND", `${file} does not exist`);
  resolveModel(file, process.cwd(), env); // validates the magic bytes
  const modelName = name ?? nameOfFile(file);
  if (!/^[A-Za-z0-9._-]+$/.test(modelName)) throw new SpeechflowError("USAGE", `model name "${modelName}" may only use letters, digits, ".", "_" and "-"`);
  const dir = managedModelsDir(env);
  mkdirSync(dir, { recursive: true });
  const target = join(dir, modelFileName(modelName));
  const tmp = `${target}.adding-${process.pid}`;
  copyFileSync(file, tmp);
  renameSync(tmp, target);
  return target;
}

/** Removes a model from the managed folder only; files elsewhere are the user's own. */
export function removeModel(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = managedModelsDir(env);
  const target = join(dir, modelFileName(name));
  if (!existsSync(target)) {
    const hadPart = existsSync(`${target}.part`);
    rmSync(`${target}.part`, { force: true });
    if (hadPart) return `${target}.part`;
    throw new SpeechflowError("MODEL_NOT_FOUND", `model ${name} is not in ${dir} (speechflow only removes models it manages)`);
  }
  rmSync(target);
  rmSync(`${target}.part`, { force: true });
  return target;
}
