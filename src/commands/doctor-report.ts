import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { resolveVad, type VadMode } from "../chunking/resolve-vad.js";
import { sileroSettingsText } from "../chunking/silero-vad.js";
import { TOOL_VERSION } from "../core/tool-version.js";
import { mallocTuningState } from "../core/tune-malloc.js";
import { toSpeechflowError } from "../errors/speechflow-error.js";
import { resolveFfmpeg } from "../media/ffmpeg-gateway.js";
import { modelSearchDirs } from "../models/resolve-model.js";

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  version: string;
  node: string;
  checks: DoctorCheck[];
  models: { path: string; sizeBytes: number }[];
  cpu: { count: number; model: string; simd: string[] };
}

/** Whether this process pinned malloc's mmap threshold (bin/speechflow.js does it first thing). */
function mallocCheck(): DoctorCheck {
  const tuning = mallocTuningState();
  if (!tuning) return { name: "malloc tuning", ok: false, detail: "not applied at startup (bin/speechflow.js applies it)" };
  if (tuning.state === "active") {
    return {
      name: "malloc tuning",
      ok: true,
      detail: `mmap threshold pinned at ${tuning.mmapThresholdBytes / 1024} KiB (audio buffers go back to the OS when freed)`,
    };
  }
  if (tuning.state === "not-applicable") return { name: "malloc tuning", ok: true, detail: `not needed: ${tuning.reason}` };
  return { name: "malloc tuning", ok: false, detail: `${tuning.reason}; long runs use more memory` };
}

/** What `scripts/build-engine.mjs` recorded about the installed whisper.cpp build. */
function engineBuildInfo(): { mode: string; flags?: string; missingPatches?: string[]; addon: string } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("smart-whisper/package.json"));
    const infoPath = join(dir, "build", "speechflow-engine.json");
    const addon = join(dir, "build", "Release", "smart-whisper.node");
    if (!existsSync(infoPath)) return existsSync(addon) ? { mode: "default (node-gyp, no SIMD flags)", addon } : undefined;
    return { ...(JSON.parse(readFileSync(infoPath, "utf8")) as { mode: string; flags?: string; missingPatches?: string[] }), addon };
  } catch {
    return undefined;
  }
}

/** The doctor's line about the installed engine build, with what would make it faster or safer. */
export function engineBuildDetail(engine: { mode: string; flags?: string; missingPatches?: string[] }): string {
  let detail = `${engine.mode}${engine.flags ? ` [${engine.flags}]` : ""}`;
  // the native build links OpenBLAS only when pkg-config found it at install time
  if (engine.mode === "native" && !engine.flags?.includes("OpenBLAS")) {
    detail += "; without OpenBLAS: install libopenblas-dev and pkg-config, then npm rebuild speechflow (encoding about 2x faster)";
  }
  // scripts/build-engine.mjs could not apply a source patch (state reuse, RNG reseed): slower, and resumed runs may differ
  if (engine.missingPatches?.length) detail += `; NOT patched (smart-whisper changed?): ${engine.missingPatches.join("; ")}`;
  return detail;
}

function simdFlags(): string[] {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.split(/\s+/) ?? [];
    return ["sse3", "ssse3", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vnni", "amx_tile"].filter((f) => flags.includes(f));
  } catch {
    return [];
  }
}

/** Which VAD a run with these settings uses, and why. */
function vadCheck(mode: VadMode): DoctorCheck {
  try {
    const choice = resolveVad(mode);
    return { name: "VAD", ok: true, detail: `${choice.kind === "silero" ? `Silero (${choice.model}, ${sileroSettingsText()})` : "energy"}: ${choice.why}` };
  } catch (error) {
    return { name: "VAD", ok: false, detail: toSpeechflowError(error).message };
  }
}

export async function doctorReport(options: { cwd: string; ffmpeg: string; dbPath: string; vad?: VadMode; env?: NodeJS.ProcessEnv }): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  try {
    const ff = await resolveFfmpeg(options.ffmpeg, env);
    checks.push({ name: "ffmpeg", ok: true, detail: `${ff.version} at ${ff.path} (from ${ff.source})` });
  } catch (error) {
    checks.push({ name: "ffmpeg", ok: false, detail: toSpeechflowError(error).message });
  }
  const engine = engineBuildInfo();
  let addonOk = false;
  let addonDetail = "smart-whisper is not installed";
  if (engine) {
    try {
      createRequire(import.meta.url)("smart-whisper");
      addonOk = true;
      addonDetail = engineBuildDetail(engine);
    } catch (error) {
      addonDetail = `the whisper.cpp addon does not load: ${(error as Error).message.split("\n")[0]}; run npm rebuild smart-whisper`;
    }
  }
  checks.push({ name: "whisper.cpp engine", ok: addonOk, detail: addonDetail });
  checks.push(vadCheck(options.vad ?? "auto"));
  checks.push(mallocCheck());
  const models: DoctorReport["models"] = [];
  for (const dir of modelSearchDirs(options.cwd, env)) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(".bin"));
    } catch {
      continue;
    }
    for (const name of names) models.push({ path: join(dir, name), sizeBytes: statSync(join(dir, name)).size });
  }
  checks.push({
    name: "models",
    ok: models.length > 0,
    detail: models.length > 0 ? `${models.length} found` : `none in ${modelSearchDirs(options.cwd, env).join(", ")}`,
  });
  checks.push({ name: "state database", ok: true, detail: `${options.dbPath}${existsSync(options.dbPath) ? "" : " (not created yet)"}` });
  return {
    version: TOOL_VERSION,
    node: process.version,
    checks,
    models,
    cpu: { count: availableParallelism(), model: cpus()[0]?.model ?? "unknown", simd: simdFlags() },
  };
}
