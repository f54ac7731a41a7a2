import { loadavg } from "node:os";
import type { Stack } from "../stack/stack.js";
import { LoadClient, runInterleaved, streamingBody } from "./load.js";
import { type Summary, summarize } from "./stats.js";

export interface FrontLoadResult {
  streams: number;
  concurrency: number;
  directives: string;
  wallMs: number;
  ok: number;
  failed: number;
  /** Failed requests by what went wrong ("HTTP 503 ...", "socket hang up", ...). */
  failures: Record<string, number>;
  /** Requests sent again because their kept-alive socket had been closed before any answer (counted, not failed). */
  staleSocketRetries: number;
  ttfb: Summary;
  /** 1-minute load average when the run started and ended. */
  loadAverage: { before: number; after: number };
}

/**
 * `streams` streamed requests at `concurrency` through the front Worker of the
 * regional `stack` (front Worker -> service binding -> regional gateway -> simulator),
 * as a load test of a self-hosted stack would send them; every failure is counted.
 */
export async function measureFrontLoad(stack: Stack, options: { streams: number; concurrency: number; directives: string }): Promise<FrontLoadResult> {
  const tenant = await stack.admin.createTenant({
    id: "front-load",
    name: "Front Worker load",
    limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 },
  });
  const { key } = await stack.admin.createKey(tenant.id, { label: "bench" });
  const endpoint = { name: "edge", origin: stack.gateway.url, headers: { "x-api-key": key } };
  const client = new LoadClient();
  try {
    const loadBefore = loadavg()[0] ?? Number.NaN;
    const { exchanges, startedAt, endedAt } = await runInterleaved(client, [endpoint], streamingBody(options.directives), {
      concurrency: options.concurrency,
      perEndpoint: options.streams,
    });
    const failures: Record<string, number> = {};
    for (const exchange of exchanges) {
      if (exchange.error !== null) failures[exchange.error] = (failures[exchange.error] ?? 0) + 1;
    }
    const ok = exchanges.filter((exchange) => exchange.error === null);
    return {
      ...options,
      wallMs: endedAt - startedAt,
      ok: ok.length,
      failed: exchanges.length - ok.length,
      failures,
      staleSocketRetries: exchanges.filter((exchange) => exchange.retriedStaleSocket).length,
      ttfb: summarize(ok.map((exchange) => exchange.firstByteAt - exchange.sentAt)),
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
    };
  } finally {
    client.close();
  }
}
