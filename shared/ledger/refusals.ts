import { GatewayError } from "../http/errors.js";
import { formatUsd } from "../pricing/cost.js";
import { periodResets } from "../storage/keys.js";
import { type Bucket, type Scope, retryAfterSeconds } from "./buckets.js";

/** Refusals that waiting a little cannot fix: the SDKs must not retry them on their own. */
const DO_NOT_RETRY = { "x-should-retry": "false" } as const;

/** Where a refusal is going: an API client sees the figures, a widget visitor only that the chat rests. */
export type Audience = "client" | "visitor";

const SCOPE_NAMES: Record<Scope, string> = {
  tenant: "your account",
  key: "this key",
  visitor: "this visitor",
  ip: "this network",
  auth: "failed authentications from this network",
  admin: "failed admin logins from this network",
};

/**
 * A budget that would be exceeded: 402 billing_error (the Messages API's type for a
 * spending problem; OpenAI-shaped routes answer 429 insufficient_quota), never retried
 * by the SDKs: it resets at the end of the day or month, not in seconds.
 */
export function budgetRefusal(
  period: "daily" | "monthly",
  amounts: { used: number; budget: number; request: number },
  now: Date,
  audience: Audience,
): GatewayError {
  const resetsAt = periodResets(now)[period === "daily" ? "day" : "month"];
  const all = { ...DO_NOT_RETRY, "x-edgegate-budget-resets-at": resetsAt.toISOString() };
  if (audience === "visitor") {
    return new GatewayError("billing_error", `This chat has reached its usage limit for now; it is available again by ${resetsAt.toISOString()}.`, {
      headers: all,
    });
  }
  return new GatewayError(
    "billing_error",
    `The ${period} budget of $${formatUsd(amounts.budget)} would be exceeded: $${formatUsd(amounts.used)} is spent or reserved ` +
      `and this request could cost up to $${formatUsd(amounts.request)}. It resets at ${resetsAt.toISOString()}; ` +
      "lower max_tokens, or ask your operator to raise the budget.",
    { headers: all },
  );
}

/**
 * A per-minute limit without room: 429 with the wait the bucket needs (or, if it can
 * never fit, no retry), and the full limit in the x-ratelimit-* headers (when the
 * audience may see it).
 */
export function rateLimitRefusal(bucket: Bucket, waitMs: number, fits: boolean, audience: Audience): GatewayError {
  const scope = SCOPE_NAMES[bucket.scope];
  const visible = audience === "client" || bucket.scope === "visitor" || bucket.scope === "ip";
  const headers: Record<string, string> =
    visible && (bucket.dimension === "requests" || bucket.dimension === "tokens")
      ? {
          [`x-ratelimit-limit-${bucket.dimension}`]: String(bucket.capacity),
          [`x-ratelimit-remaining-${bucket.dimension}`]: "0",
          [`x-ratelimit-reset-${bucket.dimension}`]: String(retryAfterSeconds(waitMs)),
        }
      : {};
  if (!fits) {
    return new GatewayError(
      "rate_limit_error",
      audience === "visitor"
        ? "This message is too long for this chat; shorten it or start a new conversation."
        : `This request needs about ${bucket.cost} tokens, more than ${scope}'s limit of ${bucket.capacity} tokens per minute; lower max_tokens or shorten the input.`,
      { headers: { ...headers, ...DO_NOT_RETRY } },
    );
  }
  const retryAfter = retryAfterSeconds(waitMs);
  const message = !visible
    ? `This chat is busy right now; retry in ${retryAfter} s.`
    : `Rate limit of ${bucket.capacity} ${bucket.dimension} per minute for ${scope} reached; retry in ${retryAfter} s.`;
  return new GatewayError("rate_limit_error", message, { headers: { ...headers, "retry-after": String(retryAfter) } });
}
