import { existsSync, rmSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { CONFIG_FIELDS, coerceFieldValue } from "../config/config-fields.js";
import { loadConfig } from "../config/load-config.js";
import type { SpeechflowConfig } from "../config/config-schema.js";
import { TOOL_VERSION } from "../core/tool-version.js";
import { doctorReport } from "../core/doctor-report.js";
import { ExitCode, SpeechflowError, toSpeechflowError } from "../errors/speechflow-error.js";
import { readListFile } from "../inputs/scan-inputs.js";
import { defaultDbPath, runTranscribe } from "../pipeline/run-transcribe.js";
import { StateStore } from "../store/state-store.js";
import { RunLock } from "../store/run-lock.js";
import { runEval } from "../pipeline/run-eval.js";
import { runSummarize } from "../pipeline/run-summarize.js";
import { isUrl } from "../inputs/download-url.js";
import type { RunContext } from "../core/run-context.js";
import cliProgress from "cli-progress";
import { MODEL_CATALOG } from "../models/model-catalog.js";
import { addModel, listModels, managedModelsDir, removeModel } from "../models/model-store.js";
import { pullModel } from "../models/pull-model.js";
import { resolveModel } from "../models/resolve-model.js";
import { gpusToDeviceSpec } from "../engine/devices.js";
import { JsonReporter } from "../reporters/json-reporter.js";
import { PlainReporter } from "../reporters/plain-reporter.js";
import { ProgressReporter } from "../reporters/progress-reporter.js";
import type { Reporter } from "../reporters/reporter.js";
import { SilentReporter } from "../reporters/silent-reporter.js";
import { terminalChalk } from "../reporters/terminal-style.js";
import { formatDuration } from "../reporters/run-stats.js";

const SHORT_FLAGS: Partial<Record<keyof SpeechflowConfig, string>> = {
  output: "-o",
  model: "-m",
  formats: "-f",
  language: "-l",
  workers: "-w",
  threads: "-t",
};

const EXAMPLES = `
Examples:
  $ speechflow transcribe ./recordings -o ./transcripts
  $ speechflow transcribe "talks/**/*.mp4" --model ./models/ggml-small.bin --language de
  $ find /data -name '*.wav' | speechflow transcribe --from-list - --formats txt,json
  $ speechflow transcribe ./podcasts --workers 2 --threads 2 --word-timestamps --json > events.ndjson
  $ OPENAI_API_KEY=... speechflow transcribe ./meetings --summarize --pdf --report --llm-base-url https://api.openai.com/v1 --llm-model gpt-4o-mini
  $ speechflow summarize -o ./transcripts --pdf --llm-base-url http://127.0.0.1:11434/v1 --llm-model llama3.1:8b
  $ speechflow transcribe https://example.org/talk.mp3 --notify-url https://hooks.example.org/speechflow
  $ speechflow status -o ./transcripts --json
  $ speechflow retry -o ./transcripts
  $ speechflow eval ./LibriSpeech/test-clean -o ./eval --model small.en --max-wer 0.15
  $ speechflow models pull base.en

Exit codes:
  0    every input was transcribed (or was already up to date)
  1    fatal error (no ffmpeg, model missing or unloadable, state database unusable)
  2    usage or configuration error
  3    the run finished but some inputs failed (each is listed with its cause)
  4    eval: the overall WER is above --max-wer
  75   another run is using the same state database; try again later
  130  interrupted (Ctrl-C); 143 on SIGTERM. Run the same command again to resume.
`;

function addConfigOptions(command: Command): void {
  for (const field of CONFIG_FIELDS) {
    const short = SHORT_FLAGS[field.key];
    const flags = `${short ? short + ", " : ""}${field.flag}`;
    const described = `${field.description} (default: ${JSON.stringify(field.defaultValue)})`;
    if (field.kind === "boolean") {
      command.addOption(new Option(flags, field.description));
      command.addOption(new Option(`--no-${field.flag.slice(2)}`, `Turn off ${field.flag}`).hideHelp());
    } else if (field.key === "include" || field.key === "exclude") {
      command.addOption(
        new Option(`${flags} <glob>`, `${field.description} (repeatable)`).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
      );
    } else {
      const placeholder = field.kind === "number" ? "<n>" : field.kind === "array" ? "<list>" : "<value>";
      const option = new Option(`${flags} ${placeholder}`, described);
      if (field.choices && field.kind === "enum") option.choices(field.choices);
      command.addOption(option);
    }
  }
}

/** The options every command that runs the pipeline takes: config file, output mode, GPUs, settings. */
function addRunOptions(command: Command, options: { gpus: boolean } = { gpus: true }): void {
  command
    .option("-c, --config <path>", "config file (default: searched from the current directory: speechflow.config.json, .speechflowrc, package.json#speechflow, ...)")
    .option("--json", "NDJSON events on stdout (same as --reporter json)")
    .option("-q, --quiet", "print nothing unless something failed, then the summary and the failures (same as --reporter silent)");
  if (options.gpus) command.option("--gpus <all|N>", "one worker per GPU on all (or the first N) NVIDIA GPUs; sets --device cuda:0,cuda:1,...");
  addConfigOptions(command);
}

/** Commander's camelCased option values -> typed config values (still unvalidated). */
function flagsFromOptions(options: Record<string, unknown>): Partial<Record<keyof SpeechflowConfig, unknown>> {
  const flags: Partial<Record<keyof SpeechflowConfig, unknown>> = {};
  for (const field of CONFIG_FIELDS) {
    const value = options[field.key];
    if (value === undefined) continue;
    flags[field.key] = typeof value === "boolean" ? value : coerceFieldValue(field, value as string | string[]);
  }
  if (typeof options.gpus === "string") flags.device = gpusToDeviceSpec(options.gpus);
  if (options.json === true) flags.reporter = "json";
  if (options.quiet === true) flags.reporter = "silent";
  return flags;
}

function pickReporter(config: SpeechflowConfig, env: NodeJS.ProcessEnv): Reporter {
  const chalk = terminalChalk(process.stderr, env);
  const mode = config.reporter === "auto" ? (process.stderr.isTTY ? "progress" : "plain") : config.reporter;
  if (mode === "json") return new JsonReporter(process.stdout, process.stderr);
  if (mode === "silent") return new SilentReporter(process.stderr, chalk);
  if (mode === "progress") return new ProgressReporter(process.stderr, chalk);
  return new PlainReporter(process.stderr, chalk);
}

function stateDbPath(config: SpeechflowConfig, cwd: string): string {
  return config.db ? resolve(cwd, config.db) : defaultDbPath(resolve(cwd, config.output));
}

const isInside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
};

/**
 * Runs a pipeline with a reporter and signal handling: the first Ctrl-C (or SIGTERM) stops after
 * the chunks in flight, the second quits at once. Maps an interrupted run to 130/143.
 */
async function withRun<T extends { status: "completed" | "interrupted" }>(
  config: SpeechflowConfig,
  env: NodeJS.ProcessEnv,
  run: (ctx: RunContext, allowModelDownload: boolean) => Promise<T>,
): Promise<T> {
  const reporter = pickReporter(config, env);
  const controller = new AbortController();
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (signalName) {
      reporter.close();
      process.stderr.write("speechflow: stopped at once; finished chunks are saved\n");
      process.exit(name === "SIGTERM" ? 143 : ExitCode.interrupted);
    }
    signalName = name;
    if (config.reporter !== "json") process.stderr.write(`\nspeechflow: stopping after the chunks in progress (${name} again to quit now)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // a missing model is downloaded when a person is watching (a terminal), never from cron
    const allowModelDownload = process.stderr.isTTY === true && config.reporter !== "json";
    const result = await run({ config, emit: (e) => reporter.onEvent(e), signal: controller.signal }, allowModelDownload);
    if (result.status === "interrupted") throw new ExitRequest(signalName === "SIGTERM" ? 143 : ExitCode.interrupted);
    return result;
  } finally {
    reporter.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function buildProgram(env: NodeJS.ProcessEnv, cwd: string): Command {
  const program = new Command();
  program
    .name("speechflow")
    .description("Batch speech transcription on whisper.cpp: folders of audio and video in, transcripts out. Resumes where it stopped.")
    .version(TOOL_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXAMPLES)
    .exitOverride();

  const transcribe = program
    .command("transcribe")
    .description("Transcribe files, folders (recursively), globs, http(s) URLs and --from-list entries into txt/srt/vtt/json; --summarize and --pdf add summaries and PDF reports")
    .argument("[inputs...]", "files, directories, globs or http(s) URLs")
    .option("--from-list <file>", "read inputs from a file, one per line ('-' = stdin)")
    .addHelpText("after", EXAMPLES)
    .exitOverride();
  addRunOptions(transcribe);
  transcribe.action(async (inputs: string[], options: Record<string, unknown>) => {
    const { config } = await loadConfig({ cwd, configPath: options.config as string | undefined, flags: flagsFromOptions(options), env });
    const listEntries = options.fromList ? await readListFile(options.fromList as string, cwd) : [];
    if (inputs.length === 0 && listEntries.length === 0 && !options.fromList) {
      throw new SpeechflowError("USAGE", "no inputs: give files, folders, globs or URLs, or --from-list FILE");
    }
    const summary = await withRun(config, env, (ctx, allowModelDownload) => runTranscribe({ inputs, listEntries, cwd, env, allowModelDownload }, ctx));
    if (summary.failed > 0 || (summary.summaries?.failed ?? 0) > 0) throw new ExitRequest(ExitCode.someInputsFailed);
  });

  const retry = program
    .command("retry")
    .description("Transcribe again only the files that failed in earlier runs (same output folder and state database)")
    .exitOverride();
  addRunOptions(retry);
  retry.action(async (options: Record<string, unknown>) => {
    const { config } = await loadConfig({ cwd, configPath: options.config as string | undefined, flags: flagsFromOptions(options), env });
    const dbPath = stateDbPath(config, cwd);
    const store = StateStore.open(dbPath);
    const failed = store.filesWithStatus("failed");
    store.close();
    if (failed.length === 0) {
      process.stderr.write(`speechflow: nothing to retry: no failed files in ${dbPath}\n`);
      return;
    }
    const items = failed.map((row) => ({ path: row.path, relPath: row.rel_path, outputStem: row.output_stem, ...(isUrl(row.path) ? { url: row.path } : {}) }));
    const summary = await withRun(config, env, (ctx, allowModelDownload) =>
      runTranscribe({ inputs: [], cwd, env, allowModelDownload, retryFailed: true, media: { items, problems: [] } }, ctx),
    );
    if (summary.failed > 0 || (summary.summaries?.failed ?? 0) > 0) throw new ExitRequest(ExitCode.someInputsFailed);
  });

  const summarize = program
    .command("summarize")
    .description("Summaries (and with --pdf, PDF reports) for transcripts already in the output folder, without transcribing anything")
    .option("--force", "write them again even when they are up to date")
    .exitOverride();
  addRunOptions(summarize, { gpus: false });
  summarize.action(async (options: Record<string, unknown>) => {
    const flags = flagsFromOptions(options);
    const { config } = await loadConfig({ cwd, configPath: options.config as string | undefined, flags: { summarize: true, ...flags }, env });
    const dbPath = stateDbPath(config, cwd);
    if (!existsSync(dbPath)) throw new SpeechflowError("USAGE", `no state database at ${dbPath}: transcribe into that output folder first (or pass --db)`);
    const result = await withRun(config, env, (ctx) => runSummarize({ cwd, env, force: options.force === true }, ctx));
    if (result.summaries.failed > 0) throw new ExitRequest(ExitCode.someInputsFailed);
  });

  const evaluate = program
    .command("eval")
    .description("Transcribe a dataset (resumably) and score it: WER and CER per file and overall, wer.json and wer.md in the output folder")
    .argument("<dataset>", "LibriSpeech-style folder (*.trans.txt), a folder with ref.tsv or .txt beside each audio file, or a .jsonl manifest")
    .option("--max-wer <rate>", "exit with code 4 when the overall WER is above this (0.15 = 15%)")
    .option("--no-normalize", "score the raw text (case and punctuation count) instead of normalised English")
    .option("--trn", "also write sclite-compatible ref.trn and hyp.trn")
    .exitOverride();
  addRunOptions(evaluate);
  evaluate.action(async (dataset: string, options: Record<string, unknown>) => {
    const maxWer = options.maxWer === undefined ? undefined : Number(options.maxWer);
    if (maxWer !== undefined && (Number.isNaN(maxWer) || maxWer < 0)) throw new SpeechflowError("USAGE", `--max-wer expects a rate such as 0.15, not "${String(options.maxWer)}"`);
    const { config } = await loadConfig({ cwd, configPath: options.config as string | undefined, flags: flagsFromOptions(options), env });
    const result = await withRun(config, env, async (ctx, allowModelDownload) => {
      const r = await runEval({ dataset, cwd, env, allowModelDownload, normalize: options.normalize !== false, trn: options.trn === true }, ctx);
      return { ...r, status: r.run.status };
    });
    if (result.run.failed > 0) throw new ExitRequest(ExitCode.someInputsFailed);
    if (maxWer !== undefined && result.scores && result.scores.wer > maxWer) {
      process.stderr.write(`speechflow: WER ${(result.scores.wer * 100).toFixed(2)}% is above --max-wer ${(maxWer * 100).toFixed(2)}%\n`);
      throw new ExitRequest(ExitCode.werAboveMax);
    }
  });

  program
    .command("clean")
    .description("Forget files that no longer exist (their state, and with --outputs their transcripts)")
    .option("-o, --output <dir>", "output folder whose state to clean", "transcripts")
    .option("--db <path>", "state database (default: <output>/.speechflow/state.sqlite)")
    .option("--outputs", "also delete the transcripts written for those files")
    .option("--dry-run", "only list what would be removed")
    .exitOverride()
    .action((options: { output: string; db?: string; outputs?: boolean; dryRun?: boolean }) => {
      const outputDir = resolve(cwd, options.output);
      const dbPath = options.db ? resolve(cwd, options.db) : defaultDbPath(outputDir);
      if (!existsSync(dbPath)) throw new SpeechflowError("USAGE", `no state database at ${dbPath} (pass -o or --db)`);
      const lock = RunLock.acquire(dbPath);
      try {
        const store = StateStore.open(dbPath);
        try {
          const gone = store.allFiles().filter((row) => !isUrl(row.path) && !existsSync(row.path));
          for (const row of gone) {
            const outputs = row.outputs ? (JSON.parse(row.outputs) as string[]) : [];
            // only ever delete inside the output folder, whatever the database says
            const removable = options.outputs ? outputs.filter((o) => isInside(outputDir, o)) : [];
            process.stdout.write(`${options.dryRun ? "would remove" : "removed"} ${row.path}${removable.length ? ` and ${removable.length} transcript(s)` : ""}\n`);
            if (options.dryRun) continue;
            for (const o of removable) rmSync(o, { force: true });
            store.forgetFile(row.id);
          }
          process.stdout.write(`${gone.length} file(s) ${options.dryRun ? "would be" : "were"} forgotten; ${store.allFiles().length - (options.dryRun ? gone.length : 0)} remain\n`);
        } finally {
          store.close();
        }
      } finally {
        lock.release();
      }
    });

  program
    .command("status")
    .description("Show what is done, pending and failed in a state database")
    .option("-o, --output <dir>", "output folder whose state to show", "transcripts")
    .option("--db <path>", "state database (default: <output>/.speechflow/state.sqlite)")
    .option("--json", "print JSON")
    .exitOverride()
    .action((options: { output: string; db?: string; json?: boolean }) => {
      const dbPath = options.db ? resolve(cwd, options.db) : defaultDbPath(resolve(cwd, options.output));
      if (!existsSync(dbPath)) throw new SpeechflowError("USAGE", `no state database at ${dbPath}: nothing has been transcribed into that output folder yet (or pass --db)`);
      const store = StateStore.open(dbPath);
      const summary = store.summary();
      store.close();
      if (options.json) {
        process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
        return;
      }
      const f = summary.files;
      const lines = [
        `state: ${summary.db}`,
        `files: ${f.total} total, ${f.done} done, ${f.pending + f.processing} pending, ${f.failed} failed`,
        `chunks: ${summary.chunks.done} done, ${summary.chunks.pending} pending, ${summary.chunks.failed} failed`,
        `audio transcribed: ${(summary.audioMsDone / 60000).toFixed(1)} min`,
        summary.lastRun
          ? `last run: #${summary.lastRun.id} ${summary.lastRun.status}, started ${summary.lastRun.startedAt}` +
            (summary.lastRun.elapsedMs !== null ? `, took ${formatDuration(summary.lastRun.elapsedMs)}` : "") +
            (summary.lastRun.done !== null ? ` (${summary.lastRun.done} done, ${summary.lastRun.skipped} unchanged, ${summary.lastRun.failed} failed)` : "")
          : "last run: none",
        ...summary.failures.map((x) => `  ✗ ${x.path}: ${x.error} [${x.code}]`),
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });

  const models = program.command("models").description("List, download, add and remove whisper.cpp models").exitOverride();
  const modelsConfig = async (flags: Partial<Record<keyof SpeechflowConfig, unknown>> = {}) => (await loadConfig({ cwd, flags, env })).config;
  models
    .command("list")
    .description("Known models (downloaded or not) and any other ggml files in the model folders")
    .option("--json", "print JSON")
    .exitOverride()
    .action((options: { json?: boolean }) => {
      const rows = listModels(cwd, env);
      if (options.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      const lines = rows.map((r) => {
        const size = r.sizeBytes !== undefined ? `${(r.sizeBytes / 1048576).toFixed(0)} MiB` : `${r.sizeMiB} MiB`;
        return `${r.present ? "✓" : " "} ${r.name.padEnd(width)}  ${size.padStart(9)}  ${r.path ?? "(not downloaded)"}${r.known ? "" : "  (added)"}`;
      });
      process.stdout.write(`models folder: ${managedModelsDir(env)}\n${lines.join("\n")}\n`);
    });
  models
    .command("pull")
    .description("Download a published model into the models folder (resumable, SHA-1 checked)")
    .argument("<name>", "model name, e.g. base.en, small, large-v3-turbo-q5_0 (see models list)")
    .option("--sha1 <hex>", "expected SHA-1, for a model that is not in the built-in list")
    .option("--model-base-url <url>", "download from this mirror instead (also SPEECHFLOW_MODEL_BASE_URL, config modelBaseUrl)")
    .option("--offline", "refuse to use the network")
    .exitOverride()
    .action(async (name: string, options: { sha1?: string; modelBaseUrl?: string; offline?: boolean }) => {
      const config = await modelsConfig({ modelBaseUrl: options.modelBaseUrl, offline: options.offline });
      const known = MODEL_CATALOG.get(name);
      const entry = known ?? (options.sha1 ? { name, sha1: options.sha1.toLowerCase(), sizeMiB: 0 } : undefined);
      if (!entry) throw new SpeechflowError("USAGE", `unknown model "${name}" (see speechflow models list); pass --sha1 to download another file from the mirror`);
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new SpeechflowError("USAGE", `model name "${name}" may only use letters, digits, ".", "_" and "-"`);
      if (config.offline) throw new SpeechflowError("USAGE", `offline mode is on (--offline, SPEECHFLOW_OFFLINE or config): not downloading ${name}`);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: `${name} {bar} {percentage}% | {value}/{total} MiB`, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      try {
        const result = await pullModel(entry, {
          baseUrl: config.modelBaseUrl,
          dir: managedModelsDir(env),
          signal: controller.signal,
          onProgress: (p) => {
            if (!bar || p.totalBytes === undefined) return;
            const mib = (n: number) => Math.round(n / 1048576);
            if (!started) bar.start(mib(p.totalBytes), mib(p.receivedBytes));
            started = true;
            bar.update(mib(p.receivedBytes));
          },
        });
        bar?.stop();
        process.stdout.write(`${result.path} (${(result.bytes / 1048576).toFixed(1)} MiB, SHA-1 ${result.sha1}${result.resumed ? ", resumed" : ""})\n`);
      } finally {
        bar?.stop();
        process.off("SIGINT", onSignal);
      }
    });
  models
    .command("add")
    .description("Copy a ggml model file into the models folder")
    .argument("<file>", "a whisper.cpp ggml .bin file")
    .option("--name <name>", "name to use with --model (default: the file name without ggml- and .bin)")
    .exitOverride()
    .action((file: string, options: { name?: string }) => {
      process.stdout.write(addModel(resolve(cwd, file), options.name, env) + "\n");
    });
  models
    .command("rm")
    .description("Delete a model from the models folder")
    .argument("<name>", "model name")
    .exitOverride()
    .action((name: string) => {
      process.stdout.write(`removed ${removeModel(name, env)}\n`);
    });
  models
    .command("path")
    .description("Print the file a model name resolves to (exit 1 when it is missing)")
    .argument("<name>", "model name or path")
    .exitOverride()
    .action((name: string) => {
      process.stdout.write(resolveModel(name, cwd, env).path + "\n");
    });

  program
    .command("doctor")
    .description("Check ffmpeg, the whisper.cpp build, models and the state database")
    .option("-o, --output <dir>", "output folder (for the database path)", "transcripts")
    .option("--ffmpeg <path>", "ffmpeg to check instead of the one found automatically")
    .option("--json", "print JSON")
    .exitOverride()
    .action(async (options: { output: string; ffmpeg?: string; json?: boolean }) => {
      const report = await doctorReport({ cwd, ffmpeg: options.ffmpeg ?? env.SPEECHFLOW_FFMPEG ?? "", dbPath: defaultDbPath(resolve(cwd, options.output)), env });
      if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      else {
        const chalk = terminalChalk(process.stdout, env);
        const lines = [
          `speechflow ${report.version} on Node ${report.node}`,
          ...report.checks.map((c) => `${c.ok ? chalk.green("✓") : chalk.red("✗")} ${c.name}: ${c.detail}`),
          ...report.models.map((m) => `    ${m.path} (${(m.sizeBytes / 1e6).toFixed(1)} MB)`),
          `  cpu: ${report.cpu.count} × ${report.cpu.model}; SIMD: ${report.cpu.simd.join(" ") || "none detected"}`,
        ];
        process.stdout.write(lines.join("\n") + "\n");
      }
      const essential = report.checks.filter((c) => c.name === "ffmpeg" || c.name === "whisper.cpp engine");
      if (essential.some((c) => !c.ok)) throw new ExitRequest(ExitCode.fatal);
    });

  return program;
}

/** Parses argv, runs the command, and returns the exit code: the only place that decides it. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const program = buildProgram(env, cwd);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof ExitRequest) return error.code;
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    const e = toSpeechflowError(error);
    process.stderr.write(`speechflow: error: ${e.file ? e.file + ": " : ""}${e.message}\n`);
    if (e.code === "INTERNAL" && env.SPEECHFLOW_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return e.exitCode;
  }
}
