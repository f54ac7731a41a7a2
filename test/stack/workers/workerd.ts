import { join } from "node:path";
import { Miniflare, type MiniflareOptions, type WorkerOptions } from "miniflare";
import type { WorkerBundle } from "./build.js";
import { useWorkerdV8Flags } from "./workerd-v8-flags.js";
import { miniflareWorkerOptions } from "./wrangler-config.js";

/** A Worker to serve: its Miniflare options (source, compatibility, bindings) and its own port. */
export interface LocalWorker {
  options: WorkerOptions & { name: string };
  /** Loopback port of the Worker's socket; 0 picks a free one. */
  port: number;
}

/** What a Worker wrote to its console (or workerd about it). */
export interface WorkerOutput {
  level: string;
  message: string;
}

export interface Workerd {
  /** http://127.0.0.1:<port> of each Worker's socket, by Worker name. */
  urls: ReadonlyMap<string, string>;
  /** Runs a Worker's scheduled handler (its Cron Trigger) for `scheduledTime`, as Cloudflare would; rejects unless it ended ok. */
  scheduled(workerName: string, scheduledTime: Date, cron: string): Promise<void>;
  /** Serves `workers` (the same names) instead, on the same ports: workerd restarts; requests in flight are dropped. */
  update(workers: readonly LocalWorker[]): Promise<void>;
  /** Ends the workerd process and frees every port. */
  stop(): Promise<void>;
}

/**
 * Serves `workers` in one workerd process through Miniflare's API. Each Worker gets
 * its own loopback socket that goes straight to it: no dev proxy, no inspector and
 * no Miniflare entry Worker in the request's path. Service bindings between them
 * are in-process, as in production. The socket parses an `MF-CF-Blob` request
 * header into `request.cf` (local only: Cloudflare never honours it), so clients
 * can say where they are.
 */
export async function startWorkerd(
  workers: readonly LocalWorker[],
  onOutput: (output: WorkerOutput) => void,
  options: { inspectorPort?: number } = {},
): Promise<Workerd> {
  const miniflareOptions = (served: readonly LocalWorker[]): MiniflareOptions => ({
    workers: served.map(({ options, port }) => ({ ...options, unsafeDirectSockets: [{ host: "127.0.0.1", port }] })),
    // Miniflare's own entry socket is unused (clients use the Workers' sockets) but always opened: keep it on loopback.
    host: "127.0.0.1",
    port: 0,
    handleStructuredLogs: (output: WorkerOutput) => onOutput(output),
    // Only for profiling (test/bench/profile.ts): the inspector stays off on every measured or tested path.
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
  });
  useWorkerdV8Flags();
  const miniflare = new Miniflare(miniflareOptions(workers));
  try {
    await miniflare.ready;
    const urls = new Map<string, string>();
    for (const { options } of workers) {
      urls.set(options.name, (await miniflare.unsafeGetDirectURL(options.name)).origin);
    }
    return {
      urls,
      scheduled: async (workerName, scheduledTime, cron) => {
        const worker = await miniflare.getWorker(workerName);
        const { outcome } = await worker.scheduled({ scheduledTime, cron });
        if (outcome !== "ok") throw new Error(`${workerName}'s scheduled handler ended with "${outcome}"`);
      },
      update: (served) => miniflare.setOptions(miniflareOptions(served)),
      stop: () => miniflare.dispose(),
    };
  } catch (error) {
    await miniflare.dispose().catch(() => {});
    throw error;
  }
}

/**
 * Miniflare options that serve a dry-run bundle as `wrangler deploy` would upload it:
 * the environment's compatibility settings, module rules, vars, Durable Objects and
 * service bindings from wrangler.toml, then `bindings` over its vars (secrets and the
 * stack's own settings).
 */
export async function bundleWorkerOptions(bundle: WorkerBundle, bindings: Record<string, string>): Promise<WorkerOptions & { name: string }> {
  const fromConfig = await miniflareWorkerOptions(bundle.environment);
  return {
    ...fromConfig,
    name: bundle.workerName,
    modules: true,
    modulesRoot: bundle.outdir,
    scriptPath: join(bundle.outdir, bundle.main),
    bindings: { ...fromConfig.bindings, ...bindings },
  } as WorkerOptions & { name: string };
}
