import { type ConfigKey, configSchema } from "./config-schema.js";

export type FieldKind = "string" | "number" | "boolean" | "array" | "enum";

export interface ConfigField {
  key: ConfigKey;
  /** `--max-chunk-seconds` */
  flag: string;
  /** `SPEECHFLOW_MAX_CHUNK_SECONDS` */
  env: string;
  kind: FieldKind;
  description: string;
  defaultValue: unknown;
  choices: string[] | undefined;
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: ZodInternals; defaultValue?: unknown; entries?: Record<string, string>; element?: ZodInternals } };
  description?: string;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Reads the zod schema once: the CLI, env parsing and docs generator all iterate these. */
export const CONFIG_FIELDS: ConfigField[] = Object.entries(configSchema.shape).map(([key, schema]) => {
  const outer = schema as unknown as ZodInternals;
  const inner = outer._zod.def.innerType ?? outer;
  const type = inner._zod.def.type;
  const kind: FieldKind = type === "array" || type === "boolean" || type === "number" || type === "enum" ? type : "string";
  const entries = inner._zod.def.entries;
  const elementEntries = inner._zod.def.element?._zod.def.entries;
  return {
    key: key as ConfigKey,
    flag: `--${kebab(key)}`,
    env: `SPEECHFLOW_${snake(key)}`,
    kind,
    description: outer.description ?? "",
    defaultValue: outer._zod.def.defaultValue,
    choices: entries ? Object.values(entries) : elementEntries ? Object.values(elementEntries) : undefined,
  };
});

/**
 * Turns a string from a flag or an environment variable into the JSON type the schema expects.
 * Values that cannot be converted are passed through unchanged so that zod reports them.
 */
export function coerceFieldValue(field: ConfigField, raw: string | string[]): unknown {
  if (field.kind === "array") {
    const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((s) => s.split(","));
    return parts.map((s) => s.trim()).filter((s) => s.length > 0);
  }
  const value = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
  if (field.kind === "number") {
    const n = Number(value);
    return value.trim() === "" || Number.isNaN(n) ? value : n;
  }
  if (field.kind === "boolean") {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    return value;
  }
  return value;
}
