import { Redis } from "@upstash/redis/cloudflare";

export interface RedisConnection {
  url: string;
  token: string;
  /** No HTTP request to the database outlives this (its fetch is aborted), whoever waits for it. */
  requestTimeoutMs: number;
}

const clients = new Map<string, Redis>();

/**
 * One client per isolate, database and lane (a region talks to its own and the primary).
 * Auto-pipelining batches the commands issued in the same tick into one HTTP request,
 * which is how the hot path stays at one round trip. Background reads (metrics) take
 * their own lane, so they are batched among themselves but never join, and never slow,
 * a request's admission.
 * Records are stored as JSON strings; the client's automatic deserialisation may
 * hand them back parsed, which `parse` in tenants/store.ts accepts either way.
 */
export function redisClient(connection: RedisConnection, lane: "requests" | "background" = "requests"): Redis {
  const key = `${lane}\n${connection.url}\n${connection.token}\n${connection.requestTimeoutMs}`;
  let redis = clients.get(key);
  if (!redis) {
    redis = new Redis({
      url: connection.url,
      token: connection.token,
      enableAutoPipelining: true,
      // Records are JSON text, so the client's base64 response encoding only costs CPU.
      responseEncoding: false,
      enableTelemetry: false,
      retry: false,
      signal: () => AbortSignal.timeout(connection.requestTimeoutMs),
    });
    clients.set(key, redis);
  }
  return redis;
}
