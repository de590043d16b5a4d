#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm ci` / `npm run build`).
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

// V8 doubles its young generation each time enough objects survive a collection, up to 2 x 16 MB
// (2 x 32 MB on Node 26), and keeps it: a run's steady trickle of chunk records and promises took it
// to the maximum, of which a fraction of a MB was in use. Kept at its starting size, the CLI's own
// peak RSS on 5 minutes of audio measured 141-159 MB instead of 167-182, with the same wall time and
// CPU. The flag is read whenever the young generation would grow, so setting it first thing works
// (checked on Node 20, 22 and 26; --max-semi-space-size, by contrast, is fixed at startup).
setFlagsFromString("--semi-space-growth-factor=1");

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("speechflow: dist/ is missing; run `npm run build` in the speechflow folder\n");
  process.exit(1);
}
// before any audio is allocated: pins glibc's mmap threshold (src/core/tune-malloc.ts says why);
// optional, so a failure here only leaves malloc as it was (doctor reports it)
try {
  const { tuneMalloc } = await import(new URL("../dist/core/tune-malloc.js", import.meta.url).href);
  tuneMalloc();
} catch {}
// `speechflow ... | head` closes stdout early; that is not an error
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
