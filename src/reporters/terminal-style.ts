import { Chalk, type ChalkInstance } from "chalk";

/** Colours only on a TTY and never under NO_COLOR (https://no-color.org); FORCE_COLOR wins. */
export function terminalChalk(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return new Chalk({ level: 1 });
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return new Chalk({ level: 0 });
  return new Chalk({ level: stream.isTTY ? 1 : 0 });
}
