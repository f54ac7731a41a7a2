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

/**
 * The workerd floor: a Worker that only forwards the request to the simulator and
 * returns its body untouched (the runtime pumps it natively), served exactly as the
 * gateway is (its own workerd, its own socket). What any Worker on this machine and
 * runtime adds; the gateway's own cost is what it adds above this.
 */
export const PASSTHROUGH_WORKER = `
export default {
  async fetch(request, env) {
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
  },
};
`;

/** The passthrough Worker, with the gateway's compatibility date and flags, forwarding to `direct`. */
export async function startPassthrough(direct: Endpoint): Promise<OwnedPath> {
  const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
  const { started: workerd, workerdPid } = await withNewWorkerd(() =>
    startWorkerd(
      [
        {
          options: {
            name: "passthrough",
            modules: true,
            script: PASSTHROUGH_WORKER,
            compatibilityDate,
            compatibilityFlags,
            bindings: { UPSTREAM: direct.origin, KEY: direct.headers["x-api-key"] ?? "" },
          },
          port: 0,
        },
      ],
      () => {},
    ),
  );
  return {
    path: {
      endpoint: { name: "passthrough", origin: workerd.urls.get("passthrough")!, headers: {} },
      description: "a 15-line Worker that only forwards to the simulator, served like the gateway (own workerd, own socket): the workerd floor",
      processes: () => [{ role: "workerd (passthrough)", pid: workerdPid }],
      waitForLog: async () => {}, // logs nothing, defers nothing
    },
    dispose: workerd.stop,
  };
}
