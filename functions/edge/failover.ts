import type { BreakerStore } from "../../shared/geo/breaker-store.js";
import { canAttempt, recordFailure, recordSuccess } from "../../shared/geo/circuit-breaker.js";
import { isRegionFailure } from "../../shared/geo/health.js";
import type { RankedRegion } from "../../shared/geo/ranking.js";
import { PINNED_REGIONS_HEADER, UPSTREAM_CALLS_HEADER } from "../../shared/http/region-answers.js";
import { breakerConfig, type EdgeEnv, regionBinding } from "./env.js";

export interface Attempt {
  regionId: string;
  /** The region's HTTP status; "open" when its breaker skipped it; "unreachable" when its fetch failed. */
  outcome: number | "open" | "unreachable";
}

export interface FailoverResult {
  /** The answer to give; null when no region could be tried or reached. */
  response: Response | null;
  served: RankedRegion | null;
  attempts: Attempt[];
  /** Set when a region said the tenant is pinned elsewhere: the pin the request was then routed by. */
  pinLearned: string[] | null;
}

/**
 * Sends the request to each candidate region in order. A region's answer is final unless
 * the region says that no upstream call it made could have been charged
 * (`x-edgegate-upstream-calls: 0`) and it failed as a region (5xx, 529): only then is the
 * body replayed to the next region, so an answer is never produced, or billed, twice. A
 * region that says the tenant is pinned elsewhere (its pin is newer than this isolate's)
 * makes the request go to the pinned regions instead, once. When every candidate's
 * breaker is open, the nearest is tried anyway: an upstream-wide outage opens all
 * breakers at once, and a request that may succeed beats a sure 503.
 */
export async function forwardWithFailover(
  request: Request,
  body: Uint8Array | null,
  rank: (pin: readonly string[] | null) => readonly RankedRegion[],
  pin: readonly string[] | null,
  env: EdgeEnv,
  breakers: BreakerStore,
): Promise<FailoverResult> {
  const attempts: Attempt[] = [];
  const config = breakerConfig(env);
  let pinLearned: string[] | null = null;
  let candidates = bound(rank(pin), env);

  const tryRegion = async (candidate: RankedRegion): Promise<{ response: Response | null; next: "serve" | "replay" | "reroute" }> => {
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
    const replaySafe = response?.headers.get(UPSTREAM_CALLS_HEADER) === "0";
    const pinnedTo = response?.status === 403 ? response.headers.get(PINNED_REGIONS_HEADER) : null;
    if (pinnedTo && replaySafe && pinLearned === null) {
      pinLearned = pinnedTo.split(",");
      await response!.body?.cancel();
      return { response: null, next: "reroute" };
    }
    if (failed && replaySafe) {
      await response!.body?.cancel();
      return { response: null, next: "replay" };
    }
    return { response, next: "serve" };
  };

  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index]!;
    const decision = await breakers.update(candidate.region.id, (state) => canAttempt(state, Date.now(), config));
    if (!decision.allowed) {
      attempts.push({ regionId: candidate.region.id, outcome: "open" });
      continue;
    }
    const { response, next } = await tryRegion(candidate);
    if (next === "serve") return { response, served: response ? candidate : null, attempts, pinLearned };
    if (next === "reroute") {
      const tried = new Set(attempts.map((attempt) => attempt.regionId));
      candidates = bound(rank(pinLearned), env).filter((ranked) => !tried.has(ranked.region.id));
      index = -1;
    }
  }
  const nearest = candidates[0];
  if (nearest && attempts.length > 0 && attempts.every((attempt) => attempt.outcome === "open")) {
    const { response, next } = await tryRegion(nearest);
    if (next === "serve") return { response, served: response ? nearest : null, attempts, pinLearned };
  }
  return { response: null, served: null, attempts, pinLearned };
}

function bound(ranked: readonly RankedRegion[], env: EdgeEnv): RankedRegion[] {
  return ranked.filter((candidate) => env[regionBinding(candidate.region)]);
}
