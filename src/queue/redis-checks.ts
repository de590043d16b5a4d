import { Redis } from "ioredis";
import { SpeechflowError } from "../errors/speechflow-error.js";
import { type RedisConnectionOptions, redactRedisUrl, redisConnectionOptions } from "./redis-options.js";

/** What BullMQ needs from the Redis server, read from INFO and CONFIG. */
export interface RedisFacts {
  version: string;
  maxmemoryPolicy: string;
  aof: boolean;
}

export interface RedisFinding {
  level: "error" | "warning";
  message: string;
}

const versionAtLeast = (version: string, major: number, minor: number) => {
  const [a = 0, b = 0] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
};

/** BullMQ's requirements: Redis >= 6.2 and no eviction (an evicted job is a lost chunk); AOF so a restart keeps the queue. */
export function redisFindings(facts: RedisFacts): RedisFinding[] {
  const findings: RedisFinding[] = [];
  if (!versionAtLeast(facts.version, 6, 2)) findings.push({ level: "error", message: `Redis ${facts.version} is too old: BullMQ needs 6.2 or newer` });
  if (facts.maxmemoryPolicy === "unknown") {
    findings.push({ level: "warning", message: "maxmemory-policy could not be read (CONFIG disabled?); it must be noeviction" });
  } else if (facts.maxmemoryPolicy !== "noeviction") {
    findings.push({
      level: "error",
      message: `maxmemory-policy is ${facts.maxmemoryPolicy}: Redis may evict queued chunks; set it to noeviction`,
    });
  }
  if (!facts.aof)
    findings.push({ level: "warning", message: "AOF is off: a Redis restart loses the queue (runs re-queue what was lost); appendonly yes keeps it" });
  return findings;
}

/** Connects (failing within `timeoutMs` when nobody answers) and returns a client. */
export async function connectRedis(url: string, timeoutMs = 10000): Promise<Redis> {
  const options: RedisConnectionOptions = redisConnectionOptions(url);
  const redis = new Redis({ ...options, lazyConnect: true });
  // a connection error is reported through connect(); ioredis would print unhandled ones
  redis.on("error", () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new SpeechflowError("QUEUE_UNAVAILABLE", `cannot reach Redis at ${redactRedisUrl(url)}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

export async function readRedisFacts(redis: Redis): Promise<RedisFacts> {
  const info = await redis.info("server");
  const persistence = await redis.info("persistence");
  const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
  const aof = /aof_enabled:1/.test(persistence);
  let maxmemoryPolicy = "unknown";
  try {
    const pair = (await redis.config("GET", "maxmemory-policy")) as string[];
    maxmemoryPolicy = pair[1] ?? "unknown";
  } catch {
    // CONFIG may be disabled on managed Redis: say unknown rather than fail
  }
  return { version, maxmemoryPolicy, aof };
}
