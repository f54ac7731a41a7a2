import { startWorkerd } from "../stack/workers/workerd.js";
import { miniflareWorkerOptions } from "../stack/workers/wrangler-config.js";
import type { GatewayPath } from "./bench-stack.js";
import type { Endpoint } from "./load.js";
import { withNewWorkerd } from "./workerd-process.js";

/** A path the bench started and must shut down after use. */
export interface OwnedPath {
  path: GatewayPath;
  dispose(): Promise<void>;
}

/** Forwards the request to the simulator and returns its body untouched (the runtime pumps it natively). */
const FORWARD = `
async function forward(request, env) {
  const upstream = await fetch(env.UPSTREAM + new URL(request.url).pathname, {
    method: request.method,
    headers: { "x-api-key": env.KEY, "content-type": "application/json", "anthropic-version": request.headers.get("anthropic-version") ?? "" },
    body: request.body,
  });
  const headers = new Headers();
  for (const name of ["content-type", "request-id"]) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}
`;

/**
 * The workerd floor: a Worker that only forwards the request to the simulator, served
 * exactly as the gateway is (its own workerd, its own socket). What any Worker on this
 * machine and runtime adds; the gateway's own cost is what it adds above this.
 */
export const PASSTHROUGH_WORKER = `${FORWARD}
export default { fetch: forward };
`;

/**
 * The floor of the gateway's design: the passthrough Worker plus the two Upstash round
 * trips every gateway request makes (one awaited before the upstream call, like the
 * admission; one in waitUntil, like the settlement), each a one-command REST call. What the
 * runtime charges for the I/O alone, before any of the gateway's own JavaScript.
 */
export const STORAGE_FLOOR_WORKER = `${FORWARD}
const storage = (env, command) =>
  fetch(env.STORAGE_URL, {
    method: "POST",
    headers: { authorization: "Bearer " + env.STORAGE_TOKEN, "content-type": "application/json" },
    body: JSON.stringify(command),
  }).then((response) => {
    if (!response.ok) throw new Error("storage answered " + response.status);
    return response.json();
  });
export default {
  async fetch(request, env, ctx) {
    await storage(env, ["INCR", "bench:storage-floor:admissions"]);
    const response = await forward(request, env);
    ctx.waitUntil(storage(env, ["INCR", "bench:storage-floor:settlements"]));
    return response;
  },
};
`;

/**
 * The passthrough Worker, with the gateway's compatibility date and flags, forwarding to
 * `direct`; with `storage` (an Upstash REST endpoint), the storage floor instead.
 */
export async function startPassthrough(direct: Endpoint, storage?: { url: string; token: string }): Promise<OwnedPath> {
  const name = storage ? "storage-floor" : "passthrough";
  const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
  const { started: workerd, workerdPid } = await withNewWorkerd(() =>
    startWorkerd(
      [
        {
          options: {
            name,
            modules: true,
            script: storage ? STORAGE_FLOOR_WORKER : PASSTHROUGH_WORKER,
            compatibilityDate,
            compatibilityFlags,
            bindings: {
              UPSTREAM: direct.origin,
              KEY: direct.headers["x-api-key"] ?? "",
              ...(storage ? { STORAGE_URL: storage.url, STORAGE_TOKEN: storage.token } : {}),
            },
          },
          port: 0,
        },
      ],
      () => {},
    ),
  );
  return {
    path: {
      endpoint: { name, origin: workerd.urls.get(name)!, headers: {} },
      description: storage
        ? "the passthrough Worker plus one Upstash round trip before the upstream call and one in waitUntil: the floor of the gateway's I/O"
        : "a 15-line Worker that only forwards to the simulator, served like the gateway (own workerd, own socket): the workerd floor",
      processes: () => [{ role: `workerd (${name})`, pid: workerdPid }],
      waitForLog: async () => {}, // logs nothing, defers nothing
    },
    dispose: workerd.stop,
  };
}
