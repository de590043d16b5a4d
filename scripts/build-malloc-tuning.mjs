#!/usr/bin/env node
// Builds native/malloc-tuning.c into build/malloc-tuning.node (runs in postinstall, after the engine).
// Linux only: elsewhere malloc does not move its mmap threshold (see the C file for why it matters).
// It never fails the install: without the addon the CLI runs with malloc's defaults, and
// `speechflow doctor` says so. The addon uses Node-API only, so it survives Node upgrades unchanged.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** @param {string} msg */
const log = (msg) => process.stderr.write(`speechflow malloc tuning: ${msg}\n`);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "native", "malloc-tuning.c");
const target = join(root, "build", "malloc-tuning.node");

if (process.platform !== "linux") process.exit(0);
if ((process.env.SPEECHFLOW_ENGINE_BUILD || "").toLowerCase() === "skip") process.exit(0);
try {
  build();
} catch (error) {
  log(`skipped: ${error instanceof Error ? error.message : String(error)}`);
}

function build() {
  // node_api.h: beside this node (official builds, Debian's headers, npm's node@N packages), else
  // where node-gyp keeps the headers it downloaded
  const includes = [
    process.env.npm_config_nodedir ? join(process.env.npm_config_nodedir, "include", "node") : "",
    join(dirname(process.execPath), "..", "include", "node"),
    join(process.env.npm_config_devdir || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "node-gyp"), process.versions.node, "include", "node"),
  ].filter((dir) => dir && existsSync(join(dir, "node_api.h")));
  if (includes.length === 0) {
    log("Node's headers (node_api.h) were not found; skipped (the CLI works without it, with a larger heap on long runs)");
    return;
  }

  mkdirSync(dirname(target), { recursive: true });
  // a name ending in .node, which require() loads as an addon
  const partial = join(dirname(target), "malloc-tuning.new.node");
  // CC may carry arguments ("ccache gcc")
  const [compiler = "cc", ...ccArgs] = (process.env.CC || "cc").trim().split(/\s+/);
  const built = spawnSync(compiler, [...ccArgs, "-shared", "-fPIC", "-O2", `-I${includes[0]}`, source, "-o", partial], { encoding: "utf8" });
  if (built.status !== 0) {
    log(`${compiler} failed (${built.error?.message ?? `exit ${built.status}`}); skipped: ${(built.stderr ?? "").trim().split("\n").slice(-3).join(" ")}`);
    rmSync(partial, { force: true });
    return;
  }
  // the addon must load and (on glibc) take the setting in a fresh node before it replaces a working one;
  // on other C libraries it stays, so that doctor can say there is nothing to tune
  const probe = spawnSync(
    process.execPath,
    ["-e", `const a = require(${JSON.stringify(partial)}); process.exit(!a.glibc || a.setMmapThreshold(131072) ? 0 : 3)`],
    {
      encoding: "utf8",
    },
  );
  if (probe.status !== 0) {
    log(`the built addon does not work (${(probe.stderr || `exit ${probe.status}`).trim().split("\n").slice(-1)[0]}); skipped`);
    rmSync(partial, { force: true });
    return;
  }
  renameSync(partial, target);
}
