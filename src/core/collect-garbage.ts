import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Runs V8's garbage collector now. Audio moves through speechflow in megabyte buffers whose memory
 * lives outside V8's heap, while the JavaScript around them allocates little: V8 collects by heap
 * allocation (and lets up to 64 MB of such outside memory pile up before it reacts), so a finished
 * chunk's audio, the pipe buffers it went through and decoded blocks already copied elsewhere could
 * stay in memory for seconds. Callers collect where they know such garbage was just made.
 *
 * "minor" collects only young objects (about a millisecond; every buffer made since the last
 * collection is young); "full" the whole heap (a few ms for a worker's small heap).
 *
 * V8 hands out its gc function only with --expose-gc. The flag is set here, at run time, rather than
 * on node's command line: speechflow's bin cannot pass node flags portably, and a worker forked with
 * a copy of the parent's flags would also get a parent's `-e` script and run it.
 */
export function collectGarbage(kind: "minor" | "full"): void {
  if (gc === undefined) gc = exposeGc();
  if (gc) gc(kind === "minor" ? { type: "minor" } : undefined);
}

type GcFunction = (options?: { type: "minor" | "major" }) => void;
/** undefined: not tried yet; null: V8 would not hand it out (tried once, not again) */
let gc: GcFunction | null | undefined;

function exposeGc(): GcFunction | null {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as GcFunction;
  } catch {
    return null; // only memory is at stake
  }
}
