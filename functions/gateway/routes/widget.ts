import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { publicWidgetConfig } from "../../../shared/widget/config.js";
import { widgetChatSchema, widgetMessagesRequest } from "../../../shared/widget/chat-request.js";
import { identifyVisitor } from "../../../shared/widget/visitor.js";
import type { GatewayAppEnv } from "../context.js";
import { anthropicShape } from "../pipeline/response-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";
import { requireTurnstilePass } from "../pipeline/turnstile-gate.js";
import widgetScript from "../widget/widget.browser.js";

/** A widget conversation is small: its messages, each at most a few thousand characters. */
const WIDGET_BODY_LIMIT = 512 * 1024;

/** The embeddable widget and its two endpoints (behind widgetAccess: key in the URL, allowed origin). */
export const widget = new Hono<GatewayAppEnv>()
  .get("/widget.js", (c) =>
    c.body(widgetScript, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=300",
      "access-control-allow-origin": "*",
    }),
  )
  .get("/v1/widget/config", (c) => c.json(publicWidgetConfig(c.get("widget"))))
  .post("/v1/widget/chat", async (c) => {
    const config = c.get("widget");
    const caller = c.get("caller");
    const chat = await readJsonBody(c.req.raw, widgetChatSchema, Math.min(WIDGET_BODY_LIMIT, c.get("config").maxBodyBytes));
    const request = widgetMessagesRequest(chat, config, caller.tenant.limits.maxTokensPerRequest);
    const visitor = await identifyVisitor(c.req.raw, caller.key.id);
    if (config.turnstile) await requireTurnstilePass(c, config.turnstile, visitor);
    return serveMessages(c, request, anthropicShape, {
      widget: { visitor, limits: config.visitorLimits, dailyBudgetShare: config.dailyBudgetShare, maxTier: config.maxTier },
    });
  });
