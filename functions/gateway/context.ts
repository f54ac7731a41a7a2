import type { GatewayConfig, GatewayEnv } from "../../shared/config/env.js";
import type { RequestLog } from "../../shared/observability/request-log.js";
import type { KeyRecord, Tenant } from "../../shared/tenants/model.js";
import type { Services } from "./services.js";

/** The authenticated caller: the key (never its plaintext) and its tenant. */
export interface Caller {
  keyHash: string;
  key: KeyRecord;
  tenant: Tenant;
}

export interface GatewayVariables {
  config: GatewayConfig;
  services: Services;
  log: RequestLog;
  caller: Caller;
}

export interface GatewayAppEnv {
  Bindings: GatewayEnv;
  Variables: GatewayVariables;
}
