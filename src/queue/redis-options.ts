import { SpeechflowError } from "../errors/speechflow-error.js";

/** ioredis options BullMQ connects with (its own connections: Queue, Worker, QueueEvents). */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  /** null: commands wait through a Redis restart instead of failing (BullMQ workers require it) */
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
}

/** `--queue redis://[user:password@]host[:port][/db]` (or rediss:// for TLS) -> connection options. */
export function redisConnectionOptions(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SpeechflowError("USAGE", `--queue: not a URL: ${url} (use redis://host:6379/0)`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new SpeechflowError("USAGE", `--queue: unsupported scheme ${parsed.protocol} (use redis:// or rediss://)`);
  }
  const dbPart = parsed.pathname.replace(/^\//, "");
  if (dbPart !== "" && !/^\d+$/.test(dbPart)) throw new SpeechflowError("USAGE", `--queue: database must be a number, not "${dbPart}"`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db: dbPart === "" ? 0 : Number(dbPart),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // reconnect quickly and forever: a restarted Redis is back within seconds
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
}

/** The URL without its password, for logs and `queue status`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
