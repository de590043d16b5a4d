#!/usr/bin/env node
// Rebuilds smart-whisper's whisper.cpp for this machine (runs as speechflow's postinstall).
//
// smart-whisper's own install compiles whisper.cpp with node-gyp and no SIMD flags, which is
// several times slower than whisper.cpp's own build. We build libwhisper.a with the Makefile that
// ships inside the package (-march=native, OpenMP) and relink the addon against it (smart-whisper's
// "BYOL"). If that fails we try node-gyp with -march=native, and finally leave or restore the
// portable build. It never fails the install: `speechflow doctor` reports what was built.
//
// SPEECHFLOW_ENGINE_BUILD selects the mode:
//   native (default)  BYOL libwhisper.a, host SIMD + OpenMP, and OpenBLAS for the encoder's matrix
//                     products when pkg-config finds it (libopenblas-dev); without it the same build
//                     with ggml's own products
//   march             node-gyp build with CFLAGS/CXXFLAGS=-march=native
//   portable          smart-whisper's default build (for binaries copied to other machines)
//   cuda              BYOL libwhisper.a built with GGML_CUDA=1 (needs nvcc and the CUDA libraries)
//   skip              do nothing
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, join, relative } from "node:path";
import { applyPatch, whisperCppPatches } from "./whisper-cpp-patches.mjs";

const require = createRequire(import.meta.url);
/** @param {string} msg */
const log = (msg) => process.stderr.write(`speechflow engine: ${msg}\n`);

/** @type {string} */
let swDir;
try {
  swDir = dirname(require.resolve("smart-whisper/package.json"));
} catch {
  log("smart-whisper is not installed; nothing to build");
  process.exit(0);
}

const requested = (process.env.SPEECHFLOW_ENGINE_BUILD || "native").toLowerCase();
if (requested === "skip") process.exit(0);

const swVersion = JSON.parse(readFileSync(join(swDir, "package.json"), "utf8")).version;
const infoPath = join(swDir, "build", "speechflow-engine.json");
const addonPath = join(swDir, "build", "Release", "smart-whisper.node");
// SPEECHFLOW_WHISPER_CPP_DIR: build libwhisper.a from another whisper.cpp tree of the same version
// (needed for CUDA, see byol())
const whisperDir = process.env.SPEECHFLOW_WHISPER_CPP_DIR || join(swDir, "whisper.cpp");
const jobs = String(Math.max(1, availableParallelism()));
// Source patches, applied in place before any build (each is idempotent: it looks for the code it
// replaces). `bindingPatch` in the key makes existing builds rebuild once when this list changes.
//
// 1. smart-whisper 0.8.1 declares its whisper_context_params without initialising them (only
//    use_gpu is set), so flash_attn, gpu_device and the DTW fields are whatever the stack holds. We
//    start from whisper.cpp's defaults instead.
// 2. smart-whisper creates a whisper_state (KV caches, compute buffers, graph allocations) for every
//    transcription and frees it afterwards; whisper.cpp's own CLI keeps one state for all windows and
//    files. We keep finished states in a per-model pool and hand them to the next transcription, so
//    a worker pays that set-up once per concurrent slot instead of once per chunk. The pool is
//    emptied when the model is freed.
// The patches to whisper.cpp itself (decoder RNG, OpenBLAS threads, the encoder attention's memory, idle pages) are
// in scripts/whisper-cpp-patches.mjs, which also says why. A patch there may list `earlier` forms: what an
// older speechflow left in place of `from` in a tree it patched (npm keeps smart-whisper's folder
// across upgrades), replaced by `to` as well.
const STATE_POOL = `
// speechflow: finished whisper_states are pooled per model and reused (see scripts/build-engine.mjs)
#include <mutex>
#include <unordered_map>
#include <vector>
static std::mutex sf_state_pool_mutex;
static std::unordered_map<whisper_context*, std::vector<whisper_state*>> sf_state_pool;
static whisper_state* sf_acquire_state(whisper_context* context) {
    {
        std::lock_guard<std::mutex> lock(sf_state_pool_mutex);
        auto& pool = sf_state_pool[context];
        if (!pool.empty()) {
            whisper_state* state = pool.back();
            pool.pop_back();
            return state;
        }
    }
    return whisper_init_state(context);
}
static void sf_release_state(whisper_context* context, whisper_state* state) {
    std::lock_guard<std::mutex> lock(sf_state_pool_mutex);
    sf_state_pool[context].push_back(state);
}
void sf_free_states(whisper_context* context) {
    std::lock_guard<std::mutex> lock(sf_state_pool_mutex);
    auto found = sf_state_pool.find(context);
    if (found == sf_state_pool.end()) return;
    for (whisper_state* state : found->second) whisper_free_state(state);
    sf_state_pool.erase(found);
}
`;
/** @type {[file: string, patch: Parameters<typeof applyPatch>[1]][]} */
const sourcePatches = [
  [
    join(swDir, "src", "binding", "model.cc"),
    {
      from: /whisper_context_params params;\n(\s*)params\.use_gpu/,
      to: "whisper_context_params params = whisper_context_default_params();\n$1params.use_gpu",
      applied: "whisper_context_params params = whisper_context_default_params();",
    },
  ],
  [
    join(swDir, "src", "binding", "transcribe.cc"),
    { from: '#include "transcribe.h"\n', to: `#include "transcribe.h"\n${STATE_POOL}`, applied: "sf_state_pool_mutex" },
  ],
  [
    join(swDir, "src", "binding", "transcribe.cc"),
    { from: "state = whisper_init_state(context);", to: "state = sf_acquire_state(context);", applied: "state = sf_acquire_state(context);" },
  ],
  [
    join(swDir, "src", "binding", "transcribe.cc"),
    {
      from: /if \(state != nullptr\) \{\n(\s*)whisper_free_state\(state\);/,
      to: "if (state != nullptr) {\n$1sf_release_state(context, state);",
      applied: "sf_release_state(context, state);",
    },
  ],
  [
    join(swDir, "src", "binding", "model.cc"),
    {
      from: /^(#include "model\.h"\n)/m,
      to: "$1\nvoid sf_free_states(whisper_context* context);  // speechflow: the state pool in transcribe.cc\n",
      applied: "void sf_free_states(",
    },
  ],
  [
    join(swDir, "src", "binding", "model.cc"),
    { from: /whisper_free\(context\);/g, to: "sf_free_states(context), whisper_free(context);", applied: "sf_free_states(context), whisper_free" },
  ],
  ...whisperCppPatches.map((p) => /** @type {[string, typeof p]} */ ([join(whisperDir, p.file), p])),
];
/** patches whose target was not found: recorded with the build so that `speechflow doctor` shows them */
/** @type {string[]} */
const missingPatches = [];
for (const [path, patch] of sourcePatches) {
  if (!existsSync(path)) continue;
  const source = readFileSync(path, "utf8");
  const fixed = applyPatch(source, patch);
  if (fixed === source) continue;
  const { applied } = patch;
  if (fixed === undefined) {
    log(`patch target not found in ${path} (smart-whisper changed?): ${String(patch.from).slice(0, 60)}`);
    // relative to smart-whisper's folder when inside it (a SPEECHFLOW_WHISPER_CPP_DIR tree may not be)
    const where = relative(swDir, path);
    missingPatches.push(`${where.startsWith("..") || isAbsolute(where) ? path : where}: ${applied}`);
  } else writeFileSync(path, fixed);
}
const key = { smartWhisper: swVersion, abi: process.versions.modules, platform: `${process.platform}-${process.arch}`, bindingPatch: 8 };

function nodeGypPath() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const candidates = [
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((c) => existsSync(c));
}

/** @param {string} cmd @param {string[]} args @param {Record<string, string>} env @param {string} cwd */
function run(cmd, args, env, cwd) {
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 << 20 });
  const ok = result.status === 0;
  if (!ok) {
    const tail = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
    log(`${cmd} ${args.join(" ")} failed (${result.error?.message ?? "exit " + result.status}):\n${tail}`);
  }
  return { ok, ms: Date.now() - started };
}

function addonLoads() {
  const probe = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(swDir)})`], { encoding: "utf8" });
  if (probe.status !== 0) log(`the rebuilt addon does not load: ${(probe.stderr || "").trim().split("\n").slice(-3).join(" ")}`);
  return probe.status === 0;
}

/** @param {Record<string, string>} env extra environment for node-gyp */
function gyp(env) {
  const nodeGyp = nodeGypPath();
  if (!nodeGyp) {
    log("node-gyp not found (run this through npm: npm run postinstall)");
    return false;
  }
  const args = [nodeGyp, "rebuild"];
  if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`);
  return run(process.execPath, args, env, swDir).ok && addonLoads();
}

function cleanObjects() {
  for (const dir of ["src", join("ggml", "src"), join("ggml", "src", "ggml-cuda")]) {
    const abs = join(whisperDir, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs)) if (f.endsWith(".o")) rmSync(join(abs, f));
  }
  rmSync(join(whisperDir, "libwhisper.a"), { force: true });
}

/**
 * CUDA from a newer whisper.cpp tree (one with CMakeLists.txt and the ggml-cuda headers, e.g. a
 * checkout, or the copy inside the nodejs-whisper npm package): cmake builds static, position-
 * independent libraries with GGML_CUDA=ON; smart-whisper's binding is compiled against that tree's
 * headers (one field was renamed since: suppress_non_speech_tokens -> suppress_nst) and linked
 * into the addon. Verified on an NVIDIA H200 with bench/gpu/gpu-check.sh (docs/BENCHMARKS.md).
 */
function cmakeCuda() {
  const build = join(swDir, "build", "whisper-cuda");
  const archs = process.env.CUDA_ARCHITECTURES || "native";
  const configured = run(
    "cmake",
    [
      "-S",
      whisperDir,
      "-B",
      build,
      "-DCMAKE_BUILD_TYPE=Release",
      "-DBUILD_SHARED_LIBS=OFF",
      "-DCMAKE_POSITION_INDEPENDENT_CODE=ON",
      "-DGGML_CUDA=ON",
      `-DCMAKE_CUDA_ARCHITECTURES=${archs}`,
      "-DGGML_NATIVE=ON",
      "-DWHISPER_BUILD_TESTS=OFF",
      "-DWHISPER_BUILD_EXAMPLES=OFF",
      "-DWHISPER_SDL2=OFF",
      "-DWHISPER_CURL=OFF",
    ],
    {},
    swDir,
  );
  if (!configured.ok || !run("cmake", ["--build", build, "-j", jobs, "--target", "whisper"], {}, swDir).ok) return false;
  const nodeInclude = join(dirname(process.execPath), "..", "include", "node");
  const napiInclude = dirname(require.resolve("node-addon-api/package.json"));
  /** @type {string[]} */
  const objects = [];
  for (const name of ["binding", "common", "model", "transcribe"]) {
    const object = join(build, `binding-${name}.o`);
    const compiled = run(
      "g++",
      [
        "-c",
        "-fPIC",
        "-O3",
        "-std=gnu++17",
        "-pthread",
        "-DNODE_GYP_MODULE_NAME=smart-whisper",
        "-DBUILDING_NODE_EXTENSION",
        "-Dsuppress_non_speech_tokens=suppress_nst",
        `-I${nodeInclude}`,
        `-I${napiInclude}`,
        `-I${join(whisperDir, "include")}`,
        `-I${join(whisperDir, "ggml", "include")}`,
        join(swDir, "src", "binding", `${name}.cc`),
        "-o",
        object,
      ],
      {},
      swDir,
    );
    if (!compiled.ok) return false;
    objects.push(object);
  }
  /** @param {string[]} p */
  const lib = (...p) => join(build, ...p);
  const cudaRoot = process.env.CUDA_PATH || "/usr/local/cuda";
  mkdirSync(dirname(addonPath), { recursive: true });
  const linked = run(
    "g++",
    [
      "-shared",
      "-pthread",
      "-o",
      addonPath,
      ...objects,
      "-Wl,--start-group",
      lib("src", "libwhisper.a"),
      lib("ggml", "src", "libggml.a"),
      lib("ggml", "src", "libggml-cpu.a"),
      lib("ggml", "src", "ggml-cuda", "libggml-cuda.a"),
      lib("ggml", "src", "libggml-base.a"),
      "-Wl,--end-group",
      "-fopenmp",
      `-L${cudaRoot}/lib64`,
      `-L${cudaRoot}/targets/x86_64-linux/lib`,
      `-L${cudaRoot}/lib64/stubs`,
      "-lcudart",
      "-lcublas",
      "-lcublasLt",
      "-lcuda",
      "-ldl",
      "-lrt",
    ],
    {},
    swDir,
  );
  return linked.ok && addonLoads();
}

/** OpenBLAS's compiler and linker flags when pkg-config finds it (Debian/Ubuntu: libopenblas-dev), else undefined */
function openblas() {
  const libs = spawnSync("pkg-config", ["--libs", "openblas"], { encoding: "utf8" });
  return libs.status === 0 && libs.stdout.trim() ? libs.stdout.trim() : undefined;
}

/** @param {boolean} cuda @param {string} [blasLibs] link OpenBLAS (pkg-config --libs openblas) */
function byol(cuda, blasLibs) {
  if (process.platform !== "linux") {
    log("the BYOL build is scripted for Linux only; keeping smart-whisper's own build");
    return false;
  }
  if (cuda && existsSync(join(whisperDir, "CMakeLists.txt")) && existsSync(join(whisperDir, "ggml", "src", "ggml-cuda", "common.cuh"))) return cmakeCuda();
  if (cuda && !existsSync(join(whisperDir, "ggml", "src", "ggml-cuda", "common.cuh"))) {
    // smart-whisper's npm package ships its whisper.cpp without the CUDA headers (*.cuh)
    log(
      `${whisperDir} has no CUDA headers (smart-whisper's package leaves out *.cuh). Point ` +
        "SPEECHFLOW_WHISPER_CPP_DIR at a whisper.cpp tree with CMakeLists.txt and ggml/src/ggml-cuda/*.cuh " +
        "(a checkout, or node_modules/nodejs-whisper/cpp/whisper.cpp after npm install nodejs-whisper) and run again",
    );
    return false;
  }
  // the Makefile includes scripts/get-flags.mk, which the npm package does not ship
  mkdirSync(join(whisperDir, "scripts"), { recursive: true });
  if (!existsSync(join(whisperDir, "scripts", "get-flags.mk"))) writeFileSync(join(whisperDir, "scripts", "get-flags.mk"), "");
  cleanObjects();
  /** @type {Record<string, string>} */
  const makeEnv = cuda ? { GGML_CUDA: "1" } : blasLibs ? { GGML_OPENBLAS: "1" } : {};
  const made = run("make", ["-C", whisperDir, `-j${jobs}`, "libwhisper.a"], makeEnv, swDir);
  if (!made.ok) return false;
  const cudaLibs = cuda
    ? " -L/usr/local/cuda/lib64 -L/usr/local/cuda/targets/x86_64-linux/lib -L/opt/cuda/lib64 -lcuda -lcublas -lcudart -lcublasLt -lculibos -lpthread -ldl -lrt"
    : "";
  return gyp({ BYOL: `${join(whisperDir, "libwhisper.a")} -fopenmp${cudaLibs}${blasLibs ? ` ${blasLibs}` : ""}` });
}

/** @param {string} mode @param {string} flags @param {number} ms */
function record(mode, flags, ms) {
  mkdirSync(dirname(infoPath), { recursive: true });
  writeFileSync(infoPath, JSON.stringify({ ...key, mode, flags, missingPatches, buildMs: ms, builtAt: new Date().toISOString() }, null, 2) + "\n");
  log(`built ${mode} (${flags}) in ${(ms / 1000).toFixed(1)} s`);
}

if (existsSync(infoPath) && existsSync(addonPath)) {
  const info = JSON.parse(readFileSync(infoPath, "utf8"));
  const same = info.smartWhisper === key.smartWhisper && info.abi === key.abi && info.platform === key.platform && info.bindingPatch === key.bindingPatch;
  if (same && info.requested === requested && addonLoads()) {
    log(`already built (${info.mode}); set SPEECHFLOW_ENGINE_BUILD and run npm run postinstall to change it`);
    process.exit(0);
  }
}

const started = Date.now();
const blasLibs = openblas();
if (requested === "native" && !blasLibs)
  log("OpenBLAS not found (pkg-config openblas): building without it; install libopenblas-dev for ~2x faster encoding on CPUs");
/** @typedef {[mode: string, flags: string, build: () => boolean]} Attempt */
/** @type {Attempt[]} */
const withBlas = blasLibs ? [["native", "BYOL libwhisper.a, -march=native, OpenMP, OpenBLAS", () => byol(false, blasLibs)]] : [];
/** @type {Record<string, Attempt[] | undefined>} */
const attemptsByMode = {
  native: [
    ...withBlas,
    ["native", "BYOL libwhisper.a, -march=native, OpenMP", () => byol(false)],
    ["march", "node-gyp, -march=native", () => gyp({ CFLAGS: "-O3 -march=native", CXXFLAGS: "-O3 -march=native" })],
  ],
  march: [["march", "node-gyp, -march=native", () => gyp({ CFLAGS: "-O3 -march=native", CXXFLAGS: "-O3 -march=native" })]],
  cuda: [["cuda", "BYOL libwhisper.a, GGML_CUDA, OpenMP", () => byol(true)]],
  portable: [],
};
const attempts = attemptsByMode[requested];
if (!attempts) {
  log(`unknown SPEECHFLOW_ENGINE_BUILD=${requested} (native, march, portable, cuda, skip)`);
  process.exit(0);
}

for (const [mode, flags, build] of attempts) {
  log(`building whisper.cpp: ${flags} ...`);
  if (build()) {
    record(mode, flags, Date.now() - started);
    const info = JSON.parse(readFileSync(infoPath, "utf8"));
    writeFileSync(infoPath, JSON.stringify({ ...info, requested }, null, 2) + "\n");
    process.exit(0);
  }
}
// nothing faster worked (or portable was asked for): make sure the portable addon is in place
if (requested !== "portable" || !existsSync(addonPath) || !addonLoads()) {
  if (!gyp({})) {
    log("could not build the whisper.cpp addon at all; `speechflow doctor` shows the state");
    process.exit(0);
  }
}
record("portable", "node-gyp defaults, no SIMD flags", Date.now() - started);
writeFileSync(infoPath, JSON.stringify({ ...JSON.parse(readFileSync(infoPath, "utf8")), requested }, null, 2) + "\n");
