import { readFileSync } from "node:fs";
import { type Stack, startStack } from "../stack/stack.js";
import type { Simulator } from "../stack/simulator/server.js";
import type { Endpoint } from "./load.js";
import { type ProcessRole, descendants, listeningPorts } from "./processes.js";

const BENCH_TENANT_ID = "bench";

/** One way into the gateway Worker. */
export interface GatewayPath {
  endpoint: Endpoint;
  /** What sits between the client and the Worker, for the report. */
  description: string;
  /** The processes this path's CPU is charged to, looked up afresh (wrangler dev restarts its runtime when sources change). */
  processes(): ProcessRole[];
  /** Resolves once the Worker has logged the request, i.e. after its deferred work (settlement). */
  waitForLog(requestId: string): Promise<unknown>;
}

export interface BenchStack {
  stack: Stack;
  simulator: Simulator;
  /** Through wrangler dev's public port: its proxy Worker, then the gateway Worker. */
  gateway: GatewayPath;
  /** Straight to the simulator, with the provider key the gateway uses: the baseline. */
  direct: Endpoint;
  /** The key of a tenant whose limits never refuse, with no budget. */
  clientHeaders: Record<string, string>;
  /** The vars and secrets the stack gave the gateway (wrangler dev's env file), for another instance of it. */
  gatewayVars: Record<string, string>;
}

/**
 * The local stack at real time (timeScale 1; requests ask for sim:ttft=0 themselves)
 * plus a tenant whose limits never refuse and no budget.
 */
export async function startBenchStack(): Promise<BenchStack> {
  const stack = await startStack({ timeScale: 1 });
  try {
    if (!stack.simulator) throw new Error("the bench needs the simulator");
    await stack.admin.createTenant({
      id: BENCH_TENANT_ID,
      name: "Benchmark",
      limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 },
    });
    const { key } = await stack.admin.createKey(BENCH_TENANT_ID, { label: "bench" });
    const clientHeaders = { "x-api-key": key };
    const gatewayPort = Number(new URL(stack.gateway.url).port);
    const gatewayVars = envFileVars(wranglerProcesses(gatewayPort).wrangler);
    const providerKey = gatewayVars.ANTHROPIC_API_KEY?.split(",")[0]?.trim();
    if (!providerKey) throw new Error("the gateway was given no ANTHROPIC_API_KEY");
    return {
      stack,
      simulator: stack.simulator,
      gateway: {
        endpoint: { name: "gateway", origin: stack.gateway.url, headers: clientHeaders },
        description:
          "wrangler dev as startStack runs it: its proxy Worker (own workerd, with the inspector proxy) -> the gateway Worker (inspector attached)",
        processes: () => {
          const found = wranglerProcesses(gatewayPort);
          return [
            { role: "workerd (gateway Worker)", pid: found.userWorkerd },
            { role: "workerd (wrangler proxy + inspector proxy)", pid: found.proxyWorkerd },
            { role: "wrangler dev (node)", pid: found.wrangler },
          ];
        },
        waitForLog: (requestId) => stack.gateway.waitForLog(requestId),
      },
      direct: { name: "direct", origin: stack.simulator.url, headers: { "x-api-key": providerKey } },
      clientHeaders,
      gatewayVars,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** wrangler dev's two workerd processes (told apart by who owns the public port) and their Node parent. */
function wranglerProcesses(gatewayPort: number): { userWorkerd: number; proxyWorkerd: number; wrangler: number } {
  const tree = descendants(process.pid);
  const workerds = tree.filter((info) => info.comm === "workerd");
  const proxy = workerds.find((info) => listeningPorts(info.pid).includes(gatewayPort));
  const user = workerds.find((info) => info !== proxy && info.ppid === proxy?.ppid);
  if (!proxy || !user) {
    throw new Error(`cannot find wrangler dev's workerd processes among ${JSON.stringify(tree.map((i) => [i.pid, i.comm]))}`);
  }
  return { userWorkerd: user.pid, proxyWorkerd: proxy.pid, wrangler: proxy.ppid };
}

/**
 * The vars test/stack/wrangler-dev.ts wrote for this wrangler dev (its --env-file:
 * one KEY=<JSON string> per line), so a second instance gets exactly the same.
 */
function envFileVars(wranglerPid: number): Record<string, string> {
  const args = readFileSync(`/proc/${wranglerPid}/cmdline`, "utf8").split("\0");
  const file = args[args.indexOf("--env-file") + 1];
  if (!file || !args.includes("--env-file")) throw new Error("wrangler dev was started without --env-file");
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => {
        const equals = line.indexOf("=");
        return [line.slice(0, equals), String(JSON.parse(line.slice(equals + 1)))];
      }),
  );
}
