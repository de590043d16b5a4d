import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { redactUrl, splitCredentials } from "../inputs/redact-url.js";

export interface NotifyResult {
  ok: boolean;
  attempts: number;
  /** why the last attempt failed (URL credentials removed) */
  message?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs `body` as JSON. Network errors, timeouts, 429 and 5xx are retried with backoff; other
 * answers are final. Never throws: a webhook must not turn a finished run into a failed one.
 */
export async function notifyWebhook(
  target: string,
  body: unknown,
  options: { attempts?: number; timeoutMs?: number; baseDelayMs?: number } = {},
): Promise<NotifyResult> {
  const attempts = options.attempts ?? 4;
  const baseDelay = options.baseDelayMs ?? 500;
  let message = "";
  let url: string;
  let headers: Record<string, string>;
  try {
    ({ url, headers } = splitCredentials(target));
  } catch {
    return { ok: false, attempts: 0, message: `not a valid URL: ${redactUrl(target)}` };
  }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": `${TOOL_NAME}/${TOOL_VERSION}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10000),
        redirect: "follow",
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt };
      message = `${redactUrl(target)} answered HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500) return { ok: false, attempts: attempt, message };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      message = `${redactUrl(target)}: ${e.name === "TimeoutError" ? "no answer in time" : e.cause?.code ?? e.cause?.message ?? e.message}`;
    }
    if (attempt < attempts) await sleep(baseDelay * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
  }
  return { ok: false, attempts, message };
}
