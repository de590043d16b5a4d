import { type Command, Option } from "commander";
import { CONFIG_FIELDS, coerceFieldValue } from "../config/config-fields.js";
import type { ConfigKey, SpeechflowConfig } from "../config/config-schema.js";
import { gpusToDeviceSpec } from "../engine/devices.js";

const SHORT_FLAGS: Partial<Record<keyof SpeechflowConfig, string>> = {
  output: "-o",
  model: "-m",
  formats: "-f",
  language: "-l",
  workers: "-w",
  threads: "-t",
};

/** What commander hands an action of a pipeline command: one value per schema field, plus a few CLI-only flags. */
export type RunFlags = Partial<Record<ConfigKey, string | string[] | boolean>> & {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  gpus?: string;
};

/** Flags of the commands that only read state (status, clean, doctor): they find it the same way runs do. */
export type StateFlags = { config?: string; output?: string; db?: string; json?: boolean; ffmpeg?: string; vad?: string };

export type ConfigFlags = Partial<Record<ConfigKey, unknown>>;

/** One flag per schema field, generated: help, choices and defaults come from the zod schema. */
function addConfigOptions(command: Command): void {
  for (const field of CONFIG_FIELDS) {
    const short = SHORT_FLAGS[field.key];
    const flags = `${short ? `${short}, ` : ""}${field.flag}`;
    if (field.kind === "boolean") {
      command.addOption(new Option(flags, field.description));
      command.addOption(new Option(`--no-${field.flag.slice(2)}`, `Turn off ${field.flag}`).hideHelp());
    } else if (field.key === "include" || field.key === "exclude") {
      command.addOption(
        new Option(`${flags} <glob>`, `${field.description} (repeatable)`).argParser((value: string, previous: string[] | undefined) => [
          ...(previous ?? []),
          value,
        ]),
      );
    } else {
      const placeholder = field.kind === "number" ? "<n>" : field.kind === "array" ? "<list>" : "<value>";
      const option = new Option(`${flags} ${placeholder}`, `${field.description} (default: ${JSON.stringify(field.defaultValue)})`);
      if (field.choices && field.kind === "enum") option.choices(field.choices);
      command.addOption(option);
    }
  }
}

const CONFIG_FLAG_HELP = "config file (default: searched from the current directory: speechflow.config.json, .speechflowrc, package.json#speechflow, ...)";

/** The options every command that runs the pipeline takes: config file, output mode, GPUs, settings. */
export function addRunOptions(command: Command, options: { gpus: boolean } = { gpus: true }): Command {
  command
    .option("-c, --config <path>", CONFIG_FLAG_HELP)
    .option("--json", "NDJSON events on stdout (same as --reporter json)")
    .option("-q, --quiet", "print nothing unless something failed, then the summary and the failures (same as --reporter silent)");
  if (options.gpus) command.option("--gpus <all|N>", "one worker per GPU on all (or the first N) NVIDIA GPUs; sets --device cuda:0,cuda:1,...");
  addConfigOptions(command);
  return command;
}

/** -c, -o and --db for commands that read a state database: the same precedence as runs (flags > env > config file). */
export function addStateOptions(command: Command, what: string): Command {
  return command
    .option("-c, --config <path>", CONFIG_FLAG_HELP)
    .option("-o, --output <dir>", `output folder whose ${what} (default: from the config file, else "transcripts")`)
    .option("--db <path>", "state database (default: <output>/.speechflow/state.sqlite)")
    .option("--json", "print JSON");
}

/** Commander's camelCased option values -> typed config values (still unvalidated: zod reports bad ones). */
export function flagsFromOptions(options: RunFlags): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const field of CONFIG_FIELDS) {
    const value = options[field.key];
    if (value === undefined) continue;
    flags[field.key] = typeof value === "boolean" ? value : coerceFieldValue(field, value);
  }
  if (typeof options.gpus === "string") flags.device = gpusToDeviceSpec(options.gpus);
  if (options.json === true) flags.reporter = "json";
  if (options.quiet === true) flags.reporter = "silent";
  return flags;
}

export function stateFlags(options: StateFlags): ConfigFlags {
  return { output: options.output, db: options.db, ffmpeg: options.ffmpeg, vad: options.vad };
}
