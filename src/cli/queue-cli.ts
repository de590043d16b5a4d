import type { Command } from "commander";
import type { CommandContext } from "../commands/command-context.js";
import type { ConfigKey } from "../config/config-schema.js";
import { loadConfig } from "../config/load-config.js";
import { gpusToDeviceSpec } from "../engine/devices.js";
import { ExitCode } from "../errors/speechflow-error.js";
import { redactRedisUrl } from "../queue/redis-options.js";
import { queueActionText, queueStatusText, workerNoteLine } from "../reporters/queue-text.js";
import { stoppedExitCode } from "./exit-codes.js";
import { seamsFromEnv } from "./run-session.js";

// BullMQ and ioredis take ~0.5 s to load: only the queue commands that run pay it, not every start
const loadQueueCommands = () => import("../commands/queue.js");
const loadWorkerCommand = () => import("../commands/worker.js");

/** What the worker and queue actions need from the CLI: where they run, and where to put the exit code. */
interface QueueCliIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  exit(code: number): void;
}

type WorkerFlags = {
  config?: string;
  queue?: string;
  blob?: string;
  model?: string;
  device?: string;
  gpus?: string;
  workers?: string;
  threads?: string;
  jobsPerWorker?: string;
  metrics?: string;
  concurrency: string;
  lockSeconds: string;
};

const WORKER_KEYS: ConfigKey[] = ["queue", "blob", "model", "device", "workers", "threads", "jobsPerWorker", "metrics"];
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

async function workerContext(io: QueueCliIo, o: WorkerFlags): Promise<CommandContext> {
  const flags = {
    ...{ queue: o.queue, blob: o.blob, model: o.model, metrics: o.metrics },
    ...{ device: o.gpus ? gpusToDeviceSpec(o.gpus) : o.device, workers: num(o.workers), threads: num(o.threads), jobsPerWorker: num(o.jobsPerWorker) },
  };
  const { config } = await loadConfig({ cwd: io.cwd, configPath: o.config, flags, env: io.env, only: WORKER_KEYS });
  return { config, cwd: io.cwd, env: io.env };
}

/** `speechflow worker`: runs until SIGTERM/SIGINT, then finishes the chunks in hand and exits 143/130. */
export function registerWorker(program: Command, io: QueueCliIo): void {
  program
    .command("worker")
    .description("Take chunks from a --queue (BullMQ on Redis) and transcribe them here: scale one transcribe run over many machines")
    .option("-c, --config <path>", "config file (only queue, blob, model, device, workers, threads, jobsPerWorker and metrics are read)")
    .option("--queue <url>", "the coordinator's Redis: redis://host:6379/0 (also SPEECHFLOW_QUEUE)")
    .option("--blob <url>", "where the coordinator writes chunk audio: file:///shared/folder or s3://bucket/prefix (also SPEECHFLOW_BLOB)")
    .option("-m, --model <name>", "model name or path; only queues of runs with this model file are served")
    .option("--device <spec>", "cpu, or cuda:0,cuda:1 for one engine process per GPU")
    .option("--gpus <all|N>", "one engine process per GPU on all (or the first N) NVIDIA GPUs")
    .option("-w, --workers <n>", "engine processes on the CPU, each holding one copy of the model (default: auto, see transcribe --help)")
    .option("-t, --threads <n>", "threads per chunk (default: auto)")
    .option("--jobs-per-worker <n>", "chunks one engine process transcribes at the same time (default: auto)")
    .option("--concurrency <n>", "chunks taken from the queue at once; 0 = the engine's slots", "0")
    .option("--lock-seconds <n>", "a chunk whose worker stops answering goes to another worker after this long", "30")
    .option("--metrics <port>", "serve Prometheus metrics on PORT (or HOST:PORT) at /metrics")
    .action(async (options: WorkerFlags) => {
      // handlers first: a SIGTERM while the model loads must also end in a graceful stop
      const stopping = untilSignalled();
      const ctx = await workerContext(io, options);
      let id = "";
      const print = (line: string) => process.stderr.write(`${line}\n`);
      const { startWorkerCommand } = await loadWorkerCommand();
      const worker = await startWorkerCommand(
        {
          concurrency: Number(options.concurrency),
          lockSeconds: Number(options.lockSeconds),
          note: (note) => print(workerNoteLine(id, note)),
          emit: (event) => {
            if (event.type === "worker-exit") print(`worker ${id}: engine process ${event.worker} ${event.reason}`);
          },
          seams: seamsFromEnv(io.env),
        },
        ctx,
      );
      id = worker.id;
      print(`worker ${id}: ready on ${redactRedisUrl(ctx.config.queue)}, ${worker.concurrency} chunk(s) at once; SIGTERM finishes them, then exits`);
      const signal = await stopping;
      process.stderr.write(`speechflow worker: ${signal}: finishing the chunks in hand (${signal} again to quit now)\n`);
      io.exit(
        await worker.stop().then(
          () => stoppedExitCode(signal),
          () => ExitCode.fatal,
        ),
      );
    });
}

/** Resolves with the first SIGTERM or SIGINT; a second signal exits at once. */
function untilSignalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (name: NodeJS.Signals) => {
      if (first) process.exit(stoppedExitCode(name));
      first = name;
      resolve(name);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

type QueueFlags = { config?: string; queue?: string; blob?: string; json?: boolean; olderThan: string };

/** `speechflow queue status|retry-failed|drain|clean`. */
export function registerQueue(program: Command, io: QueueCliIo): void {
  const queue = program.command("queue").description("Inspect and manage the chunk queues on a Redis (--queue): status, retry-failed, drain, clean");
  const ctx = async (o: QueueFlags): Promise<CommandContext> => {
    const { config } = await loadConfig({ cwd: io.cwd, configPath: o.config, flags: { queue: o.queue, blob: o.blob }, env: io.env, only: ["queue", "blob"] });
    return { config, cwd: io.cwd, env: io.env };
  };
  const sub = (name: string, description: string) =>
    queue
      .command(name)
      .description(description)
      .option("-c, --config <path>", "config file (only queue and blob are read)")
      .option("--queue <url>", "the Redis the queues are on: redis://host:6379/0 (also SPEECHFLOW_QUEUE)")
      .option("--blob <url>", "the blob store chunk audio is in (drain and clean remove audio no job needs)")
      .option("--json", "print JSON");
  sub("status", "Chunks per state on every queue, the workers connected and their models, and why chunks wait").action(async (o: QueueFlags) => {
    const { queueStatusCommand } = await loadQueueCommands();
    const report = await queueStatusCommand(await ctx(o));
    process.stdout.write(o.json ? json(report) : queueStatusText(report));
  });
  sub("retry-failed", "Send failed chunks back to the workers (after fixing what made them fail)").action(async (o: QueueFlags) => {
    const { queueRetryFailedCommand } = await loadQueueCommands();
    const rows = await queueRetryFailedCommand(await ctx(o));
    process.stdout.write(o.json ? json(rows) : queueActionText(rows));
  });
  sub("drain", "Remove chunks no worker has taken yet (stop coordinators first: a running one adds what it needs again)").action(async (o: QueueFlags) => {
    const context = await ctx(o);
    const { queueDrainCommand } = await loadQueueCommands();
    const result = await queueDrainCommand(context);
    process.stdout.write(
      o.json
        ? json(result)
        : queueActionText(
            result.queues.map((q) => ({ queue: q.queue, drained: q.removed })),
            context.config.blob ? result.blobsRemoved : undefined,
          ),
    );
  });
  sub(
    "clean",
    "Remove completed and failed jobs nobody came back for and, with --blob, chunk audio no job refers to and the partial writes of writers that died (not beside running coordinators: a blob is written just before its job is added)",
  )
    .option(
      "--older-than <seconds>",
      "only jobs that finished (completed or failed) and partial blob writes older than this; retry-failed first to keep failed ones",
      "3600",
    )
    .action(async (o: QueueFlags) => {
      const context = await ctx(o);
      const { queueCleanCommand } = await loadQueueCommands();
      const result = await queueCleanCommand({ olderThanSeconds: Number(o.olderThan) }, context);
      process.stdout.write(
        o.json
          ? json(result)
          : queueActionText(
              result.queues.map((q) => ({
                queue: q.queue,
                "completed removed": q.completed,
                "failed removed": q.failed,
                ...(q.forgotten ? { "(empty, forgotten)": "" } : {}),
              })),
              context.config.blob ? result.blobsRemoved : undefined,
            ),
      );
    });
}
