import { Hono } from "hono";
import { CacheApiBreakerStore } from "../../shared/geo/breaker-store.js";
import { breakerStatus } from "../../shared/geo/circuit-breaker.js";
import { clientLocation, type RankedRegion, rankRegions } from "../../shared/geo/ranking.js";
import { DEFAULT_REGION_ID, REGIONS } from "../../shared/geo/regions.js";
import { readBody } from "../../shared/http/body.js";
import { errorBody, GatewayError, errorResponse } from "../../shared/http/errors.js";
import { openAIErrorResponse, speaksOpenAI } from "../../shared/openai/errors.js";
import { newRequestId } from "../../shared/http/request-id.js";
import { breakerConfig, type EdgeEnv } from "./env.js";
import { type Attempt, forwardWithFailover } from "./failover.js";
import { regionPinOf, rememberPin } from "./region-pins.js";

const breakers = new CacheApiBreakerStore();
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
const RETRY_AFTER_SECONDS = "10";

const app = new Hono<{ Bindings: EdgeEnv }>();

app.get("/healthz", async (c) => {
  const now = Date.now();
  const config = breakerConfig(c.env);
  const regions = Object.fromEntries(
    await Promise.all(
      REGIONS.map(async (region) => [region.id, breakerStatus(await breakers.get(region.id), now, config)] as const),
    ),
  );
  return c.json({ status: "ok", role: "edge", regions });
});

/** Everything else goes to the nearest healthy region the tenant may use. */
app.all("*", async (c) => {
  const request = c.req.raw;
  // Read within the size and time limits before anything else (even the key), as the regions do.
  const body =
    request.method === "GET" || request.method === "HEAD"
      ? null
      : await readBody(request, {
          maxBytes: Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES,
          timeoutMs: Number(c.env.BODY_TIMEOUT_MS) || DEFAULT_BODY_TIMEOUT_MS,
        });
  const pin = await regionPinOf(request, c.env, (work) => c.executionCtx.waitUntil(work));
  const location = clientLocation(request);
  const rank = (regionPin: readonly string[] | null) =>
    rankRegions(location, REGIONS, { pin: regionPin, defaultRegionId: c.env.DEFAULT_REGION || DEFAULT_REGION_ID });
  const result = await forwardWithFailover(request, body, rank, pin, c.env, breakers);
  if (result.pinLearned) await rememberPin(request, result.pinLearned);
  const routedPin = result.pinLearned ?? pin;
  const tried = describeAttempts(result.attempts);
  if (!result.response || !result.served) throw noRegion(routedPin, tried, result.attempts.at(-1)?.outcome === "unreachable");

  const response = new Response(result.response.body, result.response);
  response.headers.set("x-edgegate-region", result.served.region.id);
  response.headers.set("x-edgegate-regions-tried", tried);
  response.headers.set("x-edgegate-route", routeReason(result.served, routedPin, result.attempts.length > 1));
  return response;
});

app.onError((error, c) => {
  const known = error instanceof GatewayError ? error : new GatewayError("api_error", "Internal edge error; retry shortly.");
  const requestId = c.req.header("x-request-id") ?? newRequestId();
  if (speaksOpenAI(c.req.path, c.req.raw.headers)) return openAIErrorResponse(known.status, errorBody(known.type, known.message, requestId), known.headers);
  return errorResponse(known, requestId);
});

function describeAttempts(attempts: Attempt[]): string {
  return attempts.map((attempt) => `${attempt.regionId}=${attempt.outcome}`).join(" ");
}

function routeReason(served: RankedRegion, pin: readonly string[] | null, failedOver: boolean): string {
  const basis =
    served.basis === "distance"
      ? `nearest by distance (${Math.round(served.distanceKm ?? 0)} km)`
      : served.basis === "continent"
        ? "nearest by continent"
        : "default region";
  const pinned = pin ? `; pinned to ${pin.join(",")}` : "";
  return `${basis}${pinned}${failedOver ? "; failed over" : ""}`;
}

function noRegion(pin: readonly string[] | null, tried: string, lostMidRequest: boolean): GatewayError {
  const attempts = tried ? ` (tried: ${tried})` : "";
  if (lostMidRequest) {
    // The region may have served (and billed) the request before failing: it is not replayed elsewhere.
    return new GatewayError("api_error", `The region failed while handling the request${attempts}; it was not sent elsewhere in case it had been served.`, {
      status: 502,
    });
  }
  const message = pin
    ? `Your account is pinned to ${pin.join(", ")} and no region there is available${attempts}. ` +
      "edgegate never serves a pinned account from another region; retry shortly."
    : `No region is available right now${attempts}; retry shortly.`;
  return new GatewayError("api_error", message, { status: 503, headers: { "retry-after": RETRY_AFTER_SECONDS } });
}

export default app;
