import { Command } from "commander";
import { cleanCommand } from "../commands/clean.js";
import type { CommandContext } from "../commands/command-context.js";
import { doctorCommand } from "../commands/doctor.js";
import { evalCommand } from "../commands/eval.js";
import {
  modelsAddCommand,
  modelsListCommand,
  modelsPathCommand,
  modelsPullCommand,
  modelsPullDiarizationCommand,
  modelsRemoveCommand,
} from "../commands/models.js";
import { retryCommand } from "../commands/retry.js";
import { statusCommand } from "../commands/status.js";
import { summarizeCommand } from "../commands/summarize.js";
import { transcribeCommand } from "../commands/transcribe.js";
import type { ConfigKey } from "../config/config-schema.js";
import { loadConfig } from "../config/load-config.js";
import { TOOL_VERSION } from "../core/tool-version.js";
import { ExitCode } from "../errors/speechflow-error.js";
import { cleanText } from "../reporters/clean-text.js";
import { nothingToRetryLine, werAboveMaxLine } from "../reporters/command-notes.js";
import { doctorText } from "../reporters/doctor-text.js";
import { modelsText, pulledDiarizationText, pulledModelText } from "../reporters/models-text.js";
import { pullProgressBar } from "../reporters/pull-progress-bar.js";
import { statusText } from "../reporters/status-text.js";
import { terminalChalk } from "../reporters/terminal-style.js";
import { addRunOptions, addStateOptions, type ConfigFlags, flagsFromOptions, type RunFlags, type StateFlags, stateFlags } from "./config-options.js";
import { doctorExitCode, errorExitCode, evalExitCode, runExitCode } from "./exit-codes.js";
import { EXAMPLES } from "./help-text.js";
import { registerQueue, registerWorker } from "./queue-cli.js";
import { seamsFromEnv, withRunSession } from "./run-session.js";

/** What every action needs: where it runs, and where to put its exit code. */
interface CliIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  exit(code: number): void;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function configFor(io: CliIo, configPath: string | undefined, flags: ConfigFlags) {
  return (await loadConfig({ cwd: io.cwd, configPath, flags, env: io.env })).config;
}

const STATE_KEYS: ConfigKey[] = ["output", "db", "ffmpeg"];
/** doctor also shows the VAD and the layout a run would pick */
const DOCTOR_KEYS: ConfigKey[] = [...STATE_KEYS, "vad", "model", "device", "workers", "jobsPerWorker", "threads"];

/** status, clean, doctor: only where the state is (output, db) and ffmpeg matter (doctor: also the VAD and layout); other settings are not checked. */
async function commandContext(io: CliIo, options: StateFlags, only = STATE_KEYS): Promise<CommandContext> {
  const { config } = await loadConfig({ cwd: io.cwd, configPath: options.config, flags: stateFlags(options), env: io.env, only });
  return { config, cwd: io.cwd, env: io.env };
}

function registerTranscribe(program: Command, io: CliIo): void {
  const command = program
    .command("transcribe")
    .description(
      "Transcribe files, folders (recursively), globs, http(s) URLs and --from-list entries into txt/srt/vtt/json; --summarize and --pdf add summaries and PDF reports",
    )
    .argument("[inputs...]", "files, directories, globs or http(s) URLs")
    .option("--from-list <file>", "read inputs from a file, one per line ('-' = stdin)")
    .addHelpText("after", EXAMPLES);
  addRunOptions(command).action(async (inputs: string[], options: RunFlags & { fromList?: string }) => {
    const config = await configFor(io, options.config, flagsFromOptions(options));
    const { result, signal } = await withRunSession(config, io, (ctx, allowModelDownload) =>
      transcribeCommand({ inputs, fromList: options.fromList, allowModelDownload }, ctx),
    );
    io.exit(runExitCode(result, signal));
  });
}

function registerRetry(program: Command, io: CliIo): void {
  const command = program.command("retry").description("Transcribe again only the files that failed in earlier runs (same output folder and state database)");
  addRunOptions(command).action(async (options: RunFlags) => {
    const config = await configFor(io, options.config, flagsFromOptions(options));
    const { result, signal } = await withRunSession(config, io, (ctx, allowModelDownload) => retryCommand({ allowModelDownload }, ctx));
    if (!result.retried) process.stderr.write(nothingToRetryLine(result.dbPath));
    io.exit(result.retried ? runExitCode(result.run, signal) : ExitCode.ok);
  });
}

function registerSummarize(program: Command, io: CliIo): void {
  const command = program
    .command("summarize")
    .description("Summaries (and with --pdf, PDF reports) for transcripts already in the output folder, without transcribing anything")
    .option("--force", "write them again even when they are up to date");
  addRunOptions(command, { gpus: false }).action(async (options: RunFlags & { force?: boolean }) => {
    const config = await configFor(io, options.config, { summarize: true, ...flagsFromOptions(options) });
    const { result, signal } = await withRunSession(config, io, (ctx) => summarizeCommand({ force: options.force === true }, ctx));
    io.exit(runExitCode(result, signal));
  });
}

function registerEval(program: Command, io: CliIo): void {
  const command = program
    .command("eval")
    .description(
      "Transcribe a dataset (resumably) and score it: WER and CER per file and overall (wer.json, wer.md); with --diarization, DER and JER of the speaker turns (der.json, der.md)",
    )
    .argument("<dataset>", "LibriSpeech-style folder (*.trans.txt), a folder with ref.tsv or .txt beside each audio file, or a .jsonl manifest")
    .option("--max-wer <rate>", "exit with code 4 when the overall WER is above this (0.15 = 15%)")
    .option("--no-normalize", "score the raw text (case and punctuation count) instead of normalised English")
    .option("--trn", "also write sclite-compatible ref.trn and hyp.trn")
    .option("--diarization", "score speaker turns instead: DER and JER against <name>.rttm beside each audio file (or ref.rttm), der.json and der.md")
    .option("--collar <seconds>", "with --diarization: no-score zone around each reference boundary (default 0.25, as NIST md-eval -c)")
    .option("--skip-overlap", "with --diarization: leave out overlapping speech (md-eval -1)");
  type EvalFlags = RunFlags & { maxWer?: string; normalize?: boolean; trn?: boolean; diarization?: boolean; collar?: string; skipOverlap?: boolean };
  addRunOptions(command).action(async (dataset: string, options: EvalFlags) => {
    const config = await configFor(io, options.config, flagsFromOptions(options));
    const request = {
      ...{ dataset, maxWer: options.maxWer, normalize: options.normalize !== false, trn: options.trn === true },
      ...{ diarization: options.diarization, collar: options.collar, skipOverlap: options.skipOverlap },
    };
    const { result, signal } = await withRunSession(config, io, (ctx, allowModelDownload) => evalCommand({ ...request, allowModelDownload }, ctx));
    const code = evalExitCode(result, signal);
    if (code === ExitCode.werAboveMax) process.stderr.write(werAboveMaxLine(result.scores!.wer, result.maxWer!));
    io.exit(code);
  });
}

function registerStateCommands(program: Command, io: CliIo): void {
  addStateOptions(program.command("status").description("Show what is done, pending and failed in a state database"), "state to show").action(
    async (options: StateFlags) => {
      const summary = statusCommand(await commandContext(io, options));
      process.stdout.write(options.json ? json(summary) : statusText(summary));
    },
  );
  addStateOptions(
    program.command("clean").description("Forget files that no longer exist (their state, and with --outputs their transcripts)"),
    "state to clean",
  )
    .option("--outputs", "also delete the transcripts written for those files")
    .option("--dry-run", "only list what would be removed")
    .action(async (options: StateFlags & { outputs?: boolean; dryRun?: boolean }) => {
      const result = cleanCommand({ outputs: options.outputs === true, dryRun: options.dryRun === true }, await commandContext(io, options));
      process.stdout.write(options.json ? json(result) : cleanText(result));
    });
  addStateOptions(program.command("doctor").description("Check ffmpeg, the whisper.cpp build, the VAD, models and the state database"), "database to check")
    .option("--ffmpeg <path>", "ffmpeg to check instead of the one found automatically")
    .option("--vad <mode>", "VAD setting to check: auto, silero or energy (default: from the config file, else auto)")
    .option("--queue <url>", "also check this Redis for --queue: reachable, version >= 6.2, maxmemory-policy noeviction, AOF (warning)")
    .action(async (options: StateFlags & { queue?: string }) => {
      // an invalid layout setting must not stop the doctor: it then shows the automatic layout
      const ctx = await commandContext(io, options, DOCTOR_KEYS).catch(() => commandContext(io, options));
      const report = await doctorCommand(ctx, { queue: options.queue ?? io.env.SPEECHFLOW_QUEUE });
      const { ok: _verdict, ...shown } = report;
      process.stdout.write(options.json ? json(shown) : doctorText(shown, terminalChalk(process.stdout, io.env)));
      io.exit(doctorExitCode(report));
    });
}

/** `models pull-diarization`: both diarization models, with a progress bar each on a terminal. */
function registerPullDiarization(models: Command, io: CliIo, ctx: (flags?: ConfigFlags) => Promise<CommandContext>): void {
  models
    .command("pull-diarization")
    .description("Download the speaker diarization models (pyannote segmentation-3.0 and NeMo TitaNet-small, ONNX, SHA-256 checked) for --diarize model|auto")
    .option("--mirror <url>", "download <url>/<name>.onnx instead of the published addresses")
    .option("--offline", "refuse to use the network")
    .action(async (options: { mirror?: string; offline?: boolean }) => {
      const context = await ctx({ offline: options.offline });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      const bars = new Map<string, ReturnType<typeof pullProgressBar>>();
      const bar = (name: string) => bars.get(name) ?? bars.set(name, pullProgressBar(name, process.stderr)).get(name)!;
      try {
        const retryDelayMs = seamsFromEnv(io.env).retryBaseDelayMs;
        const pulled = await modelsPullDiarizationCommand(
          { signal: controller.signal, mirror: options.mirror, retryDelayMs, onProgress: (p) => bar(p.name).onProgress(p) },
          context,
        );
        for (const b of bars.values()) b.stop();
        process.stdout.write(pulledDiarizationText(pulled));
      } finally {
        for (const b of bars.values()) b.stop();
        process.off("SIGINT", onSignal);
      }
    });
}

function registerModels(program: Command, io: CliIo): void {
  const models = program.command("models").description("List, download, add and remove whisper.cpp models");
  // only pulls read settings (mirror, offline); list/add/rm/path work whatever the config file says
  const ctx = (flags: ConfigFlags = {}) =>
    loadConfig({ cwd: io.cwd, flags, env: io.env, only: ["modelBaseUrl", "offline"] }).then(
      ({ config }): CommandContext => ({ config, cwd: io.cwd, env: io.env }),
    );
  models
    .command("list")
    .description("Known models (downloaded or not) and any other ggml files in the model folders")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const result = modelsListCommand(await ctx());
      process.stdout.write(options.json ? json(result.models) : modelsText(result));
    });
  models
    .command("pull")
    .description("Download a published model into the models folder (resumable, SHA-1 checked)")
    .argument("<name>", "model name, e.g. base.en, small, large-v3-turbo-q5_0 (see models list)")
    .option("--sha1 <hex>", "expected SHA-1, for a model that is not in the built-in list")
    .option("--model-base-url <url>", "download from this mirror instead (also SPEECHFLOW_MODEL_BASE_URL, config modelBaseUrl)")
    .option("--offline", "refuse to use the network")
    .action(async (name: string, options: { sha1?: string; modelBaseUrl?: string; offline?: boolean }) => {
      const context = await ctx({ modelBaseUrl: options.modelBaseUrl, offline: options.offline });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      const bar = pullProgressBar(name, process.stderr);
      try {
        const retryDelayMs = seamsFromEnv(io.env).retryBaseDelayMs;
        const result = await modelsPullCommand(
          { name, sha1: options.sha1, signal: controller.signal, retryDelayMs, onProgress: (p) => bar.onProgress(p) },
          context,
        );
        bar.stop();
        process.stdout.write(pulledModelText(result));
      } finally {
        bar.stop();
        process.off("SIGINT", onSignal);
      }
    });
  registerPullDiarization(models, io, ctx);
  models
    .command("add")
    .description("Copy a model file into the models folder: a whisper.cpp ggml .bin, or a diarization .onnx")
    .argument("<file>", "a whisper.cpp ggml .bin file, or an .onnx segmentation / speaker-embedding model")
    .option("--name <name>", "name to use with --model / --diarization-*-model (default: the file name without ggml- and .bin/.onnx)")
    .action(async (file: string, options: { name?: string }) => {
      process.stdout.write(`${modelsAddCommand({ file, name: options.name }, await ctx())}\n`);
    });
  models
    .command("rm")
    .description("Delete a model from the models folder")
    .argument("<name>", "model name")
    .action(async (name: string) => {
      process.stdout.write(`removed ${modelsRemoveCommand(name, await ctx())}\n`);
    });
  models
    .command("path")
    .description("Print the file a model name resolves to (exit 1 when it is missing)")
    .argument("<name>", "model name or path")
    .action(async (name: string) => {
      process.stdout.write(`${modelsPathCommand(name, await ctx())}\n`);
    });
}

/** Wires commander to the commands; nothing here decides anything about transcription. */
export function buildProgram(io: CliIo): Command {
  const program = new Command()
    .name("speechflow")
    .description("Batch speech transcription on whisper.cpp: folders of audio and video in, transcripts out. Resumes where it stopped.")
    .version(TOOL_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXAMPLES)
    .exitOverride();
  for (const register of [
    registerTranscribe,
    registerRetry,
    registerSummarize,
    registerEval,
    registerStateCommands,
    registerModels,
    registerWorker,
    registerQueue,
  ])
    register(program, io);
  // every subcommand reports usage errors by throwing, so main() maps them with everything else
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Parses argv, runs the command, and returns the exit code (bin/speechflow.js sets it). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram({ cwd, env, exit: (c) => (code = c) });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    return errorExitCode(error, process.stderr, env);
  }
}
