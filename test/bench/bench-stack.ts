import { type Stack, type StackOptions, startStack } from "../stack/stack.js";
import type { Simulator } from "../stack/simulator/server.js";
import type { Endpoint } from "./load.js";
import type { ProcessRole } from "./processes.js";
import { withNewWorkerd } from "./workerd-process.js";

const BENCH_TENANT_ID = "bench";

/** One way into a Worker (or another proxy) in front of the simulator. */
export interface GatewayPath {
  endpoint: Endpoint;
  /** What sits between the client and the simulator, for the report. */
  description: string;
  /** The processes this path's CPU is charged to. */
  processes(): ProcessRole[];
  /** Resolves once the Worker has logged the request, i.e. after its deferred work (settlement). */
  waitForLog(requestId: string): Promise<unknown>;
}

export interface BenchStack {
  stack: Stack;
  simulator: Simulator;
  /** The gateway Worker as `npm start` and the tests serve it. */
  gateway: GatewayPath;
  /** Straight to the simulator, with the provider key the gateway uses: the baseline. */
  direct: Endpoint;
  /** The key of a tenant whose limits never refuse, with no budget. */
  clientHeaders: Record<string, string>;
}

/**
 * The local stack (single gateway) at real time (timeScale 1; requests ask for
 * sim:ttft=0 themselves) plus a tenant whose limits never refuse and no budget.
 */
export async function startBenchStack(options: Pick<StackOptions, "inspectorPort"> = {}): Promise<BenchStack> {
  const { started: stack, workerdPid } = await withNewWorkerd(() => startStack({ ...options, timeScale: 1 }));
  try {
    if (!stack.simulator) throw new Error("the bench needs the simulator");
    await stack.admin.createTenant({
      id: BENCH_TENANT_ID,
      name: "Benchmark",
      limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 },
    });
    const { key } = await stack.admin.createKey(BENCH_TENANT_ID, { label: "bench" });
    const clientHeaders = { "x-api-key": key };
    return {
      stack,
      simulator: stack.simulator,
      gateway: {
        endpoint: { name: "gateway", origin: stack.gateway.url, headers: clientHeaders },
        description:
          "the default environment's dry-run bundle as npm start and the tests serve it: one workerd started through Miniflare's API, the Worker on its own loopback socket (no dev proxy, no inspector)",
        processes: () => [{ role: "workerd (gateway)", pid: workerdPid }],
        waitForLog: (requestId) => stack.gateway.waitForLog(requestId),
      },
      direct: { name: "direct", origin: stack.simulator.url, headers: { "x-api-key": stack.providerKeys[0]! } },
      clientHeaders,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
