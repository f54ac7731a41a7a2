import { createMiddleware } from "hono/factory";
import { widgetKeyOf } from "../../../shared/auth/presented-key.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { originAllowed } from "../../../shared/widget/origins.js";
import { TURNSTILE_HEADER } from "../../../shared/widget/turnstile.js";
import { SESSION_HEADER } from "../../../shared/widget/session.js";
import type { GatewayAppEnv } from "../context.js";
import { KEY_CACHE_MAX_AGE_MS, resolveKey } from "./authenticate.js";
import { REQUEST_ID_HEADER } from "./request-context.js";

/** Headers the widget may send, and the ones it may read from answers. */
const ALLOWED_REQUEST_HEADERS = ["content-type", SESSION_HEADER, TURNSTILE_HEADER].join(", ");
const EXPOSED_HEADERS = [
  REQUEST_ID_HEADER,
  "retry-after",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-edgegate-turnstile",
  SESSION_HEADER,
].join(", ");
/** Browsers cache a preflight this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * The gate of the widget endpoints: the publishable key comes in the URL (`?key=`), the
 * page's origin must be one the key allows, and only then are CORS headers given, to
 * preflights and answers alike. Everything else gets 403 without them, so a browser on
 * another site cannot use the key or read why. Key changes take effect within 4 s.
 */
export const widgetAccess = createMiddleware<GatewayAppEnv>(async (c, next) => {
  const presented = widgetKeyOf(new URL(c.req.url));
  if (!presented) {
    throw new GatewayError(
      "authentication_error",
      'Missing widget key: load the widget with <script src=".../widget.js" data-key="pk-eg-..."> or add ?key=pk-eg-... to the URL.',
    );
  }
  const caller = await resolveKey(c, presented, KEY_CACHE_MAX_AGE_MS.plain);
  if (!caller.key.widget) {
    throw new GatewayError(
      "permission_error",
      "Secret keys must never be used in a browser: rotate this key now, and use a publishable key (pk-eg-...) for the widget.",
    );
  }
  const origin = c.req.header("origin") ?? null;
  if (!originAllowed(origin, caller.key.widget.allowedOrigins)) {
    c.get("log").set({ origin: origin ?? "none" });
    throw new GatewayError(
      "permission_error",
      origin
        ? `The origin ${origin} is not allowed to use this widget key; the operator can add it to the key's widget.allowedOrigins.`
        : "Widget requests must come from a web page on an allowed origin (no Origin header was sent).",
    );
  }
  const cors = {
    "access-control-allow-origin": origin,
    vary: "Origin",
  };
  if (c.req.method === "OPTIONS") {
    return c.body(null, 204, {
      ...cors,
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": ALLOWED_REQUEST_HEADERS,
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
    });
  }
  c.set("caller", caller);
  c.set("widget", caller.key.widget);
  await next();
  for (const [name, value] of Object.entries(cors)) c.res.headers.set(name, value);
  c.res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
});
