/**
 * `npm run bench:steps`: CPU per call of each step of the gateway's hot path, inside
 * workerd (the runtime the gateway runs on, with its compatibility settings and wrangler's
 * build settings), on the bench's small request body and on a large conversation. A
 * Worker (steps-worker.ts) runs one step n times per request; the cost is workerd's CPU
 * time (/proc/<pid>/stat) around that request, less the same loop doing nothing, divided
 * by n. Only steps that are pure JavaScript can be measured this way: I/O (fetch, streams)
 * shows in `npm run bench:compare` and `npm run bench:profile`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startWorkerd } from "../stack/workers/workerd.js";
import { REPO_ROOT, miniflareWorkerOptions } from "../stack/workers/wrangler-config.js";
import { streamingBody } from "./load.js";
import { measureCpu } from "./processes.js";
import { withNewWorkerd } from "./workerd-process.js";

const run = promisify(execFile);
/** Each measurement runs at least this long in CPU, so that 10 ms clock ticks do not matter. */
const MIN_CPU_MS = 400;

/** The steps Worker, built by `wrangler deploy --dry-run` with the gateway's build settings (minified, no kept names). */
async function buildStepsWorker(dir: string): Promise<string> {
  const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
  const config = join(dir, "wrangler.toml");
  await writeFile(
    config,
    [
      'name = "edgegate-steps"',
      `main = "${join(import.meta.dirname, "steps-worker.ts")}"`,
      `compatibility_date = "${compatibilityDate}"`,
      `compatibility_flags = ${JSON.stringify(compatibilityFlags ?? [])}`,
      "minify = true",
      "keep_names = false",
    ].join("\n"),
  );
  await run(process.execPath, [join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--config", config, "--outdir", join(dir, "dist")], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  return readFile(join(dir, "dist", "steps-worker.js"), "utf8");
}

/** A conversation of about `chars` characters: alternating turns of ordinary prose. */
function largeBody(chars: number): Buffer {
  const paragraph =
    "The shipment left the warehouse on Tuesday, but the tracking page still shows it as pending. " +
    "Could you check whether the carrier scanned it, and if not, when I should expect an update? ";
  const messages: Array<{ role: string; content: string }> = [];
  let total = 0;
  while (total < chars) {
    const content = paragraph.repeat(10);
    messages.push({ role: messages.length % 2 === 0 ? "user" : "assistant", content });
    total += content.length;
  }
  if (messages.length % 2 === 0) messages.push({ role: "user", content: "Thanks. Summarise what we agreed." });
  return Buffer.from(JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 1024, stream: true, messages }));
}

/** An Anthropic stream of `deltas` text deltas, as the API frames it. */
function sseStream(deltas: number): { bytes: Buffer; events: number } {
  const event = (type: string, data: unknown): string => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const parts = [
    event("message_start", {
      type: "message_start",
      message: { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-6", content: [], stop_reason: null, usage: { input_tokens: 25, output_tokens: 1 } },
    }),
    event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    event("ping", { type: "ping" }),
  ];
  for (let i = 0; i < deltas; i++) parts.push(event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " word" } }));
  parts.push(
    event("content_block_stop", { type: "content_block_stop", index: 0 }),
    event("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: deltas } }),
    event("message_stop", { type: "message_stop" }),
  );
  return { bytes: Buffer.from(parts.join("")), events: parts.length };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "edgegate-steps-"));
  try {
    const script = await buildStepsWorker(dir);
    const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
    const { started: workerd, workerdPid } = await withNewWorkerd(() =>
      startWorkerd([{ options: { name: "steps", modules: true, script, compatibilityDate, compatibilityFlags }, port: 0 }], () => {}),
    );
    try {
      const url = workerd.urls.get("steps")!;
      const call = async (step: string, n: number, body: Buffer): Promise<number> => {
        const { result, cpuMs } = await measureCpu([{ role: "workerd", pid: workerdPid }], async () =>
          fetch(`${url}/?step=${encodeURIComponent(step)}&n=${n}`, { method: "POST", body: new Uint8Array(body), headers: { "x-api-key": "egk_live_x", "anthropic-version": "2023-06-01" } }),
        );
        if (!result.ok) throw new Error(`step ${step}: HTTP ${result.status} ${await result.text()}`);
        return cpuMs.workerd!;
      };
      /** Microseconds of CPU per call, above the empty loop's. */
      const perCall = async (step: string, body: Buffer): Promise<number> => {
        let n = 50;
        for (;;) {
          const ms = await call(step, n, body);
          if (ms >= MIN_CPU_MS || n >= 5_000_000) {
            const empty = await call("nothing", n, body);
            return ((ms - empty) * 1000) / n;
          }
          n *= ms < MIN_CPU_MS / 10 ? 10 : 2;
        }
      };
      const { steps, streamSteps } = (await (await fetch(`${url}/?step=list`)).json()) as { steps: string[]; streamSteps: string[] };
      const bodies = [
        { name: "bench body", body: streamingBody("sim:ttft=0 sim:tokens=1 sim:tps=100") },
        { name: "100 kB conversation", body: largeBody(100_000) },
      ];
      console.log(`\nCPU per call in workerd, µs (above an empty loop), bodies: ${bodies.map((b) => `${b.name} ${b.body.length} B`).join(", ")}\n`);
      console.log(`| step | ${bodies.map((b) => b.name).join(" | ")} |`);
      console.log(`|---|${bodies.map(() => "---").join("|")}|`);
      for (const step of steps.filter((name) => name !== "nothing")) {
        const figures = [];
        for (const { body } of bodies) figures.push((await perCall(step, body)).toFixed(1));
        console.log(`| ${step} | ${figures.join(" | ")} |`);
      }
      const stream = sseStream(200);
      for (const step of streamSteps) {
        const perStream = await perCall(step, stream.bytes);
        console.log(`| ${step}, per event (${stream.events}-event stream) | ${(perStream / stream.events).toFixed(2)} | |`);
      }
    } finally {
      await workerd.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
