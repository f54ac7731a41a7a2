import type { KeyUsageReport, UsageReport } from "../metering/usage-report.js";
import type { KeyRecord, Tenant } from "../tenants/model.js";

export type PublicKey = Omit<KeyRecord, "hash"> & { lastUsedAt?: string | null };
export type CreatedKey = PublicKey & { key: string };

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(`${status} ${type}: ${message}`);
  }
}

/** A typed client for the gateway's /admin API, used by the CLI and by tests. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  createTenant(input: Record<string, unknown>): Promise<Tenant> {
    return this.call("POST", "/admin/tenants", input);
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.call<{ data: Tenant[] }>("GET", "/admin/tenants")).data;
  }

  getTenant(id: string): Promise<Tenant> {
    return this.call("GET", `/admin/tenants/${encodeURIComponent(id)}`);
  }

  updateTenant(id: string, update: Record<string, unknown>): Promise<Tenant> {
    return this.call("PATCH", `/admin/tenants/${encodeURIComponent(id)}`, update);
  }

  setTenantDisabled(id: string, disabled: boolean): Promise<Tenant> {
    return this.call("POST", `/admin/tenants/${encodeURIComponent(id)}/${disabled ? "disable" : "enable"}`);
  }

  createKey(tenantId: string, input: Record<string, unknown> = {}): Promise<CreatedKey> {
    return this.call("POST", `/admin/tenants/${encodeURIComponent(tenantId)}/keys`, input);
  }

  updateKey(tenantId: string, keyId: string, update: Record<string, unknown>): Promise<PublicKey> {
    return this.call("PATCH", `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}`, update);
  }

  async listKeys(tenantId: string): Promise<PublicKey[]> {
    return (await this.call<{ data: PublicKey[] }>("GET", `/admin/tenants/${encodeURIComponent(tenantId)}/keys`)).data;
  }

  revokeKey(tenantId: string, keyId: string): Promise<PublicKey> {
    return this.call("POST", `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}/revoke`);
  }

  rotateKey(tenantId: string, keyId: string): Promise<CreatedKey> {
    return this.call("POST", `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}/rotate`);
  }

  keyUsage(tenantId: string, keyId: string): Promise<KeyUsageReport> {
    return this.call("GET", `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}/usage`);
  }

  usage(tenantId: string): Promise<UsageReport> {
    return this.call("GET", `/admin/tenants/${encodeURIComponent(tenantId)}/usage`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.baseUrl.replace(/\/+$/, "") + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = (await response.json()) as T & { type?: string; error?: { type: string; message: string } };
    if (!response.ok) {
      throw new AdminApiError(response.status, payload.error?.type ?? "error", payload.error?.message ?? response.statusText);
    }
    return payload;
  }
}
