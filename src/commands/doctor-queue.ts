import { toSpeechflowError } from "../errors/speechflow-error.js";
import { connectRedis, readRedisFacts, redisFindings } from "../queue/redis-checks.js";
import { redactRedisUrl } from "../queue/redis-options.js";
import type { DoctorCheck } from "./doctor-report.js";

/** `doctor --queue`: the Redis is reachable, new enough, never evicts, and (a warning only) keeps an AOF. */
export async function queueChecks(url: string): Promise<DoctorCheck[]> {
  let redis: Awaited<ReturnType<typeof connectRedis>>;
  try {
    redis = await connectRedis(url, 5000);
  } catch (error) {
    return [{ name: "queue", ok: false, detail: toSpeechflowError(error).message }];
  }
  try {
    const facts = await readRedisFacts(redis);
    const findings = redisFindings(facts);
    const problems = findings.filter((f) => f.level === "error");
    const warnings = findings.filter((f) => f.level === "warning");
    return [
      {
        name: "queue",
        ok: problems.length === 0,
        detail: `Redis ${facts.version} at ${redactRedisUrl(url)}, maxmemory-policy ${facts.maxmemoryPolicy}, AOF ${facts.aof ? "on" : "off"}${problems.length > 0 ? `: ${problems.map((p) => p.message).join("; ")}` : ""}`,
      },
      ...warnings.map((w) => ({ name: "queue (warning)", ok: true, detail: w.message })),
    ];
  } finally {
    redis.disconnect();
  }
}
