import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk/core/error";
import { backoffDelayMs, type RetryPolicy, retryAfterMs } from "./backoff.js";
import type { UpstreamClient } from "./client.js";
import type { KeyPool } from "./key-pool.js";

export interface UpstreamCall {
  /** The Messages request; `model` is set per attempt from `models`. */
  body: Record<string, unknown>;
  /** The chosen model first, then the fallback chain the tenant allows. */
  models: readonly string[];
  stream: boolean;
  headers: Record<string, string>;
  /** Streams only: longest wait for the upstream's first byte before the attempt counts as failed. */
  firstTokenTimeoutMs: number;
}

export interface AttemptRecord {
  model: string;
  key: number;
  /** HTTP status, or "connect", "first-byte-timeout". */
  outcome: string;
}

export interface OpenedUpstream {
  ok: true;
  response: Response;
  /** Streams: the body reader and the first chunk already read from it. */
  reader: ReadableStreamDefaultReader<Uint8Array> | null;
  firstChunk: Uint8Array | undefined;
  model: string;
  attempts: AttemptRecord[];
  /** Aborts the upstream request (client gone, stall). */
  abort: AbortController;
  /** Returns the provider key to the pool; call once, when the response has ended. */
  release: () => void;
}

export interface FailedUpstream {
  ok: false;
  /** The last error, to be answered as the upstream's own error. */
  error: unknown;
  attempts: AttemptRecord[];
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

type Failure = { kind: "rate-limited" | "overloaded" | "retryable"; outcome: string; retryAfterMs: number | null } | { kind: "final" };

class FirstByteTimeout extends Error {}

/**
 * Opens the upstream response, retrying before the first byte only: on 429 the next
 * provider key is tried at once (the limited key rests until its retry-after), and
 * when every key rests, or on 529, 5xx, connection errors and first-byte timeouts,
 * the attempt is retried after exponential backoff with full jitter (never shorter
 * than retry-after), all within the policy's deadline. A model that stays overloaded
 * gives way to the next model of the fallback chain. Once the first byte is read the
 * response is the caller's: nothing here retries after that.
 */
export async function openUpstream(
  call: UpstreamCall,
  clientFor: (keyIndex: number) => UpstreamClient,
  pool: KeyPool,
  policy: RetryPolicy,
  clientSignal: AbortSignal,
  clock: Clock = realClock,
): Promise<OpenedUpstream | FailedUpstream> {
  const attempts: AttemptRecord[] = [];
  const deadline = clock.now() + policy.deadlineMs;
  let modelIndex = 0;
  let overloadedInARow = 0;
  let retries = 0;
  let lastError: unknown = new Error("no attempt was made");

  while (!clientSignal.aborted) {
    const model = call.models[modelIndex]!;
    const key = pool.acquire(clock.now());
    if (key === null) {
      const wait = pool.nextAvailableAt() - clock.now();
      if (clock.now() + wait > deadline) break;
      await clock.sleep(wait);
      continue;
    }
    const abort = new AbortController();
    const onClientAbort = () => abort.abort(clientSignal.reason);
    clientSignal.addEventListener("abort", onClientAbort, { once: true });
    try {
      const opened = await attempt(call, model, clientFor(key), abort);
      attempts.push({ model, key, outcome: String(opened.response.status) });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        pool.release(key);
        clientSignal.removeEventListener("abort", onClientAbort);
      };
      return { ok: true, ...opened, model, attempts, abort, release };
    } catch (error) {
      pool.release(key);
      clientSignal.removeEventListener("abort", onClientAbort);
      lastError = error;
      const failure = classify(error, clientSignal, clock.now());
      if (failure.kind === "final") break;
      attempts.push({ model, key, outcome: failure.outcome });
      if (failure.kind === "rate-limited") {
        pool.markRateLimited(key, clock.now() + (failure.retryAfterMs ?? policy.baseDelayMs));
        if (pool.acquireWouldSucceed(clock.now())) continue; // another key is free: no wait
      }
      overloadedInARow = failure.kind === "overloaded" ? overloadedInARow + 1 : 0;
      if (overloadedInARow >= policy.overloadedBeforeFallback && modelIndex + 1 < call.models.length) {
        modelIndex += 1;
        overloadedInARow = 0;
        continue; // a different model is a different capacity pool: try it at once
      }
      const delay = backoffDelayMs(retries++, policy, clock.random, failure.retryAfterMs);
      if (clock.now() + delay > deadline) break;
      await clock.sleep(delay);
    }
  }
  return { ok: false, error: lastError, attempts };
}

async function attempt(
  call: UpstreamCall,
  model: string,
  client: UpstreamClient,
  abort: AbortController,
): Promise<{ response: Response; reader: ReadableStreamDefaultReader<Uint8Array> | null; firstChunk: Uint8Array | undefined }> {
  let timedOut = false;
  const timer = call.stream
    ? setTimeout(() => {
        timedOut = true;
        abort.abort(new FirstByteTimeout());
      }, call.firstTokenTimeoutMs)
    : null;
  try {
    const response = await client.messages
      .create({ ...call.body, model } as Parameters<UpstreamClient["messages"]["create"]>[0], {
        signal: abort.signal,
        headers: call.headers,
      })
      .asResponse();
    if (!call.stream || !response.body) return { response, reader: null, firstChunk: undefined };
    const reader = response.body.getReader();
    const first = await reader.read();
    return { response, reader, firstChunk: first.value };
  } catch (error) {
    throw timedOut ? new FirstByteTimeout(`no first byte within ${call.firstTokenTimeoutMs} ms`) : error;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function classify(error: unknown, clientSignal: AbortSignal, now: number): Failure {
  if (clientSignal.aborted) return { kind: "final" };
  if (error instanceof FirstByteTimeout) return { kind: "retryable", outcome: "first-byte-timeout", retryAfterMs: null };
  if (error instanceof APIUserAbortError) return { kind: "final" };
  if (error instanceof APIConnectionError) return { kind: "retryable", outcome: "connect", retryAfterMs: null };
  if (error instanceof APIError && typeof error.status === "number") {
    const wait = retryAfterMs(error.headers, now);
    const outcome = String(error.status);
    if (error.status === 429) return { kind: "rate-limited", outcome, retryAfterMs: wait };
    if (error.status === 529) return { kind: "overloaded", outcome, retryAfterMs: wait };
    if (error.status >= 500 || error.status === 408 || error.status === 409) return { kind: "retryable", outcome, retryAfterMs: wait };
    return { kind: "final" };
  }
  // A failed read of the first chunk: the connection broke before the first byte.
  return { kind: "retryable", outcome: "connect", retryAfterMs: null };
}
