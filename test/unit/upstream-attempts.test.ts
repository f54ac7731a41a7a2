import { describe, expect, it } from "vitest";
import type { Provider } from "../../shared/providers/types.js";
import { type Clock, openUpstream } from "../../shared/upstream/attempts.js";
import { EndpointPool } from "../../shared/upstream/endpoint-pool.js";
import { upstreamFailureResponse } from "../../shared/upstream/errors.js";

/** A provider that answers every call with `status` (and counts the calls). */
function provider(status: number, headers: Record<string, string> = {}): Provider & { calls: number } {
  return {
    kind: "anthropic",
    id: "anthropic",
    calls: 0,
    modelId: (model) => model,
    async send() {
      this.calls++;
      return new Response(JSON.stringify({ type: "error", error: { type: status === 429 ? "rate_limit_error" : "overloaded_error", message: "busy" } }), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
    },
    countTokens: async () => new Response("{}"),
  };
}

/** A clock that only moves when the code under test sleeps. */
function fakeClock(): Clock {
  let now = 1_000_000;
  return { now: () => now, sleep: async (ms) => void (now += ms), random: () => 0.5 };
}

const CALL = { body: { max_tokens: 10, messages: [] }, models: ["claude-sonnet-4-6"], anthropicVersion: "2023-06-01", betas: [], firstByteTimeoutMs: 1_000 };
const POLICY = { deadlineMs: 1_500, baseDelayMs: 25, maxDelayMs: 4_000, overloadedBeforeFallback: 2 };

describe("upstream attempts when every endpoint rests", () => {
  it("answer at once with the reason and when to retry, instead of failing as unreachable", async () => {
    for (const [status, expected, type] of [
      [529, 529, "overloaded_error"],
      [429, 429, "rate_limit_error"],
    ] as const) {
      const upstream = provider(status, { "retry-after": "30" });
      // Two endpoints (a regional one, then the Anthropic API): the first rests while the second is tried, then both rest.
      const pool = new EndpointPool([
        { provider: upstream, rank: 0, geography: "us", priceBasisPoints: 11_000 },
        { provider: upstream, rank: 1, geography: "us", priceBasisPoints: 10_000 },
      ]);
      const clock = fakeClock();
      const first = await openUpstream(CALL, pool, () => true, POLICY, new AbortController().signal, clock);
      expect(first.ok).toBe(false);
      const calls = upstream.calls;
      // Both endpoints now rest for 30 s, beyond the next request's 1.5 s retry deadline.
      const next = await openUpstream(CALL, pool, () => true, POLICY, new AbortController().signal, clock);
      expect(upstream.calls).toBe(calls);
      if (next.ok) throw new Error("expected a failure");
      expect(next.failure.kind).toBe("resting");
      expect(next.replaySafe).toBe(true);
      const response = upstreamFailureResponse(next.failure, "egr_test");
      expect(response.status).toBe(expected);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(type);
    }
  });
});

describe("upstream attempts against a rate limit that asks for no wait", () => {
  it("wait at least the base delay between calls, up to the deadline, instead of calling again at once (retry-after: 0)", async () => {
    const upstream = provider(429, { "retry-after": "0" });
    const client = new AbortController();
    // Without a backoff the fake clock never moves: the client gives up after 100 calls instead of the test hanging.
    const guarded: Provider = {
      ...upstream,
      send: (request) => {
        if (upstream.calls >= 100) client.abort();
        return upstream.send(request);
      },
    };
    const pool = new EndpointPool([{ provider: guarded, rank: 0, geography: "us", priceBasisPoints: 10_000 }]);
    const clock = fakeClock();
    const startedAt = clock.now();
    const result = await openUpstream(CALL, pool, () => true, POLICY, client.signal, clock);
    if (result.ok) throw new Error("expected a failure");
    expect(client.signal.aborted).toBe(false);
    // One call per base delay (25 ms) until the 1.5 s deadline.
    expect(upstream.calls).toBeGreaterThan(2);
    expect(upstream.calls).toBeLessThanOrEqual(POLICY.deadlineMs / POLICY.baseDelayMs + 1);
    expect(clock.now() - startedAt).toBeLessThanOrEqual(POLICY.deadlineMs);
    expect(result.failure).toMatchObject({ kind: "response", status: 429 });
  });
});

describe("upstream attempts answered 200 with no body", () => {
  it("count it as a failed attempt and try the next endpoint, since nothing reached the client", async () => {
    const bodiless: Provider & { calls: number } = {
      ...provider(200),
      async send() {
        this.calls++;
        return new Response(null, { status: 200 });
      },
    };
    const streaming: Provider = { ...provider(200), send: async () => new Response("event: ping\ndata: {}\n\n", { status: 200 }) };
    const pool = new EndpointPool([
      { provider: bodiless, rank: 0, geography: "us", priceBasisPoints: 10_000 },
      { provider: streaming, rank: 1, geography: "us", priceBasisPoints: 10_000 },
    ]);
    const result = await openUpstream(CALL, pool, () => true, POLICY, new AbortController().signal, fakeClock());
    if (!result.ok) throw new Error(`expected the second endpoint to serve, got ${result.failure.kind}`);
    expect(bodiless.calls).toBe(1);
    expect(result.attempts.map((attempt) => `${attempt.target}=${attempt.outcome}`)).toEqual(["0=connect", "1=200"]);
    expect(new TextDecoder().decode(result.stream.firstChunk)).toContain("event: ping");
    result.release();
  });
});
