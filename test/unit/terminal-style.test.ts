import { describe, expect, it } from "vitest";
import { terminalChalk } from "../../src/reporters/terminal-style.js";

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe("terminal colours", () => {
  it("colour on a TTY, none on a pipe", () => {
    expect(terminalChalk(tty, {}).red("x")).toBe("\u001b[31mx\u001b[39m");
    expect(terminalChalk(pipe, {}).red("x")).toBe("x");
  });
  it("NO_COLOR turns colour off even on a TTY; FORCE_COLOR turns it on", () => {
    expect(terminalChalk(tty, { NO_COLOR: "1" }).red("x")).toBe("x");
    expect(terminalChalk(pipe, { FORCE_COLOR: "1" }).red("x")).toBe("\u001b[31mx\u001b[39m");
  });
});
