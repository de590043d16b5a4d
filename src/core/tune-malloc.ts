import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * glibc's starting mmap threshold, pinned: blocks above it get their own mappings and go back to the
 * OS when freed. native/malloc-tuning.c says why the CLI needs it (its heap grew 138 -> 163 MB over a
 * 1-hour file without it). Worker processes get a 1 MiB threshold from the pool's environment instead.
 */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

/** where scripts/build-malloc-tuning.mjs puts the addon (the package's build/ folder) */
const MALLOC_TUNING_ADDON = fileURLToPath(new URL("../../build/malloc-tuning.node", import.meta.url));

export type MallocTuning =
  | { state: "active"; mmapThresholdBytes: number }
  /** nothing to tune: not glibc */
  | { state: "not-applicable"; reason: string }
  /** Linux, but the addon is not built or does not load, or glibc refused the setting */
  | { state: "unavailable"; reason: string };

let applied: MallocTuning | undefined;
const NOT_GLIBC = "only glibc (Linux) moves its mmap threshold by itself";

/** Pins malloc's mmap threshold in this process, once; later calls return the first outcome. */
export function tuneMalloc(): MallocTuning {
  applied ??= apply();
  return applied;
}

/** What tuneMalloc did in this process; undefined when nothing called it (doctor reports that). */
export function mallocTuningState(): MallocTuning | undefined {
  return applied;
}

function apply(): MallocTuning {
  if (process.platform !== "linux") return { state: "not-applicable", reason: NOT_GLIBC };
  if (!existsSync(MALLOC_TUNING_ADDON)) {
    return {
      state: "unavailable",
      reason: `${MALLOC_TUNING_ADDON} is not built (it needs a C compiler and Node's headers; then npm rebuild speechflow, or node scripts/build-malloc-tuning.mjs in a checkout)`,
    };
  }
  try {
    const addon = createRequire(import.meta.url)(MALLOC_TUNING_ADDON) as { glibc: boolean; setMmapThreshold(bytes: number): boolean };
    if (!addon.glibc) return { state: "not-applicable", reason: NOT_GLIBC };
    if (!addon.setMmapThreshold(MMAP_THRESHOLD_BYTES)) return { state: "unavailable", reason: "mallopt refused the setting" };
    return { state: "active", mmapThresholdBytes: MMAP_THRESHOLD_BYTES };
  } catch (error) {
    return { state: "unavailable", reason: `the addon does not load: ${(error as Error).message.split("\n")[0]}` };
  }
}
