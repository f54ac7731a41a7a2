import type { ServerResponse } from "node:http";
import { sendJson } from "./http-io.js";
import type { SimulatorState } from "./state.js";

const REQUEST_PATH = /^\/_sim\/requests\/([^/]+)$/;

/**
 * Health and inspection endpoints (no auth): `GET /healthz`, `GET /_sim/requests`,
 * `GET /_sim/requests/:requestId`, `GET /_sim/tokens` (Vertex access tokens issued),
 * `POST /_sim/reset`. Returns false when the route is not one of them.
 */
export function serveControlRoute(method: string, path: string, response: ServerResponse, state: SimulatorState): boolean {
  if (method === "GET" && path === "/healthz") {
    sendJson(response, 200, { ok: true });
  } else if (method === "GET" && path === "/_sim/requests") {
    sendJson(response, 200, state.ledger.all());
  } else if (method === "GET" && REQUEST_PATH.test(path)) {
    const requestId = decodeURIComponent(path.replace(REQUEST_PATH, "$1"));
    const record = state.ledger.get(requestId);
    if (record === undefined) sendJson(response, 404, { error: `no request ${requestId}` });
    else sendJson(response, 200, record);
  } else if (method === "GET" && path === "/_sim/tokens") {
    sendJson(response, 200, { issued: state.accessTokens.issued });
  } else if (method === "POST" && path === "/_sim/reset") {
    state.ledger.clear();
    for (const cache of Object.values(state.promptCaches)) cache.clear();
    sendJson(response, 200, { ok: true });
  } else {
    return false;
  }
  return true;
}
