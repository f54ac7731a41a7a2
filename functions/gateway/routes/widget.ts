import { type Context, Hono } from "hono";
import { clientNetwork, networkId, sessionNetwork } from "../../../shared/auth/network.js";
import { readJsonBody } from "../../../shared/http/body.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { takeFromBuckets } from "../../../shared/ledger/limits.js";
import { widgetChatSchema, widgetMessagesRequest } from "../../../shared/widget/chat-request.js";
import { publicWidgetConfig } from "../../../shared/widget/config.js";
import { SESSION_HEADER, issueSession, verifySession } from "../../../shared/widget/session.js";
import { AnswerRecorder, signConversation, turnEvent, verifyConversation } from "../../../shared/widget/transcript.js";
import { TURNSTILE_HEADER, verifyTurnstile } from "../../../shared/widget/turnstile.js";
import type { GatewayAppEnv } from "../context.js";
import { anthropicShape } from "../pipeline/response-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";
import { rateAnswer } from "./feedback.js";
import { serveContext } from "./serve-context.js";
import widgetScript from "../widget/widget.browser.js";

/** Ratings a visitor may give per minute. */
const VISITOR_RATINGS_PER_MINUTE = 20;
/** A widget conversation is small: its messages, each at most a few thousand characters. */
const WIDGET_BODY_LIMIT = 512 * 1024;

/**
 * The embeddable widget and its endpoints (behind widgetAccess: key in the URL, allowed
 * origin). A visitor first gets a session (signed by the gateway, bound to their network,
 * after the bot check when the key has one), then chats with it; every answer comes back
 * signed, so the conversation the browser sends later can hold only answers the gateway gave.
 */
export const widget = new Hono<GatewayAppEnv>()
  .get("/widget.js", (c) =>
    c.body(widgetScript, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=300",
      "access-control-allow-origin": "*",
    }),
  )
  .get("/v1/widget/config", (c) => c.json(publicWidgetConfig(c.get("widget"))))
  .post("/v1/widget/session", async (c) => {
    const secret = gatewaySecret(c);
    const config = c.get("widget");
    const { key } = c.get("caller");
    const network = await networkId(clientNetwork(c.req.raw.headers), secret);
    // Counted before any call to Cloudflare, so junk bot-check tokens cost the sender.
    await takeFromBuckets(
      c.get("services").redis,
      [{ scope: "ip", id: `${key.id}:${network}`, dimension: "sessions", capacity: config.visitorLimits.ipSessionsPerMinute, cost: 1 }],
      "visitor",
    );
    if (config.turnstile) {
      const token = c.req.header(TURNSTILE_HEADER);
      if (!token) throw challenge(`This chat asks every visitor to pass a quick bot check first: send the Turnstile token in ${TURNSTILE_HEADER}.`);
      await verifyTurnstile(c.get("config").turnstileVerifyUrl, { secret: config.turnstile.secretKey, token, ip: c.req.header("cf-connecting-ip") ?? null }).catch(
        (error: unknown) => {
          throw error instanceof GatewayError && error.status === 403 ? challenge(error.message) : error;
        },
      );
    }
    const boundTo = await networkId(sessionNetwork(c.req.raw.headers), secret);
    const issued = await issueSession(secret, { keyId: key.id, networkId: boundTo, verified: config.turnstile !== null }, Date.now());
    return c.json({ session: issued.token, expires_at: new Date(issued.session.expiresAt * 1000).toISOString() }, 201);
  })
  .post("/v1/widget/chat", async (c) => {
    const secret = gatewaySecret(c);
    const config = c.get("widget");
    const { key, tenant } = c.get("caller");
    const { session, network } = await visitorSession(c, secret);
    const limits = c.get("config").body;
    const chat = await readJsonBody(c.req.raw, widgetChatSchema, { ...limits, maxBytes: Math.min(WIDGET_BODY_LIMIT, limits.maxBytes) });
    const request = widgetMessagesRequest(chat, config, tenant.limits.maxTokensPerRequest);
    await verifyConversation(secret, key.id, chat.messages, chat.signature);
    const recorder = new AnswerRecorder();
    return serveMessages(serveContext(c), request, anthropicShape, {
      widget: {
        visitor: { id: session.sessionId, networkId: network },
        maxTier: config.maxTier,
        observe: (event) => recorder.observe(event),
        trailer: async () =>
          recorder.answer
            ? turnEvent(await signConversation(secret, key.id, [...chat.messages, { role: "assistant", content: recorder.answer }]))
            : null,
      },
    });
  })
  .post("/v1/widget/feedback", async (c) => {
    // Thumbs up or down from a visitor, on an answer of their own session; rate limited per visitor.
    const secret = gatewaySecret(c);
    const { key, tenant } = c.get("caller");
    const { session } = await visitorSession(c, secret);
    const visitorId = `${key.id}:${session.sessionId}`;
    await takeFromBuckets(c.get("services").redis, [{ scope: "visitor", id: visitorId, dimension: "ratings", capacity: VISITOR_RATINGS_PER_MINUTE, cost: 1 }], "visitor");
    const recorded = await rateAnswer(c, tenant.id, session.sessionId);
    return c.json({ request_id: recorded.request_id, rating: recorded.rating });
  });

/** The visitor's session (signed by the gateway, bound to their network) and their network's keyed hash. */
async function visitorSession(c: Context<GatewayAppEnv>, secret: string) {
  const { key } = c.get("caller");
  const [network, boundTo] = await Promise.all([
    networkId(clientNetwork(c.req.raw.headers), secret),
    networkId(sessionNetwork(c.req.raw.headers), secret),
  ]);
  const session = await verifySession(secret, c.req.header(SESSION_HEADER) ?? null, { keyId: key.id, networkId: boundTo }, Date.now());
  if (c.get("widget").turnstile && !session.verified) throw challenge("This chat now asks every visitor to pass a quick bot check: start a new session.");
  return { session, network };
}

function gatewaySecret(c: Context<GatewayAppEnv>): string {
  const secret = c.get("config").gatewaySecret;
  if (!secret) {
    throw new GatewayError("api_error", "The chat widget is not configured on this gateway: the operator must set the GATEWAY_SECRET secret.", {
      status: 503,
    });
  }
  return secret;
}

function challenge(message: string): GatewayError {
  return new GatewayError("permission_error", message, { headers: { "x-edgegate-turnstile": "required" } });
}
