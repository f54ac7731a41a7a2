import type { Stack } from "../stack/stack.js";

export const MODEL = "claude-sonnet-4-6";
/** The Messages API version tests send, as the official SDKs do. */
export const ANTHROPIC_VERSION = "2023-06-01";

export interface MessageBody {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  system?: unknown;
  messages?: unknown[];
  [field: string]: unknown;
}

export function messageBody(prompt: string, extra: MessageBody = {}): MessageBody {
  return { model: MODEL, max_tokens: 200, messages: [{ role: "user", content: prompt }], ...extra };
}

/**
 * POSTs a Messages request to the gateway with a key. Under load, wrangler dev's local
 * server now and then closes or resets an idle keep-alive connection just as the client
 * reuses it, before any byte of a response ("other side closed", ECONNRESET), or its
 * proxy answers a plain 503 "Your worker restarted mid-request" without reaching the
 * gateway (no x-request-id: the gateway stamps one on everything it answers). Neither
 * is the gateway's doing, so such a request is sent again once.
 */
export function sendMessage(stack: Stack, key: string, body: MessageBody, signal?: AbortSignal): Promise<Response> {
  return withOneResend(() =>
    fetch(`${stack.gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION },
      body: JSON.stringify(body),
      signal,
    }),
  );
}

/** Sends a request, and once more when wrangler dev (not the gateway) dropped or refused it. */
export async function withOneResend(send: () => Promise<Response>): Promise<Response> {
  try {
    const response = await send();
    if (response.status !== 503 || response.headers.has("x-request-id")) return response;
    await response.body?.cancel();
    return send();
  } catch (error) {
    if (!isKeepAliveRace(error)) throw error;
    return send();
  }
}

function isKeepAliveRace(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return (cause?.code === "UND_ERR_SOCKET" && cause.message === "other side closed") || cause?.code === "ECONNRESET";
}

/** A fresh tenant with one secret key. */
export async function newTenant(stack: Stack, fields: Record<string, unknown> = {}): Promise<{ id: string; key: string; keyId: string }> {
  const id = `t-${crypto.randomUUID().slice(0, 8)}`;
  await stack.admin.createTenant({ id, name: `Test tenant ${id}`, ...fields });
  const created = await stack.admin.createKey(id, { label: "test" });
  return { id, key: created.key, keyId: created.id };
}

/** Reads a streamed response until `predicate` holds for the text so far, then aborts the request. */
export async function readUntilThenAbort(
  response: Response,
  controller: AbortController,
  predicate: (text: string) => boolean,
): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  controller.abort();
  return text;
}

/**
 * Upstash requests the bridge saw before and after the upstream call of `response`
 * (since the bridge's stats were last reset), once the gateway has logged the request,
 * i.e. finished its deferred settlement.
 */
export async function upstashRoundTripsAround(stack: Stack, response: Response): Promise<{ before: number; after: number }> {
  await response.text();
  await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
  const upstreamStartedAt = stack.simulator!.ledger.get(response.headers.get("request-id")!)!.startedAt;
  const { arrivals } = stack.bridge.stats();
  return {
    before: arrivals.filter((at) => at < upstreamStartedAt).length,
    after: arrivals.filter((at) => at > upstreamStartedAt).length,
  };
}
