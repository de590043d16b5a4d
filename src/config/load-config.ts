import { cosmiconfig } from "cosmiconfig";
import type { z } from "zod";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { CONFIG_FIELDS, coerceFieldValue } from "./config-fields.js";
import { type ConfigKey, configSchema, type SpeechflowConfig } from "./config-schema.js";

export interface LoadConfigOptions {
  cwd: string;
  /** explicit --config path; otherwise cosmiconfig searches from cwd upwards */
  configPath?: string | undefined;
  /** values from command-line flags, already typed; undefined = not given */
  flags?: Partial<Record<keyof SpeechflowConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
  /**
   * read and validate only these settings (the rest are defaults): commands that only need to find
   * the state database (status, clean, doctor) still work when an unrelated setting is invalid
   */
  only?: ConfigKey[];
}

export interface LoadedConfig {
  config: SpeechflowConfig;
  /** the config file used, if any */
  configFile: string | undefined;
}

const layerSchema = configSchema.partial().strict();

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.length > 0 ? issue.path.join(".") : "(root)";
      if (issue.code === "unrecognized_keys") {
        return `${source}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
      }
      const field = CONFIG_FIELDS.find((f) => f.key === issue.path[0]);
      const label = source === "command line" && field ? field.flag : source === "environment" && field ? field.env : `"${key}"`;
      return `${source}: ${label}: ${issue.message}`;
    })
    .join("; ");
}

function validateLayer(values: Record<string, unknown>, source: string): Partial<SpeechflowConfig> {
  const parsed = layerSchema.safeParse(values);
  if (!parsed.success) throw new SpeechflowError("CONFIG_INVALID", describeIssues(parsed.error, source));
  // partial() still fills in defaults; a layer must only carry the keys it actually sets
  const data = parsed.data as Record<string, unknown>;
  return Object.fromEntries(Object.keys(values).map((k) => [k, data[k]])) as Partial<SpeechflowConfig>;
}

function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    const raw = env[field.env];
    if (raw !== undefined && raw !== "") values[field.key] = coerceFieldValue(field, raw);
  }
  return values;
}

/** Precedence: flags > environment > config file > schema defaults. */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const explorer = cosmiconfig("speechflow", {
    // from the current directory up to the project root (the nearest package.json)
    searchStrategy: "project",
    searchPlaces: [
      "package.json",
      ".speechflowrc",
      ".speechflowrc.json",
      ".speechflowrc.yaml",
      ".speechflowrc.yml",
      "speechflow.config.json",
      "speechflow.config.yaml",
      "speechflow.config.yml",
      "speechflow.config.js",
      "speechflow.config.mjs",
      "speechflow.config.cjs",
    ],
  });
  let fileResult: { config: unknown; filepath: string } | null;
  try {
    fileResult = options.configPath ? await explorer.load(options.configPath) : await explorer.search(options.cwd);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new SpeechflowError("CONFIG_INVALID", `cannot read config ${options.configPath ?? ""}: ${reason}`.replace("  ", " "));
  }
  const fileValues = fileResult?.config ?? {};
  if (typeof fileValues !== "object" || fileValues === null || Array.isArray(fileValues)) {
    throw new SpeechflowError("CONFIG_INVALID", `${fileResult?.filepath}: expected an object of settings`);
  }
  const pick = (values: Record<string, unknown>) =>
    options.only ? Object.fromEntries(Object.entries(values).filter(([k]) => options.only!.includes(k as ConfigKey))) : values;
  const fromFile = validateLayer(pick(fileValues as Record<string, unknown>), fileResult?.filepath ?? "config");
  const fromEnv = validateLayer(pick(configFromEnv(options.env ?? process.env)), "environment");
  const flagValues = Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined));
  const fromFlags = validateLayer(pick(flagValues), "command line");
  const merged = configSchema.safeParse({ ...fromFile, ...fromEnv, ...fromFlags });
  if (!merged.success) throw new SpeechflowError("CONFIG_INVALID", describeIssues(merged.error, "config"));
  return { config: merged.data, configFile: fileResult?.filepath };
}
