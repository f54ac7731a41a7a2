import { workerBundles } from "./workers/build.js";
import { readWorkerConfigs } from "./workers/wrangler-config.js";

/**
 * Global setup of the integration project: builds every environment's dry-run bundle
 * once, before any test file starts a stack, so the parallel test files all find them
 * in the build cache instead of building the same bundles side by side.
 */
export default async function setup(): Promise<void> {
  await workerBundles((await readWorkerConfigs()).map((config) => config.environment));
}
