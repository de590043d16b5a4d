import { SpeechflowError } from "../errors/speechflow-error.js";

/** Where an `s3://bucket/prefix` store lives and how to reach it, read from the URL and the environment. */
export interface S3Settings {
  bucket: string;
  /** the key prefix without slashes at either end; "" for the whole bucket */
  prefix: string;
  /** the store's URL without credentials: `s3://bucket/prefix` */
  url: string;
  /** a custom endpoint (MinIO, Ceph, R2...); undefined for AWS itself */
  endpoint: string | undefined;
  /** undefined: the SDK reads it from the AWS config file (or fails with a clear line) */
  region: string | undefined;
  /** bucket in the path, not the host name: what self-hosted servers expect */
  forcePathStyle: boolean;
  /** undefined: the SDK's default chain (profiles, SSO, instance roles) finds them */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

/** Custom endpoints usually do not care about the region, but SigV4 needs one; MinIO's default. */
const CUSTOM_ENDPOINT_REGION = "us-east-1";

/**
 * Reads `s3://bucket/prefix` and the variables the AWS CLI reads (AWS_ENDPOINT_URL_S3 before
 * AWS_ENDPOINT_URL, AWS_REGION before AWS_DEFAULT_REGION, the key pair and session token), so a
 * store set up for `aws s3` works here unchanged.
 */
export function s3Settings(url: string, env: NodeJS.ProcessEnv): S3Settings {
  const parsed = parseS3Url(url);
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new SpeechflowError("USAGE", `AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: not an http(s) URL: ${endpoint}`);
  }
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (endpoint ? CUSTOM_ENDPOINT_REGION : undefined);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;
  return { ...parsed, endpoint, region, forcePathStyle: endpoint !== undefined, credentials };
}

function parseS3Url(url: string): Pick<S3Settings, "bucket" | "prefix" | "url"> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SpeechflowError("USAGE", `--blob: not a URL: ${url} (use s3://bucket/prefix)`);
  }
  // never echo what looks like a secret back into a log
  if (parsed.username || parsed.password)
    throw new SpeechflowError("USAGE", "--blob: put S3 credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, not in the URL");
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || parsed.port) {
    throw new SpeechflowError(
      "USAGE",
      `--blob: ${url} does not name a bucket (use s3://bucket/prefix; bucket names are 3-63 lower-case letters, digits, dots, dashes)`,
    );
  }
  if (parsed.search || parsed.hash) throw new SpeechflowError("USAGE", `--blob: ${url}: no query or fragment expected (use s3://bucket/prefix)`);
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, "");
  return { bucket, prefix, url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}` };
}

function nonEmpty(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}
