import type { ChalkInstance } from "chalk";
import type { SpeechflowEvent } from "../core/events.js";
import { layoutText } from "../engine/choose-layout.js";
import type { Reporter } from "./reporter.js";
import { formatDuration, RunStats } from "./run-stats.js";
import { noticeLine, printable, summaryLines } from "./summary-lines.js";

/** For logs and cron: one line per finished file, a status line every `intervalMs`, on stderr. */
export class PlainReporter implements Reporter {
  private stats = new RunStats();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly chalk: ChalkInstance,
    private readonly intervalMs = 10000,
  ) {}

  private line(text: string): void {
    this.out.write(text + "\n");
  }

  onEvent(event: SpeechflowEvent): void {
    this.stats.update(event);
    const c = this.chalk;
    switch (event.type) {
      case "run-start":
        this.line(`speechflow: ${event.inputs} input file(s), model ${event.model}, ${layoutText(event)}`);
        this.timer = setInterval(() => this.progress(), this.intervalMs);
        this.timer.unref();
        break;
      case "file-done":
        this.line(
          `${c.green("✓")} ${printable(event.file)} (${formatDuration(event.durationMs)} audio, ${event.chunks} chunk(s), ${formatDuration(event.elapsedMs)})`,
        );
        break;
      case "chunk-retry":
        this.line(`${c.yellow("!")} ${printable(event.file)}: chunk ${event.index} will be retried (attempt ${event.attempt}): ${event.message}`);
        break;
      case "run-end":
        for (const l of summaryLines(event, c)) this.line(l);
        break;
      default: {
        const notice = noticeLine(event, c);
        if (notice) this.line(notice);
      }
    }
  }

  private progress(): void {
    const s = this.stats;
    const eta = s.etaMs;
    this.line(
      `… ${s.finishedFiles}/${s.totalFiles} files, ${(s.audioDoneMs / 60000).toFixed(1)} min audio, ${s.speed.toFixed(1)}x realtime` +
        (eta !== undefined ? `, ETA ${formatDuration(eta)}` : ""),
    );
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
