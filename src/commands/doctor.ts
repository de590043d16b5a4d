import { basename } from "node:path";
import { resolvePaths } from "../core/paths.js";
import { layoutText } from "../engine/choose-layout.js";
import { resolveLayout } from "../pipeline/create-transcriber.js";
import type { CommandContext } from "./command-context.js";
import { type DoctorReport, doctorReport } from "./doctor-report.js";

export interface DoctorResult extends DoctorReport {
  /** ffmpeg and the whisper.cpp engine work: transcription can run */
  ok: boolean;
}

/** `speechflow doctor`: ffmpeg, the engine build, models and the state database of the configured output; with `--queue`, the Redis. */
export async function doctorCommand(ctx: CommandContext, options: { queue?: string | undefined } = {}): Promise<DoctorResult> {
  const { dbPath } = resolvePaths(ctx.config, ctx.cwd);
  const report = await doctorReport({ cwd: ctx.cwd, ffmpeg: ctx.config.ffmpeg, dbPath, vad: ctx.config.vad, env: ctx.env });
  report.checks.push(layoutCheck(ctx, report.models));
  if (options.queue) {
    // ioredis is loaded only when the queue is checked (start-up time of every doctor run otherwise)
    const { queueChecks } = await import("./doctor-queue.js");
    report.checks.push(...(await queueChecks(options.queue)));
  }
  const essential = report.checks.filter((c) => c.name === "ffmpeg" || c.name === "whisper.cpp engine" || c.name === "queue");
  return { ...report, ok: essential.every((c) => c.ok) };
}

/** The layout a run would choose here, for the configured model if it is on disk, else the largest one found. */
function layoutCheck(ctx: CommandContext, models: DoctorReport["models"]): DoctorReport["checks"][number] {
  const { model } = ctx.config;
  const named = models.find((m) => m.path === model || basename(m.path) === `ggml-${model}.bin`);
  const target = named ?? [...models].sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
  if (!target) return { name: "layout", ok: true, detail: "chosen when a model is present (cores, free memory and the model's size)" };
  const layout = resolveLayout(ctx.config, target.path);
  const slots = layout.workers * layout.jobsPerWorker;
  return { name: "layout", ok: true, detail: `${basename(target.path)}: ${layoutText({ ...layout, slots, layout: layout.reason })}` };
}
