import { createServer } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { SpeechflowError } from "../errors/speechflow-error.js";

/** Chunk latencies from 50 ms to 10 min: one chunk on a slow CPU can take minutes. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** `--metrics 9464` (all interfaces) or `--metrics 127.0.0.1:9464` -> where to listen. */
export function parseMetricsListen(spec: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new SpeechflowError("USAGE", `--metrics: expected PORT or HOST:PORT, not "${spec}"`);
  return { host: m[1] ?? "0.0.0.0", port };
}

/** The coordinator's view: what was committed, how fast, and what the queue holds. */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly startedAt = Date.now();
  private audioSeconds = 0;
  readonly committed = new Counter({ name: "speechflow_chunks_committed_total", help: "chunks committed to the state database", registers: [this.registry] });
  readonly audio = new Counter({ name: "speechflow_audio_seconds_committed_total", help: "seconds of audio committed", registers: [this.registry] });
  readonly latency = new Histogram({
    name: "speechflow_chunk_latency_seconds",
    help: "from adding a chunk's job to having its result",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: "speechflow_chunk_retries_total", help: "failed chunk jobs sent to the workers again", registers: [this.registry] });
  readonly stalls = new Counter({ name: "speechflow_stalls_total", help: "jobs whose worker stopped renewing its lock", registers: [this.registry] });
  readonly duplicates = new Counter({
    name: "speechflow_duplicates_ignored_total",
    help: "chunk jobs that were already on the queue when added again (a restarted coordinator)",
    registers: [this.registry],
  });
  readonly requeued = new Counter({
    name: "speechflow_jobs_requeued_total",
    help: "jobs Redis lost (restart without AOF) that were added again",
    registers: [this.registry],
  });

  constructor(depth: () => Promise<Record<string, number>>) {
    const started = this.startedAt;
    const seconds = () => this.audioSeconds;
    new Gauge({
      name: "speechflow_queue_jobs",
      help: "chunk jobs on this run's queue, by state",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        for (const [state, n] of Object.entries(await depth().catch(() => ({})))) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "speechflow_realtime_factor",
      help: "seconds of audio committed per second of wall time since the run started",
      registers: [this.registry],
      collect() {
        this.set(seconds() / Math.max(0.001, (Date.now() - started) / 1000));
      },
    });
  }

  chunkCommitted(audioSeconds: number): void {
    this.audioSeconds += audioSeconds;
    this.committed.inc();
    this.audio.inc(audioSeconds);
  }
}

/** A worker's view: chunks done and busy time per device. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly chunks = new Counter({ name: "speechflow_worker_chunks_total", help: "chunks transcribed", labelNames: ["device"], registers: [this.registry] });
  readonly audio = new Counter({ name: "speechflow_worker_audio_seconds_total", help: "seconds of audio transcribed", registers: [this.registry] });
  readonly busy = new Counter({
    name: "speechflow_worker_busy_seconds_total",
    help: "seconds the engine spent transcribing, per device",
    labelNames: ["device"],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "speechflow_chunk_latency_seconds",
    help: "from taking a chunk to returning its result",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly failures = new Counter({ name: "speechflow_worker_failures_total", help: "chunks that failed on this worker", registers: [this.registry] });
  readonly stalls = new Counter({ name: "speechflow_stalls_total", help: "jobs this worker found stalled and put back", registers: [this.registry] });
}

/** Serves `GET /metrics` as Prometheus text; resolves with the port it listens on. */
export async function serveMetrics(registry: Registry, spec: string): Promise<{ port: number; close: () => Promise<void> }> {
  const { host, port } = parseMetricsListen(spec);
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end("not found; try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: Error) => res.writeHead(500).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new SpeechflowError("USAGE", `--metrics: cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
