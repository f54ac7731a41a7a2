import type { BreakerStore } from "../../shared/geo/breaker-store.js";
import { canAttempt, recordFailure, recordSuccess } from "../../shared/geo/circuit-breaker.js";
import { isRegionFailure } from "../../shared/geo/health.js";
import type { RankedRegion } from "../../shared/geo/ranking.js";
import { breakerConfig, type EdgeEnv, regionBinding } from "./env.js";

export interface Attempt {
  regionId: string;
  /** The region's HTTP status; "open" when its breaker skipped it; "unreachable" on a connect error. */
  outcome: number | "open" | "unreachable";
}

export interface FailoverResult {
  response: Response | null;
  served: RankedRegion | null;
  attempts: Attempt[];
}

/**
 * Sends the request to each candidate region in order until one answers without a
 * region failure. The body is replayed from memory, so every attempt is identical;
 * once a region has answered (its response headers mean its first byte is ready),
 * that answer is final: nothing is retried after bytes may have reached the client.
 * When every candidate's breaker is open, the nearest is tried anyway: an upstream-wide
 * outage opens all breakers at once, and a request that may succeed beats a sure 503.
 */
export async function forwardWithFailover(
  request: Request,
  body: ArrayBuffer | null,
  candidates: readonly RankedRegion[],
  env: EdgeEnv,
  breakers: BreakerStore,
): Promise<FailoverResult> {
  const attempts: Attempt[] = [];
  const config = breakerConfig(env);
  const bound = candidates.filter((candidate) => env[regionBinding(candidate.region)]);
  const tryRegion = async (candidate: RankedRegion): Promise<Response | null> => {
    const regionId = candidate.region.id;
    let response: Response | null = null;
    try {
      const service = env[regionBinding(candidate.region)]!;
      response = await service.fetch(new Request(request.url, { method: request.method, headers: request.headers, body }));
    } catch {
      response = null;
    }
    const failed = isRegionFailure(response?.status ?? null);
    await breakers.update(regionId, (state) => ({
      state: failed ? recordFailure(state, Date.now(), config) : recordSuccess(state, Date.now(), config),
    }));
    attempts.push({ regionId, outcome: response?.status ?? "unreachable" });
    if (failed) {
      await response?.body?.cancel();
      return null;
    }
    return response;
  };

  for (const candidate of bound) {
    const decision = await breakers.update(candidate.region.id, (state) => canAttempt(state, Date.now(), config));
    if (!decision.allowed) {
      attempts.push({ regionId: candidate.region.id, outcome: "open" });
      continue;
    }
    const response = await tryRegion(candidate);
    if (response) return { response, served: candidate, attempts };
  }
  const nearest = bound[0];
  if (nearest && attempts.every((attempt) => attempt.outcome === "open")) {
    const response = await tryRegion(nearest);
    if (response) return { response, served: nearest, attempts };
  }
  return { response: null, served: null, attempts };
}
