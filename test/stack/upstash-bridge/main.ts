/**
 * Run the Upstash REST bridge as a standalone process:
 *
 *   npx tsx test/stack/upstash-bridge/main.ts --port 8079 --redis redis://127.0.0.1:6379 --token dev-token
 *   npx tsx test/stack/upstash-bridge/main.ts --spawn-redis          # also start a throwaway redis-server
 *
 * Flags (all optional): --port N (default 8079; 0 = any free port), --host H (default 127.0.0.1),
 * --redis URL (default $REDIS_URL or redis://127.0.0.1:6379), --token T (default
 * $UPSTASH_BRIDGE_TOKEN or "dev-token"), --spawn-redis (ignore --redis and start redis-server).
 * Stats / faults for out-of-process users: GET /_bridge/stats, POST /_bridge/reset,
 * POST /_bridge/faults (same Bearer token).
 */
import { parseArgs } from "node:util";
import { startRedisServer, type RedisServer } from "../redis/redis-server.js";
import { startUpstashBridge } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8079" },
    host: { type: "string", default: "127.0.0.1" },
    redis: { type: "string" },
    token: { type: "string" },
    "spawn-redis": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    "usage: tsx test/stack/upstash-bridge/main.ts [--port 8079] [--host 127.0.0.1] " +
      "[--redis redis://127.0.0.1:6379 | --spawn-redis] [--token dev-token]",
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`);
  process.exit(2);
}

let redisServer: RedisServer | null = null;
try {
  let redisUrl = values.redis ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (values["spawn-redis"]) {
    redisServer = await startRedisServer({ port: 0 });
    redisUrl = redisServer.url;
    console.log(`redis-server started on ${redisUrl}`);
  }
  const bridge = await startUpstashBridge({
    port,
    host: values.host,
    redisUrl,
    token: values.token ?? process.env.UPSTASH_BRIDGE_TOKEN ?? "dev-token",
  });
  console.log(`upstash bridge listening on ${bridge.url}`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await bridge.close();
    await redisServer?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await redisServer?.stop();
  process.exit(1);
}
