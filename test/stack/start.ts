import { ADMIN_TOKEN, startStack } from "./stack.js";

/** `npm start`: the front Worker, every regional gateway and their backing services on loopback, until Ctrl-C. */
const anthropicApiKey = process.env.ANTHROPIC_API_KEY || undefined;
const stack = await startStack({
  topology: "regions",
  anthropicApiKey,
  timeScale: Number(process.env.SIM_TIME_SCALE ?? 1),
  retry: { deadlineMs: 20_000, baseDelayMs: 250 },
  ports: {
    gateway: Number(process.env.GATEWAY_PORT ?? 8787),
    bridge: Number(process.env.UPSTASH_BRIDGE_PORT ?? 8079),
    redis: Number(process.env.REDIS_PORT ?? 6390),
    demo: Number(process.env.DEMO_PORT ?? 8788),
  },
}).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

const regions = stack.deployments
  .map(({ region, gateway, simulator }) =>
    `  ${region.padEnd(14)} ${gateway.url}   upstream: ${simulator ? `simulator ${simulator.url}` : "api.anthropic.com"}`,
  )
  .join("\n");
const body = `'{"model":"auto","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello!"}]}'`;
console.log(`
edgegate is running on loopback
  edge (global)  ${stack.gateway.url}
${regions}
  upstash bridge ${stack.bridge.url}  ->  redis ${stack.redis.url}
  admin          EDGEGATE_URL=${stack.gateway.url} EDGEGATE_ADMIN_TOKEN=${ADMIN_TOKEN} npm run admin -- tenants list
  dev key        ${stack.clientKey}   (tenant "dev")
  demo page      ${stack.demo.url}/   (the chat widget, publishable key ${stack.widgetKey})

Try it:
  curl -N ${stack.gateway.url}/v1/messages \\
    -H 'x-api-key: ${stack.clientKey}' -H 'content-type: application/json' \\
    -d ${body}

Pretend to be in Frankfurt (local development only; Miniflare reads this header):
  curl -sN -D - ${stack.gateway.url}/v1/messages -H 'MF-CF-Blob: {"latitude":"50.11","longitude":"8.68","continent":"EU"}' \\
    -H 'x-api-key: ${stack.clientKey}' -H 'content-type: application/json' -d ${body}

Ctrl-C stops everything.`);

let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping...");
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
