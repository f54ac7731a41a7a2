import type { Endpoint } from "./load.js";
import { startMiniflare } from "./miniflare.js";
import type { OwnedPath } from "./miniflare-gateway.js";
import { miniflareWorkerOptions } from "./wrangler-config.js";

/**
 * The floor: a Worker that only forwards the request to the simulator and returns
 * its body untouched (the runtime pumps it natively). What any Worker on this
 * machine and runtime adds; the gateway's own cost is what it adds above this.
 */
const PASSTHROUGH_WORKER = `
export default {
  async fetch(request, env) {
    const upstream = await fetch(env.UPSTREAM + new URL(request.url).pathname, {
      method: request.method,
      headers: { "x-api-key": env.KEY, "content-type": "application/json" },
      body: request.body,
    });
    const headers = new Headers();
    for (const name of ["content-type", "request-id"]) {
      const value = upstream.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(upstream.body, { status: upstream.status, headers });
  },
};
`;

/** The passthrough Worker, with the gateway's compatibility date and flags, forwarding to `direct`. */
export async function startPassthrough(direct: Endpoint): Promise<OwnedPath> {
  const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
  const server = await startMiniflare({
    modules: true,
    script: PASSTHROUGH_WORKER,
    compatibilityDate,
    compatibilityFlags,
    bindings: { UPSTREAM: direct.origin, KEY: direct.headers["x-api-key"] ?? "" },
  });
  return {
    path: {
      endpoint: { name: "passthrough", origin: server.origin, headers: {} },
      description: "a 15-line Worker in the same Miniflare setup that only forwards to the simulator (the runtime's floor)",
      processes: () => [{ role: "workerd (passthrough)", pid: server.workerdPid }],
      waitForLog: async () => {}, // logs nothing, defers nothing
    },
    dispose: server.dispose,
  };
}
