/// <reference types="node" />
import { parseArgs } from "node:util";
import { AdminClient } from "./client.js";

const USAGE = `edgegate admin CLI  (npm run admin -- <command> [options])

Environment: EDGEGATE_URL (default http://127.0.0.1:8787), EDGEGATE_ADMIN_TOKEN (required)

Commands:
  tenants list
  tenants get <tenant>
  tenants create --name NAME [--id ID] [--rpm N] [--tpm N] [--daily-usd X] [--monthly-usd X]
                 [--max-tokens N] [--max-tier light|standard|deep] [--models a,b] [--region-pin r1,r2]
                 [--no-prompt-caching]
  tenants update <tenant> [same options as create]
  tenants disable <tenant> | tenants enable <tenant>
  keys list <tenant>
  keys create <tenant> [--publishable] [--label TEXT] [--rpm N] [--tpm N]
              [--origins https://a,https://b] [--system-prompt TEXT] [--widget JSON]
  keys update <tenant> <key-id> [--label TEXT] [--rpm N] [--tpm N]
              [--origins ...] [--system-prompt TEXT] [--widget JSON]
      --origins, --system-prompt and --widget (any widget fields, as JSON) set a
      publishable key's widget configuration; see the README for its fields.
  keys revoke <tenant> <key-id>
  keys rotate <tenant> <key-id>
  usage <tenant> [<key-id>]      (with a key id: that key's usage today)
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: "string" },
    name: { type: "string" },
    rpm: { type: "string" },
    tpm: { type: "string" },
    "daily-usd": { type: "string" },
    "monthly-usd": { type: "string" },
    "max-tokens": { type: "string" },
    "max-tier": { type: "string" },
    models: { type: "string" },
    "region-pin": { type: "string" },
    origins: { type: "string" },
    "no-prompt-caching": { type: "boolean" },
    publishable: { type: "boolean" },
    label: { type: "string" },
    "system-prompt": { type: "string" },
    widget: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const number = (raw: string | undefined) => (raw === undefined ? undefined : Number(raw));
const list = (raw: string | undefined) => (raw === undefined ? undefined : raw.split(",").map((item) => item.trim()));

function tenantFields(): Record<string, unknown> {
  const limits = defined({
    requestsPerMinute: number(values.rpm),
    tokensPerMinute: number(values.tpm),
    dailyBudgetUsd: number(values["daily-usd"]),
    monthlyBudgetUsd: number(values["monthly-usd"]),
    maxTokensPerRequest: number(values["max-tokens"]),
  });
  const modelPolicy = defined({ maxTier: values["max-tier"], allowedModels: list(values.models) });
  return defined({
    id: values.id,
    name: values.name,
    limits: Object.keys(limits).length ? limits : undefined,
    modelPolicy: Object.keys(modelPolicy).length ? modelPolicy : undefined,
    regionPin: list(values["region-pin"]),
    promptCaching: values["no-prompt-caching"] ? false : undefined,
  });
}

function widgetFields(): Record<string, unknown> | undefined {
  const fields = {
    ...(values.widget === undefined ? {} : (JSON.parse(values.widget) as Record<string, unknown>)),
    ...defined({ allowedOrigins: list(values.origins), systemPrompt: values["system-prompt"] }),
  };
  return Object.keys(fields).length ? fields : undefined;
}

function keyFields(): Record<string, unknown> {
  return defined({ label: values.label, requestsPerMinute: number(values.rpm), tokensPerMinute: number(values.tpm), widget: widgetFields() });
}

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

async function run(client: AdminClient, [group, action, ...rest]: string[]): Promise<unknown> {
  const [first, second] = rest;
  switch (`${group} ${action ?? ""}`.trim()) {
    case "tenants list":
      return client.listTenants();
    case "tenants get":
      return client.getTenant(required(first, "tenant"));
    case "tenants create":
      return client.createTenant(tenantFields());
    case "tenants update":
      return client.updateTenant(required(first, "tenant"), tenantFields());
    case "tenants disable":
      return client.setTenantDisabled(required(first, "tenant"), true);
    case "tenants enable":
      return client.setTenantDisabled(required(first, "tenant"), false);
    case "keys list":
      return client.listKeys(required(first, "tenant"));
    case "keys create":
      return client.createKey(required(first, "tenant"), { kind: values.publishable ? "publishable" : "secret", ...keyFields() });
    case "keys update":
      return client.updateKey(required(first, "tenant"), required(second, "key id"), keyFields());
    case "keys revoke":
      return client.revokeKey(required(first, "tenant"), required(second, "key id"));
    case "keys rotate":
      return client.rotateKey(required(first, "tenant"), required(second, "key id"));
    default:
      if (group === "usage") return first ? client.keyUsage(required(action, "tenant"), first) : client.usage(required(action, "tenant"));
      throw new Error(`Unknown command "${[group, action].filter(Boolean).join(" ")}".\n\n${USAGE}`);
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`Missing ${what}.\n\n${USAGE}`);
  return value;
}

if (values.help || positionals.length === 0) {
  console.log(USAGE);
} else {
  const token = process.env.EDGEGATE_ADMIN_TOKEN;
  if (!token) {
    console.error("Set EDGEGATE_ADMIN_TOKEN to the gateway's ADMIN_TOKEN secret.");
    process.exit(2);
  }
  const client = new AdminClient(process.env.EDGEGATE_URL ?? "http://127.0.0.1:8787", token);
  try {
    console.log(JSON.stringify(await run(client, positionals), null, 2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
