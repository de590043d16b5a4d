/**
 * For forked child processes (whisper.cpp workers, the diarization worker): messages to the parent
 * only while the IPC channel is open, and an exit as soon as the parent is gone (IPC disconnect, or
 * re-parenting after a `kill -9` of the parent), so no child outlives its run.
 */
export function sendToParent<T>(message: T): void {
  if (process.connected) process.send!(message);
}

export function exitWithParent(): void {
  const parentPid = process.ppid;
  const watchdog = setInterval(() => {
    // covers the window before 'disconnect' fires and platforms where it does not
    if (process.ppid !== parentPid || !process.connected) process.exit(0);
  }, 500);
  watchdog.unref();
  process.on("disconnect", () => process.exit(0));
}
