import type { Context } from "hono";
import { GatewayError } from "../../../shared/http/errors.js";
import { secondsUntil } from "../../../shared/limits/rate-limits.js";
import { redisKeys } from "../../../shared/storage/keys.js";
import type { WidgetConfig } from "../../../shared/widget/config.js";
import { TURNSTILE_HEADER, TURNSTILE_SESSION_SECONDS, verifyTurnstile } from "../../../shared/widget/turnstile.js";
import type { Visitor } from "../../../shared/widget/visitor.js";
import type { GatewayAppEnv } from "../context.js";

/** Sessions this isolate saw pass, so most messages skip the storage look-up. */
const passedUntil = new Map<string, number>();
const MAX_REMEMBERED = 10_000;
const VERIFICATIONS_PER_MINUTE_PER_IP = 10;
/** A pass read from storage may be near its end; the isolate trusts it only this long. */
const REMEMBER_STORED_PASS_MS = 60_000;

/**
 * For keys with Turnstile: a visitor session passes once, with a token from the
 * challenge (checked with Cloudflare), and then stays passed for an hour. Without a
 * token and without a pass, the answer is 403 with `x-edgegate-turnstile: required`,
 * which tells the widget to run the challenge.
 */
export async function requireTurnstilePass(
  c: Context<GatewayAppEnv>,
  turnstile: NonNullable<WidgetConfig["turnstile"]>,
  visitor: Visitor,
): Promise<void> {
  const { redis } = c.get("services");
  const keyId = c.get("caller").key.id;
  const remembered = `${keyId}:${visitor.id}`;
  const now = Date.now();
  if ((passedUntil.get(remembered) ?? 0) > now) return;

  const token = c.req.header(TURNSTILE_HEADER);
  const storageKey = redisKeys.turnstilePassed(keyId, visitor.id);
  let passedForMs = REMEMBER_STORED_PASS_MS;
  if (token) {
    await limitVerifications(c, `turnstile:${keyId}:${visitor.ipId}`);
    await verifyTurnstile(c.get("config").turnstileVerifyUrl, {
      secret: turnstile.secretKey,
      token,
      ip: c.req.header("cf-connecting-ip") ?? null,
    }).catch((error: unknown) => {
      throw error instanceof GatewayError && error.status === 403 ? challenge(error.message) : error;
    });
    await redis.set(storageKey, 1, { ex: TURNSTILE_SESSION_SECONDS });
    passedForMs = TURNSTILE_SESSION_SECONDS * 1000;
  } else if ((await redis.exists(storageKey)) === 0) {
    throw challenge(`This chat asks every visitor to pass a quick bot check first: send the Turnstile token in ${TURNSTILE_HEADER}.`);
  }
  if (passedUntil.size >= MAX_REMEMBERED) passedUntil.delete(passedUntil.keys().next().value!);
  passedUntil.set(remembered, now + passedForMs);
}

/** Every token costs a call to Cloudflare, so junk tokens are limited per IP before that call. */
async function limitVerifications(c: Context<GatewayAppEnv>, identifier: string): Promise<void> {
  const [outcome] = await c
    .get("services")
    .rateLimits.check([{ dimension: "requests", identifier, limit: VERIFICATIONS_PER_MINUTE_PER_IP, rate: 1 }]);
  if (outcome && !outcome.success) {
    const retryAfter = secondsUntil(outcome.reset, Date.now());
    throw new GatewayError("rate_limit_error", `Too many bot checks from this network; retry in ${retryAfter} s.`, {
      headers: { "retry-after": String(retryAfter) },
    });
  }
}

function challenge(message: string): GatewayError {
  return new GatewayError("permission_error", message, { headers: { "x-edgegate-turnstile": "required" } });
}
