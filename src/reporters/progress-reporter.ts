import type { ChalkInstance } from "chalk";
import cliProgress from "cli-progress";
import type { SpeechflowEvent } from "../core/events.js";
import { layoutText } from "../engine/choose-layout.js";
import type { Reporter } from "./reporter.js";
import { formatDuration, RunStats } from "./run-stats.js";
import { noticeLine, summaryLines } from "./summary-lines.js";

/** Progress bar on a TTY: files, audio minutes done, chunks/s and x-realtime (local or a queue's remote workers), ETA; failures printed above it. */
export class ProgressReporter implements Reporter {
  private stats = new RunStats();
  private multibar: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** one extra bar per URL being downloaded */
  private downloads = new Map<string, cliProgress.SingleBar>();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly chalk: ChalkInstance,
  ) {
    this.multibar = new cliProgress.MultiBar(
      {
        stream: out,
        format: "{bar} {files} files | {audio} min audio | {chunkRate} chunks/s | {speed}x | ETA {etaText}",
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  private payload() {
    const s = this.stats;
    const eta = s.etaMs;
    return {
      files: `${s.finishedFiles}/${s.totalFiles}`,
      audio: (s.audioDoneMs / 60000).toFixed(1),
      chunkRate: s.chunkRate.toFixed(1),
      speed: s.speed.toFixed(1),
      etaText: eta === undefined ? "--" : formatDuration(eta),
    };
  }

  private log(text: string): void {
    // MultiBar.log only flushes on a redraw, which never comes before the bar exists
    if (this.bar) this.multibar.log(text + "\n");
    else this.out.write(text + "\n");
  }

  onEvent(event: SpeechflowEvent): void {
    this.stats.update(event);
    const c = this.chalk;
    switch (event.type) {
      case "run-start":
        this.bar = this.multibar.create(Math.max(1, event.inputs), 0, this.payload());
        this.log(c.dim(`model ${event.model}, ${layoutText(event)}`));
        this.timer = setInterval(() => this.bar?.update(this.stats.finishedFiles, this.payload()), 1000);
        this.timer.unref();
        break;
      case "download-start":
      case "download-progress": {
        const mib = (n: number) => Math.max(1, Math.round(n / 1048576));
        const received = event.type === "download-progress" ? event.receivedBytes : 0;
        let bar = this.downloads.get(event.file);
        if (!bar) {
          bar = this.multibar.create(
            event.totalBytes ? mib(event.totalBytes) : 1,
            0,
            { files: "", audio: "", chunkRate: "", speed: "", etaText: "" },
            {
              format: `{bar} ↓ {value}/{total} MiB ${event.file.length > 60 ? "…" + event.file.slice(-59) : event.file}`,
            },
          );
          this.downloads.set(event.file, bar);
        }
        if (event.totalBytes) bar.setTotal(mib(event.totalBytes));
        bar.update(Math.round(received / 1048576));
        break;
      }
      case "download-done":
      case "file-failed": {
        const bar = this.downloads.get(event.file);
        if (bar) {
          this.multibar.remove(bar);
          this.downloads.delete(event.file);
        }
        const notice = noticeLine(event, c);
        if (notice) this.log(notice);
        break;
      }
      case "run-end":
        this.close();
        for (const l of summaryLines(event, c)) this.out.write(l + "\n");
        return;
      default: {
        const notice = noticeLine(event, c);
        if (notice) this.log(notice);
      }
    }
    this.bar?.update(this.stats.finishedFiles, this.payload());
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.multibar.stop();
    this.bar = undefined;
  }
}
