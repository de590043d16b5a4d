import { resolvePaths } from "../core/paths.js";
import type { CommandContext } from "./command-context.js";
import { type DoctorReport, doctorReport } from "./doctor-report.js";

export interface DoctorResult extends DoctorReport {
  /** ffmpeg and the whisper.cpp engine work: transcription can run */
  ok: boolean;
}

/** `speechflow doctor`: ffmpeg, the engine build, models and the state database of the configured output. */
export async function doctorCommand(ctx: CommandContext): Promise<DoctorResult> {
  const { dbPath } = resolvePaths(ctx.config, ctx.cwd);
  const report = await doctorReport({ cwd: ctx.cwd, ffmpeg: ctx.config.ffmpeg, dbPath, vad: ctx.config.vad, env: ctx.env });
  const essential = report.checks.filter((c) => c.name === "ffmpeg" || c.name === "whisper.cpp engine");
  return { ...report, ok: essential.every((c) => c.ok) };
}
