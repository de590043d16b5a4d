// The generated test model (test/support/write-test-model.ts) is a test helper and is not shipped in
// dist/. Bench scripts are plain Node 20 ESM, so they load the copy that `npm run build:support`
// compiles to build/test-support/ (git-ignored); every `npm run bench*` script runs it first.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** @returns {Promise<typeof import("../test/support/write-test-model.js")>} */
export async function loadTestModelWriter() {
  const source = join(root, "test", "support", "write-test-model.ts");
  const compiled = join(root, "build", "test-support", "write-test-model.js");
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    throw new Error(`${compiled} is missing or older than ${source}: run npm run build:support (the npm run bench* scripts do)`);
  }
  return import(pathToFileURL(compiled).href);
}
