import { ADMIN_TOKEN, startStack } from "./stack.js";

/** `npm start`: the whole local stack on loopback, until Ctrl-C. */
const anthropicApiKey = process.env.ANTHROPIC_API_KEY || undefined;
const stack = await startStack({
  anthropicApiKey,
  timeScale: Number(process.env.SIM_TIME_SCALE ?? 1),
  ports: {
    gateway: Number(process.env.GATEWAY_PORT ?? 8787),
    simulator: Number(process.env.SIMULATOR_PORT ?? 8790),
    bridge: Number(process.env.UPSTASH_BRIDGE_PORT ?? 8079),
    redis: Number(process.env.REDIS_PORT ?? 6390),
  },
}).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

const model = "claude-sonnet-4-6";
console.log(`
edgegate is running (region "local")
  gateway        ${stack.gateway.url}
  upstream       ${stack.simulator ? `simulator ${stack.simulator.url}` : "api.anthropic.com (ANTHROPIC_API_KEY is set)"}
  upstash bridge ${stack.bridge.url}  ->  redis ${stack.redis.url}
  admin          EDGEGATE_ADMIN_TOKEN=${ADMIN_TOKEN} npm run admin -- tenants list
  dev key        ${stack.clientKey}   (tenant "dev")

Try it:
  curl -N ${stack.gateway.url}/v1/messages \\
    -H 'x-api-key: ${stack.clientKey}' -H 'content-type: application/json' \\
    -d '{"model":"${model}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

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
