import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MICRO_MODEL, writeTestModel } from "../support/write-test-model.js";
import { MICRO_MODEL_PATH } from "./paths.js";

/** Generates the micro test model once per test run (about 7 MB, well under a second). */
export default function setup(): void {
  mkdirSync(dirname(MICRO_MODEL_PATH), { recursive: true });
  if (!existsSync(MICRO_MODEL_PATH)) writeTestModel(MICRO_MODEL_PATH, MICRO_MODEL);
}
