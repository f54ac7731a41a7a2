import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TestProject } from "vitest/node";
import { stopProcess } from "./child-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    upstashUrl: string;
    upstashToken: string;
    /** Three more databases on the same redis-server (db 1-3), as regions' own, comma-separated. */
    regionUpstashUrls: string;
  }
}

const ROOT = join(import.meta.dirname, "../..");

/**
 * Global setup of the Workers-runtime test project: a real redis-server behind the
 * Upstash bridge, so tests inside workerd use real storage. It runs as its own Node
 * process because this project's module resolution targets workerd, not Node.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const token = "unit-test-upstash-token";
  const primary = await startBridge(["--spawn-redis", "--token", token]);
  const regions = await Promise.all([1, 2, 3].map((db) => startBridge(["--redis", `${primary.redisUrl}/${db}`, "--token", token])));
  project.provide("upstashUrl", primary.url);
  project.provide("upstashToken", token);
  project.provide("regionUpstashUrls", regions.map((region) => region.url).join(","));
  return async () => {
    await Promise.all(regions.map((region) => stopProcess(region.child)));
    await stopProcess(primary.child);
  };
}

async function startBridge(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "test/stack/upstash-bridge/main.ts", "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let redisUrl = "";
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      redisUrl = line.match(/redis-server started on (\S+)/)?.[1] ?? redisUrl;
      const match = line.match(/upstash bridge listening on (\S+)/);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the Upstash bridge exited with ${code} before it was ready`)));
  });
  return { child, url, redisUrl };
}
