import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../src/config/config-schema.js";
import { loadConfig } from "../../src/config/load-config.js";

function dirWith(file: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sf-config-"));
  writeFileSync(join(dir, file), content);
  return dir;
}

describe("loadConfig", () => {
  it("uses the schema defaults when nothing is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-config-"));
    const { config, configFile } = await loadConfig({ cwd: dir, env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(configFile).toBeUndefined();
  });

  it("applies flags over env over config file over defaults", async () => {
    const dir = dirWith("speechflow.config.json", JSON.stringify({ workers: 2, threads: 3, language: "fr", formats: ["txt"] }));
    const { config, configFile } = await loadConfig({
      cwd: dir,
      env: { SPEECHFLOW_THREADS: "5", SPEECHFLOW_LANGUAGE: "de" },
      flags: { language: "es" },
    });
    expect(configFile).toBe(join(dir, "speechflow.config.json"));
    expect(config.workers).toBe(2); // file
    expect(config.threads).toBe(5); // env over file
    expect(config.language).toBe("es"); // flag over env
    expect(config.formats).toEqual(["txt"]);
    expect(config.beamSize).toBe(DEFAULT_CONFIG.beamSize);
  });

  it("reads .speechflowrc (YAML) and package.json#speechflow", async () => {
    const yaml = await loadConfig({ cwd: dirWith(".speechflowrc", "workers: 4\nformats: [srt, vtt]\n"), env: {} });
    expect(yaml.config.workers).toBe(4);
    expect(yaml.config.formats).toEqual(["srt", "vtt"]);
    const pkg = await loadConfig({ cwd: dirWith("package.json", JSON.stringify({ name: "x", speechflow: { maxLineWidth: 30 } })), env: {} });
    expect(pkg.config.maxLineWidth).toBe(30);
  });

  it("coerces environment strings: numbers, booleans, comma lists", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-config-"));
    const { config } = await loadConfig({ cwd: dir, env: { SPEECHFLOW_WORKERS: "3", SPEECHFLOW_TRANSLATE: "true", SPEECHFLOW_FORMATS: "txt, json" } });
    expect(config.workers).toBe(3);
    expect(config.translate).toBe(true);
    expect(config.formats).toEqual(["txt", "json"]);
  });

  it("names the file and the key in validation errors", async () => {
    const dir = dirWith("speechflow.config.json", JSON.stringify({ workers: "many" }));
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(/speechflow\.config\.json: "workers": expected "auto" or a whole number from 1 to 64/);
  });

  it("rejects unknown keys (typos) by name", async () => {
    const dir = dirWith("speechflow.config.json", JSON.stringify({ wokers: 2 }));
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(/unknown key "wokers"/);
  });

  it("names the flag or environment variable that is wrong", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-config-"));
    await expect(loadConfig({ cwd: dir, env: {}, flags: { formats: ["pdf"] } })).rejects.toThrow(/command line: --formats/);
    await expect(loadConfig({ cwd: dir, env: { SPEECHFLOW_BEAM_SIZE: "0" } })).rejects.toThrow(/environment: SPEECHFLOW_BEAM_SIZE/);
    await expect(loadConfig({ cwd: dir, env: { SPEECHFLOW_DEVICE: "gpu" } })).rejects.toThrow(/SPEECHFLOW_DEVICE: expected "cpu"/);
  });

  it("has exit code 2 for configuration errors", async () => {
    const dir = dirWith("speechflow.config.json", "{ not json");
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toMatchObject({ code: "CONFIG_INVALID", exitCode: 2 });
  });
});
