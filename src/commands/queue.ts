import { SpeechflowError } from "../errors/speechflow-error.js";
import { cleanQueues, drainQueues, type QueueStatusReport, queueStatus, retryFailed } from "../queue/queue-admin.js";
import type { CommandContext } from "./command-context.js";

function queueUrl(ctx: CommandContext): string {
  if (!ctx.config.queue) throw new SpeechflowError("USAGE", "give --queue redis://host:6379/0");
  return ctx.config.queue;
}

/** `speechflow queue status`: chunks per state on every queue, the workers connected, and why chunks wait. */
export function queueStatusCommand(ctx: CommandContext): Promise<QueueStatusReport> {
  return queueStatus(queueUrl(ctx));
}

/** `speechflow queue retry-failed`: failed chunks go back to the workers. */
export function queueRetryFailedCommand(ctx: CommandContext): ReturnType<typeof retryFailed> {
  return retryFailed(queueUrl(ctx));
}

/** `speechflow queue drain`: chunks no worker has taken yet are removed (with --blob, their audio too). */
export function queueDrainCommand(ctx: CommandContext): ReturnType<typeof drainQueues> {
  return drainQueues(queueUrl(ctx), ctx.config.blob || undefined);
}

/** `speechflow queue clean`: finished jobs older than the grace period, and (with --blob) audio no job refers to. */
export function queueCleanCommand(options: { olderThanSeconds: number }, ctx: CommandContext): ReturnType<typeof cleanQueues> {
  if (!(options.olderThanSeconds >= 0)) throw new SpeechflowError("USAGE", "--older-than takes a number of seconds");
  return cleanQueues(queueUrl(ctx), ctx.config.blob || undefined, options.olderThanSeconds * 1000);
}
