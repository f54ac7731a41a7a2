import type { GatewayConfig, GatewayEnv } from "../../shared/config/env.js";
import type { RequestLog } from "../../shared/observability/request-log.js";
import type { KeyRecord, Tenant } from "../../shared/tenants/model.js";
import type { WidgetConfig } from "../../shared/widget/config.js";
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
  /** On widget routes: the publishable key's widget configuration. */
  widget: WidgetConfig;
}

export interface GatewayAppEnv {
  Bindings: GatewayEnv;
  Variables: GatewayVariables;
}
