import { backoffDelayMs, type RetryPolicy, retryAfterMs } from "./backoff.js";
import type { Endpoint, EndpointPool, RestReason } from "./endpoint-pool.js";
import type { UpstreamStream } from "./relay.js";

export interface UpstreamCall {
  /** The Messages request without `model`; the model is set per attempt from `models`. */
  body: Record<string, unknown>;
  /** The chosen model first, then the fallback chain the tenant allows. */
  models: readonly string[];
  anthropicVersion: string;
  betas: readonly string[];
  /** Longest wait for the first byte of an attempt before it counts as failed (and is retried). */
  firstByteTimeoutMs: number;
}

export interface AttemptRecord {
  model: string;
  /** Index of the endpoint in the region's chain, and the provider's id. */
  target: number;
  provider: string;
  /** HTTP status, or "connect", "first-byte-timeout". */
  outcome: string;
}

export interface OpenedUpstream {
  ok: true;
  response: Response;
  /** The answer (always streamed upstream), past its first chunk. */
  stream: UpstreamStream;
  model: string;
  endpoint: Endpoint;
  attempts: AttemptRecord[];
  /** Aborts the upstream request (client gone, stall, deadline). */
  abort: AbortController;
  /** Returns the endpoint to the pool and stops listening to the client; call once, when the answer has ended. */
  release: () => void;
}

export type UpstreamFailure =
  | { kind: "response"; status: number; headers: Headers; body: string }
  | { kind: "first-byte-timeout"; timeoutMs: number }
  | { kind: "timeout" }
  | { kind: "network" }
  | { kind: "client-gone" }
  /** No endpoint of the region serves the model within the tenant's residency. */
  | { kind: "no-endpoint"; model: string }
  /** Every endpoint that could serve rests (after 429s or failures) beyond the retry deadline; none was tried. */
  | { kind: "resting"; reason: RestReason; retryAfterMs: number };

export interface FailedUpstream {
  ok: false;
  /** Why the last attempt failed, to be answered to the client. */
  failure: UpstreamFailure;
  attempts: AttemptRecord[];
  /**
   * No attempt could have been charged: each was answered with an error status before any
   * work (or none was made), so the request may be replayed elsewhere.
   */
  replaySafe: boolean;
}

/** How an upstream call ended up: opened (the answer is the caller's), or failed. */
export type UpstreamResult = OpenedUpstream | FailedUpstream;

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

type Retry = { kind: "rate-limited" | "overloaded" | "retryable"; retryAfterMs: number | null };

class AttemptTimeout extends Error {
  constructor() {
    super("no first byte in time");
  }
}

type AttemptResult =
  | { opened: { response: Response; stream: UpstreamStream } }
  | { failure: UpstreamFailure; retry: Retry | null; chargeable: boolean };

/**
 * Opens the upstream answer, retrying before the first byte only. Each attempt goes to
 * the first endpoint of the region's chain that serves the model within the tenant's
 * residency (`allowed`) and is not resting. An endpoint that failed rests: for its
 * retry-after (at least the base delay) on 429, for an exponential backoff with full
 * jitter (never shorter than retry-after) on 529, 5xx, connection errors and first-byte
 * timeouts, so the next
 * attempt goes down the chain at once, and waits only when every endpoint rests, all
 * within the policy's deadline. A model that stays overloaded gives way to the next
 * model of the fallback chain. Once the first byte is in, the answer is the caller's:
 * nothing here retries after that.
 */
export async function openUpstream(
  call: UpstreamCall,
  pool: EndpointPool,
  allowed: (endpoint: Endpoint) => boolean,
  policy: RetryPolicy,
  clientSignal: AbortSignal,
  clock: Clock = realClock,
): Promise<UpstreamResult> {
  const attempts: AttemptRecord[] = [];
  const deadline = clock.now() + policy.deadlineMs;
  let modelIndex = 0;
  let overloadedInARow = 0;
  let retries = 0;
  let chargeable = false;
  let last: UpstreamFailure = { kind: "network" };

  while (!clientSignal.aborted) {
    const model = call.models[modelIndex]!;
    const eligible = (index: number): boolean => {
      const endpoint = pool.endpoints[index]!;
      return allowed(endpoint) && endpoint.provider.modelId(model) !== null;
    };
    if (!pool.endpoints.some((_, index) => eligible(index))) {
      if (modelIndex + 1 < call.models.length) {
        modelIndex += 1;
        continue;
      }
      if (attempts.length === 0) last = { kind: "no-endpoint", model: call.models[0]! };
      break;
    }
    const target = pool.acquire(clock.now(), eligible);
    if (target === null) {
      const wait = pool.nextAvailableAt(eligible) - clock.now();
      if (clock.now() + wait > deadline) {
        if (attempts.length === 0) last = { kind: "resting", reason: pool.restReasonOf(eligible), retryAfterMs: wait };
        break;
      }
      await clock.sleep(wait);
      continue;
    }
    const endpoint = pool.endpoints[target]!;
    const abort = new AbortController();
    const onClientAbort = () => abort.abort(clientSignal.reason);
    clientSignal.addEventListener("abort", onClientAbort, { once: true });
    const result = await attempt(call, model, endpoint, abort, clientSignal);
    const record = (outcome: string): AttemptRecord => ({ model, target, provider: endpoint.provider.id, outcome });
    if ("opened" in result) {
      attempts.push(record(String(result.opened.response.status)));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        pool.release(target);
        clientSignal.removeEventListener("abort", onClientAbort);
      };
      return { ok: true, ...result.opened, model, endpoint, attempts, abort, release };
    }
    pool.release(target);
    clientSignal.removeEventListener("abort", onClientAbort);
    last = result.failure;
    chargeable ||= result.chargeable;
    if (result.failure.kind === "client-gone") break;
    attempts.push(record(outcomeOf(result.failure)));
    const retry = result.retry;
    if (!retry) break;
    if (retry.kind === "rate-limited") {
      // For retry-after, and at least the base delay: with retry-after 0 the endpoint would be
      // free again at once and called in a tight loop that never reaches the deadline check.
      pool.rest(target, clock.now() + Math.max(retry.retryAfterMs ?? 0, policy.baseDelayMs), "rate-limited");
      continue; // another endpoint may be free at once; otherwise the loop waits for one
    }
    overloadedInARow = retry.kind === "overloaded" ? overloadedInARow + 1 : 0;
    if (overloadedInARow >= policy.overloadedBeforeFallback && modelIndex + 1 < call.models.length) {
      modelIndex += 1;
      overloadedInARow = 0;
      pool.endRests("failing"); // a different model is a different capacity pool: try it at once
      continue;
    }
    const delay = backoffDelayMs(retries++, policy, clock.random, retry.retryAfterMs);
    if (clock.now() + delay > deadline && !pool.endpoints.some((_, index) => index !== target && eligible(index))) break;
    pool.rest(target, clock.now() + delay, "failing");
  }
  if (clientSignal.aborted) last = { kind: "client-gone" };
  return { ok: false, failure: last, attempts, replaySafe: !chargeable };
}

async function attempt(
  call: UpstreamCall,
  model: string,
  endpoint: Endpoint,
  abort: AbortController,
  clientSignal: AbortSignal,
): Promise<AttemptResult> {
  const waitMs = call.firstByteTimeoutMs;
  const timer = setTimeout(() => abort.abort(new AttemptTimeout()), waitMs);
  try {
    const response = await endpoint.provider.send({
      model,
      body: call.body,
      stream: true,
      anthropicVersion: call.anthropicVersion,
      betas: call.betas,
      signal: abort.signal,
    });
    if (!response.ok) {
      const body = await response.text();
      const failure: UpstreamFailure = { kind: "response", status: response.status, headers: response.headers, body };
      return { failure, retry: retryOf(response), chargeable: false };
    }
    // A success with no answer in it: nothing has reached the client, so another attempt may serve.
    if (!response.body) return { failure: { kind: "network" }, retry: { kind: "retryable", retryAfterMs: null }, chargeable: true };
    const reader = response.body.getReader();
    const first = await reader.read();
    return { opened: { response, stream: { reader, firstChunk: first.value } } };
  } catch {
    if (clientSignal.aborted) return { failure: { kind: "client-gone" }, retry: null, chargeable: true };
    const reason = abort.signal.reason;
    if (reason instanceof AttemptTimeout) {
      // The upstream may have started work: the attempt could be charged.
      return { failure: { kind: "first-byte-timeout", timeoutMs: waitMs }, retry: { kind: "retryable", retryAfterMs: null }, chargeable: true };
    }
    // The connection failed, before or after the request was sent: it may have been processed.
    return { failure: { kind: "network" }, retry: { kind: "retryable", retryAfterMs: null }, chargeable: true };
  } finally {
    clearTimeout(timer);
  }
}

function retryOf(response: Response): Retry | null {
  const wait = retryAfterMs(response.headers, Date.now());
  const { status } = response;
  if (status === 429) return { kind: "rate-limited", retryAfterMs: wait };
  if (status === 529) return { kind: "overloaded", retryAfterMs: wait };
  if (status >= 500 || status === 408 || status === 409) return { kind: "retryable", retryAfterMs: wait };
  return null;
}

function outcomeOf(failure: UpstreamFailure): string {
  switch (failure.kind) {
    case "response":
      return String(failure.status);
    case "first-byte-timeout":
      return "first-byte-timeout";
    default:
      return "connect";
  }
}
