import { withRetry } from "../core/retry.js";
import { TOOL_NAME, TOOL_VERSION } from "../core/tool-version.js";
import { redactUrl, splitCredentials } from "../inputs/redact-url.js";

export interface NotifyResult {
  ok: boolean;
  attempts: number;
  /** why the last attempt failed (URL credentials removed) */
  message?: string;
}

/** A failure worth another attempt (network error, timeout, 429, 5xx); its message is already redacted. */
class RetryableNotifyError extends Error {}

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
  let url: string;
  let headers: Record<string, string>;
  try {
    ({ url, headers } = splitCredentials(target));
  } catch {
    return { ok: false, attempts: 0, message: `not a valid URL: ${redactUrl(target)}` };
  }
  const post = (attempt: number) => postOnce(target, url, headers, body, attempt, options.timeoutMs ?? 10000);
  try {
    return await withRetry(post, {
      attempts,
      baseDelayMs: options.baseDelayMs ?? 500,
      classify: (error) => ({ retry: error instanceof RetryableNotifyError }),
    });
  } catch (error) {
    return { ok: false, attempts, message: (error as Error).message };
  }
}

/** One POST: resolves with a final answer (success or a refusal), throws when another try may help. */
async function postOnce(
  target: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  attempt: number,
  timeoutMs: number,
): Promise<NotifyResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": `${TOOL_NAME}/${TOOL_VERSION}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "follow",
    });
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    throw new RetryableNotifyError(
      `${redactUrl(target)}: ${e.name === "TimeoutError" ? "no answer in time" : (e.cause?.code ?? e.cause?.message ?? e.message)}`,
    );
  }
  if (response.ok) return { ok: true, attempts: attempt };
  const message = `${redactUrl(target)} answered HTTP ${response.status}`;
  if (response.status === 429 || response.status >= 500) throw new RetryableNotifyError(message);
  return { ok: false, attempts: attempt, message };
}
