import type { ChalkInstance } from "chalk";
import type { SpeechflowEvent } from "../core/events.js";
import type { Reporter } from "./reporter.js";
import { summaryLines } from "./summary-lines.js";

/**
 * `--quiet`: nothing at all when every input succeeded; the summary and one line per failure when
 * something failed or the run was stopped. Under cron that means a mail only when it matters.
 */
export class SilentReporter implements Reporter {
  constructor(
    private readonly out?: NodeJS.WritableStream,
    private readonly chalk?: ChalkInstance,
  ) {}

  onEvent(event: SpeechflowEvent): void {
    if (event.type !== "run-end" || !this.out || !this.chalk) return;
    if (event.failed === 0 && (event.summaries?.failed ?? 0) === 0 && event.status === "completed") return;
    for (const line of summaryLines(event, this.chalk)) this.out.write(line + "\n");
  }

  close(): void {}
}
