// The generated test models (test/support/write-test-model.ts) are test helpers and are not shipped in
// dist/. Bench scripts are plain Node 20 ESM, so they load the copy that `npm run build:support`
// compiles to build/test-support/ (git-ignored); every `npm run bench*` script runs it first.
//
// Two tiny-sized variants (384 wide, 6 heads, 4+4 layers, f16, 51865 tokens) serve the benchmarks:
// - TINY_SIZED_MODEL, "encoder-only": every 30 s window decodes [<|1.00|>, one word, <|30.00|>, EOT],
//   so almost all of its cost is the encoder's;
// - TINY_SIZED_DECODING_MODEL: every 30 s window decodes DECODING_WINDOW, 81 tokens (<|0.00|>, five
//   6 s segments of 14 words ended by <|t|><|t+0.02|> pairs, <|30.00|>, EOT), whatever the audio, the
//   text context (-mc), prompts, beam search or temperature fallback, so whisper.cpp's CLI and
//   speechflow do the same decoding work per window, as with a real model on speech. How the decoder
//   is built so: the header comment of test/support/write-test-model.ts.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const compiled = join(root, "build", "test-support", "write-test-model.js");

/** @returns {Promise<typeof import("../test/support/write-test-model.js")>} */
export async function loadTestModelWriter() {
  const source = join(root, "test", "support", "write-test-model.ts");
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    throw new Error(`${compiled} is missing or older than ${source}: run npm run build:support (the npm run bench* scripts do)`);
  }
  return import(pathToFileURL(compiled).href);
}

/**
 * The two tiny-sized benchmark models, written into `dir` unless a copy newer than the generator is
 * there (a model written by an older generator would measure something else), with what each decodes
 * per full 30 s window.
 * @param {string} dir
 */
export async function benchModels(dir) {
  const m = await loadTestModelWriter();
  /** @param {string} name @param {import("../test/support/write-test-model.js").TestModelSpec} spec */
  const written = (name, spec) => {
    const path = join(dir, name);
    if (!existsSync(path) || statSync(path).mtimeMs < statSync(compiled).mtimeMs) {
      mkdirSync(dirname(path), { recursive: true });
      m.writeTestModel(path, spec);
    }
    return path;
  };
  const encoderOnlyText = m.testTokenText(m.FIXED_TEXT_TOKEN);
  return {
    encoderOnly: {
      path: written("ggml-tiny-sized.bin", m.TINY_SIZED_MODEL),
      tokensPerWindow: 4,
      segments: [{ fromMs: 1000, toMs: 30_000, text: encoderOnlyText }],
    },
    decoding: {
      path: written("ggml-tiny-sized-decoding.bin", m.TINY_SIZED_DECODING_MODEL),
      tokensPerWindow: m.DECODING_WINDOW.tokens.length,
      segments: m.DECODING_WINDOW.segments,
    },
  };
}
