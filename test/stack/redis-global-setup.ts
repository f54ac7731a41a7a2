import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TestProject } from "vitest/node";
import { stopProcess } from "./child-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    upstashUrl: string;
    upstashToken: string;
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
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/stack/upstash-bridge/main.ts", "--port", "0", "--spawn-redis", "--token", token],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = line.match(/upstash bridge listening on (\S+)/);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the Upstash bridge exited with ${code} before it was ready`)));
  });
  project.provide("upstashUrl", url);
  project.provide("upstashToken", token);
  return () => stopProcess(child);
}
