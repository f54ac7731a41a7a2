import { join } from "node:path";
import { DEV_TENANT_ID, type Stack } from "./stack.js";
import { REPO_ROOT } from "./workers/wrangler-config.js";

/** Where `npm start` writes its facts (EDGEGATE_STACK_FILE moves it); removed when it stops. */
export const STACK_FILE = process.env.EDGEGATE_STACK_FILE || join(REPO_ROOT, ".edgegate/stack.json");

/** What a script needs to drive a running `npm start`: every URL, key and token. */
export interface StackFacts {
  /** The `npm start` process: it stops everything on SIGTERM, SIGINT or SIGHUP. */
  pid: number;
  startedAt: string;
  /** The front Worker: where clients connect. */
  edge: string;
  regions: Array<{ region: string; gateway: string; upstream: string }>;
  /** The Anthropic simulators (one per region) and the provider keys they accept; empty with the real API. */
  simulators: Array<{ region: string; url: string }>;
  providerKeys: string[];
  upstash: { url: string; token: string };
  redis: string;
  demoPage: string;
  turnstileVerifyUrl: string;
  adminToken: string;
  devTenant: { id: string; secretKey: string; widgetKey: string; limits: { requestsPerMinute: number | null; tokensPerMinute: number | null } };
}

export function stackFacts(stack: Stack, limits: StackFacts["devTenant"]["limits"]): StackFacts {
  return {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    edge: stack.gateway.url,
    regions: stack.deployments.map(({ region, gateway, simulator }) => ({
      region,
      gateway: gateway.url,
      upstream: simulator?.url ?? "https://api.anthropic.com",
    })),
    simulators: stack.deployments.flatMap(({ region, simulator }) => (simulator ? [{ region, url: simulator.url }] : [])),
    providerKeys: stack.providerKeys,
    upstash: { url: stack.bridge.url, token: stack.bridgeToken },
    redis: stack.redis.url,
    demoPage: `${stack.demo.url}/`,
    turnstileVerifyUrl: stack.turnstile.verifyUrl,
    adminToken: stack.adminToken,
    devTenant: { id: DEV_TENANT_ID, secretKey: stack.clientKey, widgetKey: stack.widgetKey, limits },
  };
}

/** The same facts for a person, with a curl line to try. */
export function describeStack(facts: StackFacts): string {
  const regions = facts.regions.map(({ region, gateway, upstream }) => `  ${region.padEnd(14)} ${gateway}   upstream: ${upstream}`).join("\n");
  const limits = facts.devTenant.limits;
  const limitText = `${limits.requestsPerMinute ?? "default"} requests/min, ${limits.tokensPerMinute ?? "default"} tokens/min`;
  const body = `'{"model":"auto","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello!"}]}'`;
  return `
edgegate is running on loopback (workerd; facts as JSON in ${STACK_FILE})
  edge (global)  ${facts.edge}
${regions}
  upstash bridge ${facts.upstash.url}  ->  redis ${facts.redis}
  admin          EDGEGATE_URL=${facts.edge} EDGEGATE_ADMIN_TOKEN=${facts.adminToken} npm run admin -- tenants list
  dev key        ${facts.devTenant.secretKey}   (tenant "${facts.devTenant.id}", ${limitText})
  demo page      ${facts.demoPage}   (the chat widget, publishable key ${facts.devTenant.widgetKey})

Try it:
  curl -N ${facts.edge}/v1/messages \\
    -H 'x-api-key: ${facts.devTenant.secretKey}' -H 'content-type: application/json' \\
    -d ${body}

Pretend to be in Frankfurt (local only: the stack reads this header into request.cf; Cloudflare never does):
  curl -sN -D - ${facts.edge}/v1/messages -H 'MF-CF-Blob: {"latitude":"50.11","longitude":"8.68","continent":"EU"}' \\
    -H 'x-api-key: ${facts.devTenant.secretKey}' -H 'content-type: application/json' -d ${body}

One line per request follows as each completes. Ctrl-C stops everything.`;
}
