import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configTableMarkdown, eventsJsonSchema, exampleConfigJson, TABLE_END, TABLE_START } from "../../src/tools/generate-docs.js";
import { configSchema } from "../../src/config/config-schema.js";
import { ROOT } from "../helpers/paths.js";

describe("files generated from the config schema", () => {
  it("speechflow.config.example.json matches the schema (run npm run gen:docs)", () => {
    expect(readFileSync(join(ROOT, "speechflow.config.example.json"), "utf8")).toBe(exampleConfigJson());
  });

  it("the README settings table matches the schema (run npm run gen:docs)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END)).trim();
    expect(table).toBe(configTableMarkdown());
  });

  it("docs/events.schema.json matches the event schema (run npm run gen:docs)", () => {
    expect(readFileSync(join(ROOT, "docs", "events.schema.json"), "utf8")).toBe(eventsJsonSchema());
  });

  it("the example config is valid and equals the defaults", () => {
    const example = JSON.parse(exampleConfigJson()) as unknown;
    expect(configSchema.parse(example)).toEqual(configSchema.parse({}));
  });

  it("every key has a description and a default", () => {
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      expect(schema.description, key).toBeTruthy();
      expect((schema as unknown as { _zod: { def: { type: string } } })._zod.def.type, key).toBe("default");
    }
  });
});
