import { Hono } from "hono";
import { GatewayError, errorBody, errorResponse } from "../../shared/http/errors.js";
import type { GatewayAppEnv } from "./context.js";
import { authenticate } from "./middleware/authenticate.js";
import { requestContext } from "./middleware/request-context.js";
import { admin } from "./routes/admin.js";
import { openAIErrorResponse, speaksOpenAI } from "../../shared/openai/errors.js";
import { chatCompletions } from "./routes/chat-completions.js";
import { countTokens } from "./routes/count-tokens.js";
import { feedback } from "./routes/feedback.js";
import { health } from "./routes/health.js";
import { messages } from "./routes/messages.js";
import { models } from "./routes/models.js";
import { responses } from "./routes/responses.js";
import { usage } from "./routes/usage.js";
import { tenantMetrics } from "./routes/metrics.js";
import { dashboard } from "./routes/dashboard.js";
import { widget } from "./routes/widget.js";
import { widgetAccess } from "./middleware/widget-access.js";
import { withServices } from "./services.js";

export const app = new Hono<GatewayAppEnv>();

app.use(requestContext);
app.route("/", health);
app.use("/admin/*", withServices);
app.use("/v1/*", withServices);
app.route("/admin", admin);
app.use("/v1/messages", authenticate({ revalidatedDownstream: true }));
app.use("/v1/messages/count_tokens", authenticate({ revalidatedDownstream: false }));
app.use("/v1/usage", authenticate({ revalidatedDownstream: false }));
app.use("/v1/feedback", authenticate({ revalidatedDownstream: false }));
app.use("/v1/metrics", authenticate({ revalidatedDownstream: false }));
app.use("/v1/chat/completions", authenticate({ revalidatedDownstream: true }));
app.use("/v1/responses", authenticate({ revalidatedDownstream: true }));
app.use("/v1/models", authenticate({ revalidatedDownstream: false }));
app.use("/v1/models/*", authenticate({ revalidatedDownstream: false }));
app.use("/v1/widget/*", widgetAccess);
app.route("/", messages);
app.route("/", countTokens);
app.route("/", usage);
app.route("/", feedback);
app.route("/", tenantMetrics);
app.route("/", dashboard);
app.route("/", chatCompletions);
app.route("/", responses);
app.route("/", models);
app.route("/", widget);

app.notFound((c) =>
  errorResponse(new GatewayError("not_found_error", `No route for ${c.req.method} ${c.req.path}.`), c.get("log")?.requestId),
);

app.onError((error, c) => {
  const log = c.get("log");
  const known =
    error instanceof GatewayError
      ? error
      : new GatewayError("api_error", "Internal gateway error; retry, and report the request id if it persists.");
  log?.set({ error_type: known.type, error_message: error instanceof GatewayError ? undefined : String(error) });
  if (speaksOpenAI(c.req.path, c.req.raw.headers)) {
    return openAIErrorResponse(known.status, errorBody(known.type, known.message, log?.requestId), known.headers);
  }
  return errorResponse(known, log?.requestId);
});
