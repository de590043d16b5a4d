import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** generated fixtures and models, shared by all test files (gitignored) */
export const ARTIFACTS = join(ROOT, "test", ".artifacts");
export const MICRO_MODEL_PATH = join(ARTIFACTS, "models", "ggml-micro.bin");
export const CLI = join(ROOT, "bin", "speechflow.js");
