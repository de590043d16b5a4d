import { describe, expect, it } from "vitest";
import { classifyS3Error } from "../../src/blob/classify-s3-error.js";
import { s3Settings } from "../../src/blob/s3-settings.js";

/** an error shaped as the AWS SDK throws them: a name, sometimes a socket code, the HTTP status */
const sdkError = (name: string, status?: number, code?: string) =>
  Object.assign(new Error(name), { name, ...(code ? { code } : {}), $metadata: status === undefined ? {} : { httpStatusCode: status } });

describe("classifyS3Error", () => {
  it.each([
    [sdkError("NoSuchKey", 404), "not-found"],
    [sdkError("NoSuchBucket", 404), "no-bucket"],
    [sdkError("InvalidAccessKeyId", 403), "denied"],
    [sdkError("SignatureDoesNotMatch", 403), "denied"],
    [sdkError("AccessDenied", 403), "denied"],
    [sdkError("ExpiredToken", 400), "denied"],
    [sdkError("Forbidden", 403), "denied"],
    [sdkError("CredentialsProviderError"), "no-credentials"],
    [new Error("Region is missing"), "no-region"],
    [sdkError("SlowDown", 503), "transient"],
    [sdkError("InternalError", 500), "transient"],
    [sdkError("Unknown", 502), "transient"],
    [sdkError("TooManyRequests", 429), "transient"],
    [sdkError("RequestTimeout", 400), "transient"],
    [sdkError("Error", undefined, "ECONNRESET"), "transient"],
    [sdkError("Error", undefined, "ECONNREFUSED"), "transient"],
    [sdkError("TimeoutError"), "transient"],
    [sdkError("Error", undefined, "ENOTFOUND"), "final"],
    [sdkError("InvalidArgument", 400), "final"],
    ["not an error", "final"],
  ])("%o is %s", (error, kind) => {
    expect(classifyS3Error(error)).toBe(kind);
  });
});

describe("s3Settings", () => {
  it("reads bucket and prefix from the URL, endpoint and keys as the AWS CLI does, path-style for a custom endpoint", () => {
    const env = {
      AWS_ENDPOINT_URL: "http://ignored:1",
      AWS_ENDPOINT_URL_S3: "http://minio:9000",
      AWS_ACCESS_KEY_ID: "id",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      AWS_DEFAULT_REGION: "eu-west-3",
    };
    expect(s3Settings("s3://audio-chunks/team/a/", env)).toEqual({
      bucket: "audio-chunks",
      prefix: "team/a",
      url: "s3://audio-chunks/team/a",
      endpoint: "http://minio:9000",
      region: "eu-west-3",
      forcePathStyle: true,
      credentials: { accessKeyId: "id", secretAccessKey: "secret", sessionToken: "token" },
    });
  });

  it("falls back to AWS_ENDPOINT_URL; AWS_REGION wins over AWS_DEFAULT_REGION; a custom endpoint without a region gets us-east-1", () => {
    expect(s3Settings("s3://bucket", { AWS_ENDPOINT_URL: "https://r2.example" }).endpoint).toBe("https://r2.example");
    expect(s3Settings("s3://bucket", { AWS_REGION: "ap-south-1", AWS_DEFAULT_REGION: "eu-west-3" }).region).toBe("ap-south-1");
    expect(s3Settings("s3://bucket", { AWS_ENDPOINT_URL: "https://r2.example" }).region).toBe("us-east-1");
  });

  it("leaves region and credentials to the SDK's own chain (config file, profiles, roles) on AWS itself", () => {
    const settings = s3Settings("s3://bucket", { AWS_ACCESS_KEY_ID: "id-without-secret" });
    expect(settings).toMatchObject({ bucket: "bucket", prefix: "", url: "s3://bucket", endpoint: undefined, region: undefined, forcePathStyle: false });
    expect(settings.credentials).toBeUndefined();
  });

  it("rejects an endpoint that is not an http(s) URL", () => {
    expect(() => s3Settings("s3://bucket", { AWS_ENDPOINT_URL_S3: "minio:9000" })).toThrow(/not an http\(s\) URL: minio:9000/);
  });
});
