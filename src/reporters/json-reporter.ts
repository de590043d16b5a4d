import { Chalk } from "chalk";
import type { SpeechflowEvent } from "../core/events.js";
import type { Reporter } from "./reporter.js";
import { summaryLines } from "./summary-lines.js";

const plainChalk = new Chalk({ level: 0 });

/** NDJSON on stdout: one event per line, exactly the typed events of src/core/events.ts. */
export class JsonReporter implements Reporter {
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    /** where the one-line run summary goes (cron mails stderr); undefined = nowhere */
    private readonly log?: NodeJS.WritableStream,
  ) {}
  onEvent(event: SpeechflowEvent): void {
    this.out.write(JSON.stringify({ ...event, time: new Date().toISOString() }) + "\n");
    if (event.type === "run-end" && this.log) this.log.write(summaryLines(event, plainChalk)[0] + "\n");
  }
  close(): void {}
}
