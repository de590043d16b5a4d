#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (built by `npm ci` / `npm run build`).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("speechflow: dist/ is missing; run `npm run build` in the speechflow folder\n");
  process.exit(1);
}
// `speechflow ... | head` closes stdout early; that is not an error
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
