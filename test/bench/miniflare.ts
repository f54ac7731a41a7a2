import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { descendants } from "./processes.js";
import { REPO_ROOT } from "./wrangler-config.js";

/** A Worker served by its own Miniflare (one workerd process) on loopback. */
export interface MiniflareServer {
  origin: string;
  workerdPid: number;
  dispose(): Promise<void>;
}

/** The slice of Miniflare's API used here. */
interface MiniflareInstance {
  ready: Promise<URL>;
  dispose(): Promise<void>;
}
type MiniflareConstructor = new (options: Record<string, unknown>) => MiniflareInstance;

/** Miniflare as wrangler itself resolves it, so the workerd release matches `wrangler dev`'s. */
async function wranglersMiniflare(): Promise<MiniflareConstructor> {
  const resolved = createRequire(join(REPO_ROOT, "node_modules/wrangler/package.json")).resolve("miniflare");
  const module = (await import(pathToFileURL(resolved).href)) as { Miniflare: MiniflareConstructor };
  return module.Miniflare;
}

/** Starts Miniflare with `options` (plus loopback host and a free port) and finds the workerd it spawned. */
export async function startMiniflare(options: Record<string, unknown>): Promise<MiniflareServer> {
  const Miniflare = await wranglersMiniflare();
  const before = new Set(descendants(process.pid).map((info) => info.pid));
  const miniflare = new Miniflare({ ...options, host: "127.0.0.1", port: 0 });
  const url = await miniflare.ready;
  const workerd = descendants(process.pid).find((info) => info.comm === "workerd" && !before.has(info.pid));
  if (!workerd) {
    await miniflare.dispose();
    throw new Error("cannot find the workerd process Miniflare started");
  }
  return { origin: url.origin, workerdPid: workerd.pid, dispose: () => miniflare.dispose() };
}
