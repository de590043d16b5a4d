/** A URL fit for logs, events, the DB and manifests: user, password and query secrets removed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    for (const key of [...url.searchParams.keys()]) {
      if (/^(token|key|api[-_]?key|access[-_]?token|sig|signature|password|secret|auth|x-amz-signature|x-amz-credential)$/i.test(key))
        url.searchParams.set(key, "REDACTED");
    }
    return url.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, "//");
  }
}

/** fetch() refuses URLs with credentials: move them into an Authorization header. */
export function splitCredentials(raw: string): { url: string; headers: Record<string, string> } {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw, headers: {} };
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64");
  url.username = "";
  url.password = "";
  return { url: url.toString(), headers: { authorization: `Basic ${auth}` } };
}
