import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { useWorkerdV8Flags } from "./test/stack/workers/workerd-v8-flags.js";

// The Workers pool's workerd too (see WORKERD_V8_FLAGS).
useWorkerdV8Flags();

export default defineConfig({
  test: {
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                REGION: "unit",
                ADMIN_TOKEN: "unit-admin-token",
                GATEWAY_SECRET: "unit-gateway-secret",
                UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
                UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
                UNIT_REGION_REDIS_REST_URLS: inject("regionUpstashUrls"),
                UPSTREAM_BASE_URL: "http://127.0.0.1:9",
                // The unreachable upstream above is retried until this deadline (20 s by default).
                RETRY_DEADLINE_MS: "1500",
                ANTHROPIC_API_KEY: "unused",
                MAX_BODY_BYTES: "65536",
              },
            },
          })),
        ],
        test: {
          name: "unit",
          globalSetup: ["test/stack/redis-global-setup.ts"],
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          globalSetup: ["test/stack/build-global-setup.ts"],
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
