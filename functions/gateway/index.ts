import type { GatewayEnv } from "../../shared/config/env.js";
import { app } from "./app.js";
import { scheduled } from "./scheduled.js";

export { UsageSpool } from "../../shared/ledger/usage-spool.js";
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<GatewayEnv>;
