/**
 * `npm run bench:profile`: where the gateway's CPU goes, per request and per relayed
 * event. Starts the bench stack with workerd's V8 inspector open (never on a measured
 * path: the bench and the tests run without it), warms up, then samples the gateway
 * isolate's CPU profile (Chrome DevTools Protocol, 50 µs interval) over a batch of short
 * streams (at concurrency 1 unless told), and over a batch of long streams for the per-event cost.
 * Samples are attributed to source files through the bundle's source map; time the
 * runtime spends outside JavaScript (I/O, HTTP, streams' native side) shows as
 * "(program)". The profiler slows JavaScript down: read shares, not absolute times.
 *
 * Options: --requests <n> (per batch, default 300), --long-tokens <n> (default 200),
 * --concurrency <n> (default 1), --save <dir> (also writes the raw .cpuprofile files, for Chrome DevTools).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SourceMapConsumer } from "source-map-js";
import { findFreePort } from "../stack/ports.js";
import { workerBundles } from "../stack/workers/build.js";
import { startBenchStack } from "./bench-stack.js";
import { header, LoadClient, runInterleaved, streamingBody } from "./load.js";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "300" },
    "long-tokens": { type: "string", default: "200" },
    concurrency: { type: "string", default: "1" },
    save: { type: "string" },
  },
});
const SAMPLING_INTERVAL_US = 50;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A minimal CDP session over the inspector's WebSocket. */
class Inspector {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiting = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result);
    });
  }

  static async connect(port: number, workerName: string): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ id: string; title?: string; webSocketDebuggerUrl: string }>;
    const target = targets.find((candidate) => candidate.id.endsWith(`:${workerName}`) || candidate.title?.includes(workerName)) ?? targets[0];
    if (!target) throw new Error(`the inspector on port ${port} lists no target`);
    const socket = new WebSocket(target.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    });
    return new Inspector(socket);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
  }

  close(): void {
    this.socket.close();
  }
}

/** Self time (ms) by source file and by function, from a profile's samples. */
function attribute(profile: CpuProfile, sourceMap: SourceMapConsumer) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index + 1] ?? 0) / 1000));
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)!.callFrame;
    let file = frame.url ? "(runtime JS)" : frame.functionName || "(anonymous)";
    let name = frame.functionName || "(anonymous)";
    if (frame.url.endsWith(".js") && frame.lineNumber >= 0) {
      const original = sourceMap.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
      file = original.source ? original.source.replace(/^(\.\.\/)+/, "").replace(/^.*node_modules\//, "node_modules/") : "(bundle)";
      name = `${original.name ?? name} ${file}:${original.line ?? "?"}`;
    }
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const total = [...selfMs.values()].reduce((sum, ms) => sum + ms, 0);
  return { total, byFile, byFunction };
}

function printTop(title: string, entries: Map<string, number>, perUnit: number, unit: string, limit: number): void {
  console.log(`\n${title} (ms per ${unit}, self time)`);
  for (const [name, ms] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`  ${(ms / perUnit).toFixed(4).padStart(8)}  ${name}`);
  }
}

async function main(): Promise<void> {
  const requests = Number(args.requests);
  const inspectorPort = await findFreePort();
  const [bundle] = await workerBundles([""]);
  const sourceMap = new SourceMapConsumer(JSON.parse(await readFile(join(bundle!.outdir, `${bundle!.main}.map`), "utf8")));
  const bench = await startBenchStack({ inspectorPort });
  const client = new LoadClient();
  let inspector: Inspector | null = null;
  try {
    const gateway = bench.gateway.endpoint;
    await runInterleaved(client, [gateway], streamingBody("sim:ttft=0 sim:tokens=4 sim:tps=1000"), { concurrency: 2, perEndpoint: 200 });
    inspector = await Inspector.connect(inspectorPort, bundle!.workerName);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    const batches = [
      { name: "short", directives: "sim:ttft=0 sim:tokens=2 sim:tps=1000" },
      { name: "long", directives: `sim:ttft=0 sim:tokens=${args["long-tokens"]} sim:tps=5000` },
    ];
    for (const batch of batches) {
      await inspector.send("Profiler.start");
      const run = await runInterleaved(client, [gateway], streamingBody(batch.directives), { concurrency: Number(args.concurrency), perEndpoint: requests });
      await Promise.all(run.exchanges.map((exchange) => bench.gateway.waitForLog(header(exchange, "x-request-id") ?? "")));
      const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
      const ok = run.exchanges.filter((exchange) => exchange.status === 200);
      const events = ok.reduce((sum, exchange) => sum + exchange.events.length, 0);
      const { total, byFile, byFunction } = attribute(profile, sourceMap);
      const idle = byFile.get("(idle)") ?? 0;
      console.log(`\n== ${batch.name} streams "${batch.directives}": ${ok.length} of ${run.exchanges.length} ok, ${(events / ok.length).toFixed(1)} events each`);
      console.log(`sampled ${(total / ok.length).toFixed(3)} ms per request, of which idle ${(idle / ok.length).toFixed(3)}; busy ${((total - idle) / ok.length).toFixed(3)} ms per request, ${((total - idle) / events).toFixed(4)} ms per event`);
      byFile.delete("(idle)");
      byFunction.delete("(idle)");
      printTop("by source file", byFile, ok.length, "request", 25);
      printTop("by function", byFunction, ok.length, "request", 40);
      if (args.save) await writeFile(join(args.save, `gateway-${batch.name}.cpuprofile`), JSON.stringify(profile));
    }
  } finally {
    inspector?.close();
    client.close();
    await bench.stack.stop();
  }
}

await main();
