import { readWorkerConfigs } from "../stack/workers/wrangler-config.js";
import { measureWorkers } from "./bundle.js";

/**
 * `npm run deploy:check`: builds every environment of wrangler.toml the way
 * `wrangler deploy` would (`--dry-run`), prints the sizes, and fails if any build
 * fails or any Worker exceeds the 250 KB (gzip) budget.
 */
const GZIP_BUDGET_BYTES = 250 * 1024;

const environments = (await readWorkerConfigs()).map((config) => config.environment);
let failed = false;
console.log("environment       raw KB   gzip KB   within 250 KB gzip");
for (const environment of environments) {
  const label = (environment || "(default)").padEnd(16);
  try {
    const [built] = await measureWorkers([environment], { profileStartup: false });
    if (!built) throw new Error("no bundle");
    const ok = built.gzipBytes <= GZIP_BUDGET_BYTES;
    failed ||= !ok;
    console.log(`${label}  ${(built.rawBytes / 1024).toFixed(1).padStart(6)}   ${(built.gzipBytes / 1024).toFixed(1).padStart(7)}   ${ok ? "yes" : "NO"}`);
  } catch (error) {
    failed = true;
    console.log(`${label}  build FAILED: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
