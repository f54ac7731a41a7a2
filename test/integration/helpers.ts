import { request } from "node:http";
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

/** POSTs a Messages request to the gateway with a key. */
export function sendMessage(stack: Stack, key: string, body: MessageBody, signal?: AbortSignal): Promise<Response> {
  return fetch(`${stack.gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION },
    body: JSON.stringify(body),
    signal,
  });
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

/**
 * Bodies above this are sent by postExpectingContinue: workerd's HTTP server reads at
 * most 64 KiB of a request body its Worker left unread before it closes the connection.
 */
export const UNREAD_BODY_GRACE_BYTES = 64 * 1024;
/** How long postExpectingContinue waits for an early answer before sending the body (curl's default). */
const CONTINUE_WAIT_MS = 1_000;

/**
 * POSTs a large body the way curl does: `Expect: 100-continue`, and the body only once
 * no answer has come within a second. A Worker that refuses a request from its headers
 * alone (a declared size over the limit, a bad key) answers before any byte of the body
 * is sent, and the client reads that answer. Sent at once instead, the rest of the body
 * would be left unread, workerd would close the connection and the client would see a
 * reset, not the answer (on Cloudflare, the edge reads the rest and delivers the answer).
 */
export function postExpectingContinue(url: string, headers: HeadersInit, body: Uint8Array): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: "POST",
      // Its own connection: never a kept-alive one the server may be closing as it is reused.
      agent: false,
      headers: { ...Object.fromEntries(new Headers(headers)), "content-length": String(body.byteLength), expect: "100-continue" },
    });
    const sendBody = (): void => {
      clearTimeout(timer);
      if (!outgoing.writableEnded) outgoing.end(body);
    };
    const timer = setTimeout(sendBody, CONTINUE_WAIT_MS);
    outgoing.on("continue", sendBody);
    outgoing.on("response", (incoming) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          for (const each of Array.isArray(value) ? value : value === undefined ? [] : [value]) answer.append(name, each);
        }
        const text = Buffer.concat(chunks);
        resolve(new Response(text.length > 0 ? text : null, { status: incoming.statusCode ?? 0, headers: answer }));
        // An answer that came before the body was sent leaves the connection unusable: close it.
        outgoing.destroy();
      });
    });
    outgoing.on("error", reject);
    outgoing.flushHeaders();
  });
}
