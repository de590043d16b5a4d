import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.js";
import { recordReliability } from "../helpers/reliability-log.js";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * A guard on the source: processes are only started with argument arrays (spawn, fork, execFile,
 * execa with an array), never through a shell, so no file name or URL can become a command.
 * Behaviour is tested too (test/e2e/bad-inputs: `$(touch PWNED).wav`, `-rf.wav`, `--help.wav`).
 */
describe("no shell anywhere", () => {
  const files = sources(join(ROOT, "src")).map((path) => ({ path: path.slice(ROOT.length), text: readFileSync(path, "utf8") }));

  it("nothing passes shell: true, uses exec/execSync, execaCommand or execa's template form", () => {
    const forbidden = [
      /shell\s*:\s*true/,
      /\bexecSync\s*\(/,
      /\bexec\s*\(\s*[`"']/,
      /\bexecaCommand(Sync)?\b/,
      /\bexeca\s*`/,
      /\$\s*`/,
      /\bspawnSync\s*\([^,]+,\s*\{/,
    ];
    const hits = files.flatMap((f) => forbidden.filter((re) => re.test(f.text)).map((re) => `${f.path}: ${re.source}`));
    expect(hits).toEqual([]);
  });

  it("only the ffmpeg gateway, the downloader (yt-dlp), the worker pool, the diarization worker and GPU detection start processes", () => {
    const starters = files
      .filter((f) => /from "node:child_process"|from "execa"/.test(f.text))
      .map((f) => f.path)
      .sort();
    expect(starters).toEqual([
      "src/diarization/model-diarizer.ts",
      "src/engine/devices.ts",
      "src/engine/worker-pool.ts",
      "src/inputs/download-url.ts",
      "src/media/ffmpeg-gateway.ts",
    ]);
  });

  it("ffmpeg reads local inputs through the file: protocol and yt-dlp gets -- before the URL, so a name starting with - is never an option", () => {
    const gateway = files.find((f) => f.path.endsWith("ffmpeg-gateway.ts"))!.text;
    expect(gateway).toMatch(/`file:\$\{/);
    const downloader = files.find((f) => f.path.endsWith("download-url.ts"))!.text;
    // "--" right before the URL, the last argument (on one line or, as the formatter may wrap it, one per line)
    expect(downloader).toMatch(/"--",\s*url,?\s*\]/);
    recordReliability("security-static", [
      {
        area: "security",
        case: "processes started only with argument arrays (source scan of src/)",
        expected: "no shell, exec, execSync, execaCommand",
        observed: "none found",
        pass: true,
      },
      {
        area: "security",
        case: "names starting with - (ffmpeg file: protocol, yt-dlp --)",
        expected: "never parsed as options",
        observed: "file: prefix and -- present; -rf.wav and --help.wav transcribed in the bad-input run",
        pass: true,
      },
    ]);
  });
});
