import { type GatewayEnv, gatewayConfig } from "../../shared/config/env.js";
import { evaluateAlerts } from "../../shared/metrics/alerts/evaluate.js";
import { minuteOf } from "../../shared/metrics/samples.js";
import { redisKeys } from "../../shared/storage/keys.js";
import { redisClient } from "../../shared/storage/redis.js";
import { TenantStore } from "../../shared/tenants/store.js";
import { gatewayServices } from "./services.js";

/** How long a run holds its minute. */
const RUN_LOCK_SECONDS = 600;

/**
 * The Cron Trigger (every minute, in every region): the first run to take the minute on
 * the primary does the minute's work for all regions, off every request's path: evaluates
 * the alert rules and delivers what changed. `scheduledTime` is the moment evaluated.
 */
export async function scheduled(controller: ScheduledController, env: GatewayEnv): Promise<void> {
  const config = gatewayConfig(env);
  const services = gatewayServices(config, env);
  const now = controller.scheduledTime;
  const minute = minuteOf(now);
  const taken = await services.redis.set(redisKeys.scheduledRun(minute), config.region, { nx: true, ex: RUN_LOCK_SECONDS });
  if (taken !== "OK") {
    console.log(JSON.stringify({ msg: "scheduled", region: config.region, minute, skipped: "another run has this minute" }));
    return;
  }
  // The evaluation's reads (every budget, every setting) take the background lane: never batched with a request's admission.
  const background = redisClient(config.redis, "background");
  const alerts = await evaluateAlerts(
    {
      redis: background,
      metrics: services.metrics,
      state: services.alertState,
      settings: services.alertSettings,
      tenants: new TenantStore(background),
      defaults: config.alerts,
      gateway: config.region,
    },
    now,
  );
  console.log(JSON.stringify({ msg: "scheduled", region: config.region, minute, ...alerts }));
}
