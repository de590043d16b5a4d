/**
 * What one failed S3 request means for the caller:
 * - `not-found`: the key is not there (GetObject's NoSuchKey)
 * - `denied`: the credentials are wrong, expired or lack the permission; retrying cannot help
 * - `no-bucket`: the bucket does not exist at this endpoint
 * - `no-credentials` / `no-region`: nothing configured; the SDK found no value
 * - `transient`: 5xx, throttling, timeouts, a dropped or refused connection; worth another attempt
 * - `final`: anything else (a 4xx the driver does not expect)
 */
export type S3ErrorKind = "not-found" | "denied" | "no-bucket" | "no-credentials" | "no-region" | "transient" | "final";

const DENIED = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "AccountProblem",
]);
const THROTTLED = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "TooManyRequestsException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "InternalError",
  "ServiceUnavailable",
]);
/** socket errors that heal by themselves; ENOTFOUND is left out: a misspelt host does not */
const NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function classifyS3Error(error: unknown): S3ErrorKind {
  if (typeof error !== "object" || error === null) return "final";
  const e = error as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : "";
  const status = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  if (name === "NoSuchKey" || name === "NotFound") return "not-found";
  if (name === "NoSuchBucket") return "no-bucket";
  if (DENIED.has(name) || status === 401 || status === 403) return "denied";
  if (name === "CredentialsProviderError") return "no-credentials";
  if (typeof e.message === "string" && /region is missing/i.test(e.message)) return "no-region";
  if (THROTTLED.has(name) || NETWORK.has(code) || NETWORK.has(name)) return "transient";
  if (status !== undefined && (status >= 500 || status === 429)) return "transient";
  return "final";
}
