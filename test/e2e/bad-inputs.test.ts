import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type BadInput, badInputs } from "../helpers/bad-inputs.js";
import { sentenceClips } from "../helpers/corpus.js";
import { CLI, MICRO_MODEL_PATH } from "../helpers/paths.js";
import { type ReliabilityRow, recordReliability } from "../helpers/reliability-log.js";
import { type CliResult, minimalEnv, parseEvents } from "../helpers/run-cli.js";

const NOBODY = 65534;
/**
 * As root, permissions are not enforced; the run goes as `nobody` when that user can read the
 * checkout and start this Node binary again (workers are forked from process.execPath; a checkout
 * under /root or a Node in a private temp dir fails that): else the two permission cases do not
 * run and are recorded as skipped.
 */
const asRoot =
  process.getuid?.() === 0 &&
  spawnSync("setpriv", [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    "--clear-groups",
    "--",
    process.execPath,
    "-e",
    `require("fs").accessSync(${JSON.stringify(CLI)}); require("fs").accessSync(${JSON.stringify(MICRO_MODEL_PATH)}); require("child_process").execFileSync(process.execPath, ["-e", "0"])`,
  ]).status === 0;
const rootWithoutNobody = process.getuid?.() === 0 && !asRoot;
let work: string;
let tree: string;
let inputs: BadInput[];

/** Runs the CLI as `nobody` when the tests run as root, so that file permissions are real. */
function runUnprivileged(args: string[], cwd: string): Promise<CliResult> {
  const command = asRoot ? "setpriv" : process.execPath;
  const argv = asRoot ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", process.execPath, CLI, ...args] : [CLI, ...args];
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd, env: minimalEnv(work), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function chownTree(path: string): void {
  const info = lstatSync(path);
  if (!info.isSymbolicLink()) chownSync(path, NOBODY, NOBODY);
  if (info.isDirectory()) for (const name of readdirSync(path, { encoding: "buffer" })) chownTree(joinBuffer(path, name));
}
const joinBuffer = (dir: string, name: Buffer) => Buffer.concat([Buffer.from(dir + "/"), name]) as unknown as string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sf-bad-"));
  tree = join(work, "inputs");
  mkdirSync(tree);
  mkdirSync(join(work, "extra"));
  const clip = sentenceClips()[0]!;
  inputs = badInputs(clip, work);
  for (const input of inputs) {
    const path = typeof input.name === "string" ? join(input.explicit ? join(work, "extra") : tree, input.name) : joinBuffer(tree, input.name);
    input.make(path);
  }
  if (asRoot) {
    for (const name of readdirSync(work)) if (name !== "extra" && name !== "inputs") chownTree(join(work, name));
    chownTree(work);
  }
}, 120000);

describe("crafted bad inputs (the table in docs/RELIABILITY.md)", () => {
  it("each one is transcribed or named in a clear one-line error; the run goes on and exits 3", async () => {
    const explicit = inputs.filter((i) => i.explicit).map((i) => join(work, "extra", String(i.name)));
    const out = join(work, "out");
    const r = await runUnprivileged(
      ["transcribe", tree, ...explicit, "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--json"],
      work,
    );
    expect(r.code, r.stderr).toBe(3);
    const events = parseEvents(r.stdout);
    const outcome = new Map<string, { status: string; code?: string; message?: string }>();
    for (const e of events) {
      if (e.type === "file-done") outcome.set(String(e.file), { status: "done" });
      if (e.type === "file-failed") outcome.set(String(e.file), { status: "failed", code: String(e.code), message: String(e.message) });
    }

    const rows: ReliabilityRow[] = [];
    const problems: string[] = [];
    for (const input of inputs) {
      const name = typeof input.name === "string" ? input.name : input.name.toString("utf8");
      const path = input.reportedAs ?? join(input.explicit ? join(work, "extra") : tree, name);
      const seen = outcome.get(path);
      const observed = seen ? (seen.status === "done" ? "transcribed" : `failed: ${seen.code}: ${seen.message}`) : "no event (not an input)";
      const what = `${input.what} (\`${JSON.stringify(name).slice(1, -1).slice(0, 60)}\`)`;
      let expected: string;
      let pass: boolean;
      if (input.expect.status === "done") {
        expected = "transcribed";
        pass = seen?.status === "done";
      } else if (input.expect.status === "none") {
        expected = "no event (not an input)";
        pass = seen === undefined;
      } else {
        expected = `failed: ${input.expect.code}: ${input.expect.message.source}`;
        pass = seen?.status === "failed" && seen.code === input.expect.code && input.expect.message.test(seen.message ?? "");
      }
      if (input.needsNonRoot && rootWithoutNobody) {
        // as root permissions are not enforced: this case did not run, whatever root saw
        rows.push({
          area: "bad input",
          case: what,
          expected,
          observed: "",
          skipped: "running as root, and user nobody cannot read the checkout or start this Node, so permissions are not enforced",
        });
        continue;
      }
      rows.push({ area: "bad input", case: what, expected, observed, pass });
      if (!pass) problems.push(`${JSON.stringify(name)}: expected ${expected}, saw ${observed}`);
    }
    recordReliability("bad-inputs", rows);
    expect(problems).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(30);

    // nothing was executed through a name
    expect(existsSync(join(work, "PWNED"))).toBe(false);
    expect(existsSync(join(tree, "PWNED"))).toBe(false);
    expect(existsSync(join(work, "PWNED2"))).toBe(false);
    // every output stayed inside the output folder, with a file name the file system took
    expect(existsSync(join(out, "-rf.txt"))).toBe(true);
    expect(existsSync(join(out, "$(touch PWNED).txt"))).toBe(true);
    expect(readdirSync(out).some((n) => n.startsWith("é".repeat(50)) && n.endsWith(".summary.json") === false && n.endsWith(".json"))).toBe(true);
  }, 300000);

  it("prints each failure as one line naming the file, control characters escaped", async () => {
    const out = join(work, "out");
    const r = await runUnprivileged(
      ["transcribe", tree, "-o", out, "-m", MICRO_MODEL_PATH, "--no-temperature-fallback", "--threads", "1", "--reporter", "plain"],
      work,
    );
    expect(r.code).toBe(3);
    const failureLines = r.stderr.split("\n").filter((l) => l.startsWith("  ✗ "));
    const failedCount = inputs.filter((i) => i.expect.status === "failed" && !i.explicit && !(i.needsNonRoot && rootWithoutNobody)).length;
    expect(failureLines).toHaveLength(failedCount);
    for (const line of failureLines) expect(line).toMatch(new RegExp(`^  ✗ ${tree.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/.+: .+ \\[[A-Z_]+\\]$`));
    expect(r.stderr).toContain(`${tree}/not\\naudio.wav: not a readable audio/video file`);
  }, 300000);
});
