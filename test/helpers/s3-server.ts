import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** a bucket that exists, created at start */
  bucket: string;
  /** the environment a client needs to reach the bucket (endpoint, key pair, region) */
  env: NodeJS.ProcessEnv;
  pid: number;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL("s3-server-main.cjs", import.meta.url));

/** s3rver's built-in account: it rejects any other access key id with InvalidAccessKeyId */
const ACCESS_KEY = "S3RVER";

/**
 * A real S3 REST server (npm s3rver, objects on disk in a temporary folder; s3-server-main.cjs) on
 * 127.0.0.1 and a free port, in a child process of its own, stopped by pid. It answers the SDK's
 * SigV4-signed requests, checks the access key id (but not the signature itself) and pages
 * ListObjectsV2 at 1000 keys, as AWS does.
 */
export async function startS3Server(bucket = "speechflow-test"): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "speechflow-s3-"));
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider
  const child = spawn(process.execPath, ["--openssl-legacy-provider", MAIN, dir, bucket], { stdio: ["ignore", "pipe", "pipe"] });
  const port = await listeningPort(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const pid = child.pid as number;
  return {
    endpoint,
    bucket,
    pid,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: ACCESS_KEY, AWS_REGION: "us-east-1" },
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, "SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** s3rver prints "S3rver listening on 127.0.0.1:<port>" once it accepts connections. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /listening on [\d.]+:(\d+)/.exec(output);
      if (match) {
        child.stdout?.off("data", onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening:\n${output}`)));
  });
}
