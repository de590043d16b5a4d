import { describe, expect, it } from "vitest";
import { resolvePaths } from "../../src/core/paths.js";

describe("resolvePaths", () => {
  it("puts the database under the output folder unless db is set", () => {
    expect(resolvePaths({ output: "out", db: "" }, "/work")).toEqual({
      outputDir: "/work/out",
      dbPath: "/work/out/.speechflow/state.sqlite",
      stateDir: "/work/out/.speechflow",
      downloadsDir: "/work/out/.speechflow/downloads",
    });
    expect(resolvePaths({ output: "/abs/out", db: "state/db.sqlite" }, "/work")).toMatchObject({
      outputDir: "/abs/out",
      dbPath: "/work/state/db.sqlite",
      downloadsDir: "/work/state/downloads",
    });
  });
});
