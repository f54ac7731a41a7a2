import { join } from "node:path";
import type { GatewayPath } from "./bench-stack.js";
import type { BuiltWorker } from "./bundle.js";
import { startMiniflare } from "./miniflare.js";
import { miniflareWorkerOptions } from "./wrangler-config.js";

/** A gateway path that must be shut down after use. */
export interface OwnedPath {
  path: GatewayPath;
  dispose(): Promise<void>;
}

/**
 * The gateway's dry-run bundle served by a bare Miniflare: the same workerd
 * release, bundle and bindings as `wrangler dev`, without its proxy Worker,
 * inspector and log relay. Closest to production this machine gets.
 */
export async function startMiniflareGateway(
  worker: BuiltWorker,
  vars: Record<string, string>,
  clientHeaders: Record<string, string>,
): Promise<OwnedPath> {
  const options = await miniflareWorkerOptions(worker.environment);
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  const server = await startMiniflare({
    ...options,
    modules: true,
    modulesRoot: worker.outdir,
    scriptPath: join(worker.outdir, worker.main),
    bindings: { ...(options.bindings as Record<string, unknown> | undefined), ...vars },
    handleStructuredLogs: ({ message }: { message: string }) => {
      const requestId = requestIdOfLogLine(message);
      if (!requestId) return;
      seen.add(requestId);
      waiters.get(requestId)?.();
    },
  });
  const waitForLog = (requestId: string, timeoutMs = 10_000): Promise<void> => {
    if (seen.has(requestId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line for request ${requestId}`)), timeoutMs);
      waiters.set(requestId, () => {
        clearTimeout(timer);
        waiters.delete(requestId);
        resolve();
      });
    });
  };
  return {
    path: {
      endpoint: { name: "miniflare", origin: server.origin, headers: clientHeaders },
      description:
        "the default environment's dry-run bundle in a bare Miniflare (wrangler's own, same workerd release): no proxy Worker, no inspector",
      processes: () => [{ role: "workerd (Miniflare)", pid: server.workerdPid }],
      waitForLog,
    },
    dispose: server.dispose,
  };
}

/** The request id of the gateway's per-request log line (see shared/observability/request-log.ts). */
function requestIdOfLogLine(message: string): string | null {
  const start = message.indexOf("{");
  if (start === -1) return null;
  try {
    const line = JSON.parse(message.slice(start)) as { msg?: unknown; request_id?: unknown };
    return line.msg === "request" && typeof line.request_id === "string" ? line.request_id : null;
  } catch {
    return null;
  }
}
