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

/** A mistake in the command line: printed with a hint, exit code 2, never a stack trace. */
class UsageError extends Error {}

function parseCommandLine() {
  try {
    return parseArgs({
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
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A whole number above zero (limits), or undefined when the flag is absent. */
function count(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--${flag} ${raw}: expected a whole number above 0.`);
  }
  return value;
}

/** An amount of dollars above zero (budgets), or undefined when the flag is absent. */
function dollars(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0)) throw new UsageError(`--${flag} ${raw}: expected an amount of dollars above 0, such as 25 or 0.50.`);
  return value;
}

function json(raw: string, flag: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`--${flag}: expected a JSON object, such as '{"title": "Ask us"}'.`);
}

type Values = ReturnType<typeof parseCommandLine>["values"];

const list = (raw: string | undefined) => (raw === undefined ? undefined : raw.split(",").map((item) => item.trim()));

function tenantFields(values: Values): Record<string, unknown> {
  const limits = defined({
    requestsPerMinute: count(values.rpm, "rpm"),
    tokensPerMinute: count(values.tpm, "tpm"),
    dailyBudgetUsd: dollars(values["daily-usd"], "daily-usd"),
    monthlyBudgetUsd: dollars(values["monthly-usd"], "monthly-usd"),
    maxTokensPerRequest: count(values["max-tokens"], "max-tokens"),
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

function widgetFields(values: Values): Record<string, unknown> | undefined {
  const fields = {
    ...(values.widget === undefined ? {} : json(values.widget, "widget")),
    ...defined({ allowedOrigins: list(values.origins), systemPrompt: values["system-prompt"] }),
  };
  return Object.keys(fields).length ? fields : undefined;
}

function keyFields(values: Values): Record<string, unknown> {
  return defined({ label: values.label, requestsPerMinute: count(values.rpm, "rpm"), tokensPerMinute: count(values.tpm, "tpm"), widget: widgetFields(values) });
}

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

async function run(client: AdminClient, values: Values, [group, action, ...rest]: string[]): Promise<unknown> {
  const [first, second] = rest;
  switch (`${group} ${action ?? ""}`.trim()) {
    case "tenants list":
      return client.listTenants();
    case "tenants get":
      return client.getTenant(required(first, "tenant"));
    case "tenants create":
      return client.createTenant(tenantFields(values));
    case "tenants update":
      return client.updateTenant(required(first, "tenant"), tenantFields(values));
    case "tenants disable":
      return client.setTenantDisabled(required(first, "tenant"), true);
    case "tenants enable":
      return client.setTenantDisabled(required(first, "tenant"), false);
    case "keys list":
      return client.listKeys(required(first, "tenant"));
    case "keys create":
      return client.createKey(required(first, "tenant"), { kind: values.publishable ? "publishable" : "secret", ...keyFields(values) });
    case "keys update":
      return client.updateKey(required(first, "tenant"), required(second, "key id"), keyFields(values));
    case "keys revoke":
      return client.revokeKey(required(first, "tenant"), required(second, "key id"));
    case "keys rotate":
      return client.rotateKey(required(first, "tenant"), required(second, "key id"));
    default:
      if (group === "usage") return first ? client.keyUsage(required(action, "tenant"), first) : client.usage(required(action, "tenant"));
      throw new UsageError(`Unknown command "${[group, action].filter(Boolean).join(" ")}".`);
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`Missing ${what}.`);
  return value;
}

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine();
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return;
  }
  const token = process.env.EDGEGATE_ADMIN_TOKEN;
  if (!token) throw new UsageError("Set EDGEGATE_ADMIN_TOKEN to the gateway's ADMIN_TOKEN secret.");
  const client = new AdminClient(process.env.EDGEGATE_URL ?? "http://127.0.0.1:8787", token);
  console.log(JSON.stringify(await run(client, values, positionals), null, 2));
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\nRun "npm run admin -- --help" for the commands and options.`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
