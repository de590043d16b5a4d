import cliProgress from "cli-progress";

/** A progress bar for `models pull` on a terminal; silent elsewhere (logs stay clean). */
export function pullProgressBar(name: string, stream: NodeJS.WriteStream) {
  const bar = stream.isTTY
    ? new cliProgress.SingleBar({ stream, format: `${name} {bar} {percentage}% | {value}/{total} MiB`, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  const mib = (n: number) => Math.round(n / 1048576);
  return {
    onProgress(p: { receivedBytes: number; totalBytes?: number | undefined }): void {
      if (!bar || p.totalBytes === undefined) return;
      if (!started) bar.start(mib(p.totalBytes), mib(p.receivedBytes));
      started = true;
      bar.update(mib(p.receivedBytes));
    },
    stop(): void {
      bar?.stop();
    },
  };
}
