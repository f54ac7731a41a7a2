import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { stopProcess } from "../stack/child-process.js";
import type { Endpoint } from "./load.js";
import type { OwnedPath } from "./passthrough.js";

/** The Node floor (node-proxy-server.ts) in its own process, forwarding to `direct`. */
export async function startNodeProxy(direct: Endpoint): Promise<OwnedPath> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "node-proxy-server.ts"), "--upstream", direct.origin, "--key", direct.headers["x-api-key"] ?? ""],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const origin = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /node proxy listening on (\S+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`the node proxy exited with ${code} before it was ready`)));
  });
  return {
    path: {
      endpoint: { name: "node-proxy", origin, headers: {} },
      description: "a plain node:http proxy in its own Node process that only forwards to the simulator and pipes the answer back: the Node floor",
      processes: () => [{ role: "node (proxy)", pid: child.pid! }],
      waitForLog: async () => {}, // logs nothing, defers nothing
    },
    dispose: () => stopProcess(child),
  };
}
