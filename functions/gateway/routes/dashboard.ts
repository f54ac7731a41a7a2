import { Hono } from "hono";
import uplotStyle from "uplot/dist/uPlot.min.css";
import uplotScript from "uplot/dist/uPlot.iife.min.js";
import dashboardStyle from "../dashboard/dashboard.browser.css";
import dashboardScript from "../dashboard/dashboard.browser.js";
import type { GatewayAppEnv } from "../context.js";

/** Only the gateway's own files: no inline script or style, no other origin, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgegate dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/uplot.css">
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script src="/dashboard/uplot.js" defer></script>
<script src="/dashboard/dashboard.js" defer></script>
</head>
<body>
<header>
<h1>edgegate</h1>
<form id="signin">
<label>Admin token or secret key <input id="token" type="password" autocomplete="off" required></label>
<button type="submit">Show metrics</button>
</form>
<div id="controls" class="controls" hidden>
<label>Window <select id="window"><option value="15m">15 minutes</option><option value="1h" selected>hour</option><option value="6h">6 hours</option><option value="24h">24 hours</option><option value="7d">7 days</option></select></label>
<label id="tenant-filter">Tenant <select id="tenant"><option value="">every tenant</option></select></label>
<label>Region <select id="region"><option value="">every region</option></select></label>
<label>Model <select id="model"><option value="">every model</option></select></label>
<button id="signout" type="button">Sign out</button>
</div>
<p id="status" role="status">Sign in with the admin token (every region, model and tenant) or a tenant's secret key (its own figures). It stays in this tab only.</p>
</header>
<main id="charts"></main>
</body>
</html>
`;

const asset = (body: string, contentType: string) => (c: { body: (body: string, status: 200, headers: Record<string, string>) => Response }) =>
  c.body(body, 200, { ...SECURITY_HEADERS, "content-type": contentType, "cache-control": "public, max-age=300" });

/**
 * The dashboard: a static page and its files (uPlot and the page's own script and style,
 * bundled with the Worker). It holds no figures: the page reads /admin/metrics or
 * /v1/metrics with the token typed into it.
 */
export const dashboard = new Hono<GatewayAppEnv>()
  .get("/dashboard", (c) => c.html(PAGE, 200, { ...SECURITY_HEADERS, "cache-control": "no-cache" }))
  .get("/dashboard/uplot.js", asset(uplotScript, "text/javascript; charset=utf-8"))
  .get("/dashboard/uplot.css", asset(uplotStyle, "text/css; charset=utf-8"))
  .get("/dashboard/dashboard.js", asset(dashboardScript, "text/javascript; charset=utf-8"))
  .get("/dashboard/dashboard.css", asset(dashboardStyle, "text/css; charset=utf-8"));
