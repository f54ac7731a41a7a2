/**
 * `npm run bench:widget`: what the widget path costs over the API path it wraps.
 * The same conversation goes to POST /v1/widget/chat (publishable key, origin check,
 * visitor identity, visitor and IP limits, budget share) and to POST /v1/messages
 * (secret key, model "auto", the widget's default max_tokens), interleaved request by
 * request through one gateway under wrangler dev, so both see the same machine. Also
 * reports the size of widget.js as served. Prints the numbers and writes
 * results/widget.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startStack } from "../stack/stack.js";
import { type Endpoint, LoadClient, runInterleaved, warmUp } from "./load.js";
import { type Summary, summarize } from "./stats.js";

const PER_ARM = 300;
const CONCURRENCY_LEVELS = [1, 8];
const ORIGIN = "https://shop.example";
const PROMPT = "sim:ttft=0 sim:tokens=16 sim:tps=100 Which tent fits two people?";
const UNLIMITED = 1_000_000_000;

const stack = await startStack({ timeScale: 1 });
try {
  const tenant = await stack.admin.createTenant({
    id: "bench-widget",
    name: "Widget benchmark",
    limits: { requestsPerMinute: UNLIMITED, tokensPerMinute: UNLIMITED * 1000 },
  });
  const secret = await stack.admin.createKey(tenant.id, { label: "bench api" });
  const publishable = await stack.admin.createKey(tenant.id, {
    kind: "publishable",
    label: "bench widget",
    widget: {
      allowedOrigins: [ORIGIN],
      visitorLimits: { requestsPerMinute: 10_000, tokensPerMinute: 100_000_000, ipRequestsPerMinute: 100_000 },
    },
  });
  const apiBody = Buffer.from(
    JSON.stringify({ model: "auto", max_tokens: 1024, stream: true, messages: [{ role: "user", content: PROMPT }] }),
  );
  const endpoints: Endpoint[] = [
    {
      name: "widget",
      origin: stack.gateway.url,
      headers: { origin: ORIGIN, "x-edgegate-session": "bench-session-0000000001" },
      path: `/v1/widget/chat?key=${publishable.key}`,
      body: Buffer.from(JSON.stringify({ messages: [{ role: "user", content: PROMPT }] })),
    },
    { name: "api", origin: stack.gateway.url, headers: { "x-api-key": secret.key } },
  ];

  const client = new LoadClient();
  await warmUp(client, endpoints, apiBody, 20);

  const levels = [];
  for (const concurrency of CONCURRENCY_LEVELS) {
    const { exchanges } = await runInterleaved(client, endpoints, apiBody, { concurrency, perEndpoint: PER_ARM });
    const byArm = (name: string) => exchanges.filter((exchange) => exchange.endpoint === name);
    const ttfb = (name: string): Summary => summarize(byArm(name).filter((e) => e.status === 200).map((e) => e.firstByteAt - e.sentAt));
    const failed = exchanges.filter((exchange) => exchange.status !== 200).length;
    levels.push({ concurrency, widget: ttfb("widget"), api: ttfb("api"), failed });
  }
  client.close();

  const script = Buffer.from(await (await fetch(`${stack.gateway.url}/widget.js`)).arrayBuffer());
  const results = {
    date: new Date().toISOString(),
    perArm: PER_ARM,
    path: "one gateway on workerd as npm start serves it, simulator at real time, streams of 16 tokens",
    levels,
    widgetJs: { bytes: script.length, gzipBytes: gzipSync(script, { level: 9 }).length },
  };
  const fmt = (s: Summary) => `${s.p50.toFixed(2)} / ${s.p90.toFixed(2)} / ${s.p99.toFixed(2)} ms`;
  console.log(`\nTTFB p50 / p90 / p99, ${PER_ARM} requests per arm, interleaved (${results.path})`);
  for (const level of levels) {
    console.log(`  c=${level.concurrency}  widget ${fmt(level.widget)}   api ${fmt(level.api)}   ` +
      `widget - api (p50) ${(level.widget.p50 - level.api.p50).toFixed(2)} ms   failed ${level.failed}`);
  }
  console.log(`widget.js: ${results.widgetJs.bytes} bytes, ${results.widgetJs.gzipBytes} bytes gzip (limit 15 KB)`);
  const dir = join(import.meta.dirname, "results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "widget.json"), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await stack.stop();
}
