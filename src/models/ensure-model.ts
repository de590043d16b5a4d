import type { SpeechflowConfig } from "../config/config-schema.js";
import type { Emit } from "../core/events.js";
import { SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { MODEL_CATALOG, modelFileName } from "./model-catalog.js";
import { managedModelsDir } from "./model-store.js";
import { pullModel } from "./pull-model.js";
import { type ResolvedModel, resolveModel } from "./resolve-model.js";

/**
 * Resolves `config.model`; a published model that is missing is downloaded first when the caller
 * allows it (an interactive run) and the config is not offline. Otherwise the error says how to
 * get the model.
 */
export async function ensureModel(
  config: SpeechflowConfig,
  options: { cwd: string; env: NodeJS.ProcessEnv; allowDownload: boolean; emit: Emit; signal?: AbortSignal; retryDelayMs?: number | undefined },
): Promise<ResolvedModel> {
  try {
    return resolveModel(config.model, options.cwd, options.env);
  } catch (raw) {
    const error = toSpeechflowError(raw);
    const entry = MODEL_CATALOG.get(config.model);
    if (error.code !== "MODEL_NOT_FOUND" || !entry) throw error;
    if (config.offline) {
      throw new SpeechflowError(
        "MODEL_NOT_FOUND",
        `model ${entry.name} is not downloaded and offline mode forbids downloading it; run \`speechflow models pull ${entry.name}\` while online, or pass --model /path/to/${modelFileName(entry.name)}`,
      );
    }
    if (!options.allowDownload) {
      throw new SpeechflowError(
        "MODEL_NOT_FOUND",
        `${error.message}. Unattended runs do not download models: run \`speechflow models pull ${entry.name}\` once (${entry.sizeMiB} MiB)`,
      );
    }
    const url = `${config.modelBaseUrl.replace(/\/+$/, "")}/${modelFileName(entry.name)}`;
    options.emit({ type: "model-download-start", name: entry.name, url, sizeMiB: entry.sizeMiB });
    let lastReport = 0;
    const pulled = await pullModel(entry, {
      baseUrl: config.modelBaseUrl,
      dir: managedModelsDir(options.env),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      onProgress: (p) => {
        if (Date.now() - lastReport < 250 && p.receivedBytes !== p.totalBytes) return;
        lastReport = Date.now();
        options.emit({ type: "model-download-progress", name: entry.name, receivedBytes: p.receivedBytes, totalBytes: p.totalBytes ?? null });
      },
    });
    options.emit({ type: "model-download-done", name: entry.name, path: pulled.path, bytes: pulled.bytes, resumed: pulled.resumed });
    return resolveModel(pulled.path, options.cwd, options.env);
  }
}
