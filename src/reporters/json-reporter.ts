import type { SpeechflowEvent } from "../core/events.js";
import type { Reporter } from "./reporter.js";

/** NDJSON on stdout: one event per line, exactly the typed events of src/core/events.ts. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}
  onEvent(event: SpeechflowEvent): void {
    this.out.write(JSON.stringify({ ...event, time: new Date().toISOString() }) + "\n");
  }
  close(): void {}
}
