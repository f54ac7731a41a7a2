import { DESIGNS, type Design, NEXT_TO_PRIMARY, TARGET_WITHIN_MS } from "./by-location.js";
import type { BenchResults } from "./results.js";
import { SUSTAINED_ADDED_P99_MS } from "./throughput.js";
import { totalCpuMs } from "./ttfb.js";

export type Verdict = "pass" | "miss" | "n/a";

export interface TargetCheck {
  target: string;
  /** The path the figure comes from ("gateway": the Worker as npm start serves it). */
  path: string;
  figure: string;
  verdict: Verdict;
}

/** The hot path's targets (issue 14); each figure is taken against a floor in the same run. */
const TARGETS = {
  /** Added TTFB at concurrency 1, p50, above the passthrough floor's. */
  aboveFloorP50AtC1Ms: 0.5,
  /** Added TTFB at concurrency 16, p99, at most the passthrough floor's plus this. */
  p99OverFloorAtC16Ms: 2,
  /** Most concurrent streams sustained with added TTFB p99 <= SUSTAINED_ADDED_P99_MS. */
  sustainedConcurrency: 64,
  /** workerd CPU per short streamed request, at concurrency 1. */
  cpuMsPerRequest: 1.2,
  /** workerd CPU per relayed event (the Anthropic relay of the provider-path part). */
  cpuMsPerEvent: 0.06,
  relayDistortionP99Ms: 0.5,
  upstashRoundTripsBeforeUpstream: 1,
  classifier100CharsUs: 20,
  classifier200kCharsUs: 1_000,
  /** wrangler's unit (KiB). */
  bundleGzipKiB: 250,
} as const;

const FLOOR = "passthrough";

const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : "n/a");
const verdict = (value: number, limit: number): Verdict => (Number.isFinite(value) ? (value <= limit ? "pass" : "miss") : "n/a");

/** Pass/miss next to each figure; reported, never asserted. */
export function checkTargets(results: BenchResults, paths: readonly string[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const level = (path: string, concurrency: number) => results.ttfb.levels.find((l) => l.path === path && l.concurrency === concurrency);
  for (const path of paths) {
    const [atC1, floorAtC1] = [level(path, 1), level(FLOOR, 1)];
    const [p50, floorP50] = [atC1?.added.ttfb.p50 ?? Number.NaN, floorAtC1?.added.ttfb.p50 ?? Number.NaN];
    const above = p50 - floorP50;
    checks.push({
      target: `added TTFB p50 at concurrency 1 <= ${TARGETS.aboveFloorP50AtC1Ms} ms above the ${FLOOR} floor's`,
      path,
      figure: `${ms(above)} (${ms(p50)} vs ${ms(floorP50)})`,
      verdict: verdict(above, TARGETS.aboveFloorP50AtC1Ms),
    });
    const [atC16, floorAtC16] = [level(path, 16), level(FLOOR, 16)];
    const p99 = atC16?.added.ttfb.p99 ?? Number.NaN;
    const floorP99 = floorAtC16?.added.ttfb.p99 ?? Number.NaN;
    checks.push({
      target: `added TTFB p99 at concurrency 16 <= the ${FLOOR} floor's + ${TARGETS.p99OverFloorAtC16Ms} ms`,
      path,
      figure: `${ms(p99)} (floor ${ms(floorP99)})`,
      verdict: verdict(p99 - floorP99, TARGETS.p99OverFloorAtC16Ms),
    });
    const throughput = results.throughput.find((t) => t.path === path);
    const sustained = throughput ? (throughput.maxConcurrency ?? 0) : Number.NaN;
    checks.push({
      target: `concurrency sustained with added TTFB p99 <= ${SUSTAINED_ADDED_P99_MS} ms >= ${TARGETS.sustainedConcurrency}`,
      path,
      figure: throughput ? `${sustained}${throughput.cutShort ? " (sweep cut short)" : ""}` : "n/a",
      verdict: throughput ? (sustained >= TARGETS.sustainedConcurrency ? "pass" : "miss") : "n/a",
    });
    const cpu = atC1 ? totalCpuMs(atC1) : Number.NaN;
    const floorCpu = floorAtC1 ? totalCpuMs(floorAtC1) : Number.NaN;
    checks.push({
      target: `CPU per short streamed request <= ${TARGETS.cpuMsPerRequest} ms (concurrency 1)`,
      path,
      figure: `${ms(cpu)} (${FLOOR} ${ms(floorCpu)})`,
      verdict: verdict(cpu, TARGETS.cpuMsPerRequest),
    });
    const fidelity = results.fidelity.find((f) => f.path === path);
    const distortion = fidelity?.addedGapDistortion.p99 ?? Number.NaN;
    checks.push({
      target: `relay distortion p99 <= ${TARGETS.relayDistortionP99Ms} ms (added over direct)`,
      path,
      figure: fidelity ? `${ms(distortion)} (gateway ${ms(fidelity.gateway.gapDistortion.p99)}, direct ${ms(fidelity.direct.gapDistortion.p99)})` : "n/a",
      verdict: verdict(distortion, TARGETS.relayDistortionP99Ms),
    });
    const trips = results.roundTrips.find((r) => r.path === path);
    const most = TARGETS.upstashRoundTripsBeforeUpstream;
    checks.push({
      // A caller with a head start has its upstream call started before its admission (none before it).
      target: `at most ${most} Upstash round trip before the upstream call`,
      path,
      figure: trips && trips.requests > 0 ? `mean ${trips.before.mean.toFixed(2)} (min ${trips.before.min}, max ${trips.before.max}) over ${trips.requests}` : "n/a",
      verdict: !trips || trips.requests === 0 ? "n/a" : trips.before.max <= most ? "pass" : "miss",
    });
    checks.push({
      // Measured one request at a time: concurrent settlements share round trips (shared/storage/write-coalescer.ts).
      target: "exactly 2 Upstash round trips per request alone in all: the admission and the settlement (metrics included)",
      path,
      figure: trips && trips.requests > 0 ? `mean ${trips.total.mean.toFixed(2)} (min ${trips.total.min}, max ${trips.total.max}) over ${trips.requests}` : "n/a",
      verdict: !trips || trips.requests === 0 ? "n/a" : trips.total.min === 2 && trips.total.max === 2 ? "pass" : "miss",
    });
  }
  const relay = results.providerPaths.arms.find((arm) => arm.region === "us-east");
  const perEvent = relay ? relay.cpu.usPerEvent / 1000 : Number.NaN;
  checks.push({
    target: `CPU per relayed event <= ${TARGETS.cpuMsPerEvent} ms`,
    path: "gateway (us-east, Anthropic relay)",
    figure: Number.isFinite(perEvent) ? `${perEvent.toFixed(3)} ms` : "n/a",
    verdict: verdict(perEvent, TARGETS.cpuMsPerEvent),
  });
  const classifier = results.classifier;
  const us = (value: number): string => `${value.toFixed(1)} us`;
  checks.push(
    {
      target: `classifier <= ${TARGETS.classifier100CharsUs} us for 100 chars`,
      path: "-",
      figure: classifier.landed ? us(classifier.cost.chars100) : `n/a (${classifier.reason})`,
      verdict: classifier.landed ? verdict(classifier.cost.chars100, TARGETS.classifier100CharsUs) : "n/a",
    },
    {
      target: `classifier <= ${TARGETS.classifier200kCharsUs / 1000} ms for 200k chars`,
      path: "-",
      figure: classifier.landed ? us(classifier.cost.chars200k) : `n/a (${classifier.reason})`,
      verdict: classifier.landed ? verdict(classifier.cost.chars200k, TARGETS.classifier200kCharsUs) : "n/a",
    },
  );
  const load = results.frontLoad;
  checks.push({
    target: `no failed request, ${load.streams} streams at concurrency ${load.concurrency} through the front Worker`,
    path: "edge",
    figure: `${load.failed} failed`,
    verdict: load.failed === 0 ? "pass" : "miss",
  });
  const nextToPrimary = results.byLocation.find((row) => row.location === NEXT_TO_PRIMARY);
  for (const design of Object.keys(DESIGNS) as Design[]) {
    const reference = nextToPrimary?.designs[design].added.p50 ?? Number.NaN;
    for (const row of results.byLocation.filter((candidate) => candidate !== nextToPrimary)) {
      const over = row.designs[design].added.p50 - reference;
      checks.push({
        target: `added TTFB median from ${row.location} (${row.servedBy}) within ${TARGET_WITHIN_MS} ms of ${NEXT_TO_PRIMARY}'s, every link delayed`,
        path: `edge, ${DESIGNS[design].label}`,
        figure: `${over >= 0 ? "+" : ""}${ms(over)} (${ms(row.designs[design].added.p50)} vs ${ms(reference)})`,
        verdict: verdict(over, TARGET_WITHIN_MS),
      });
    }
  }
  for (const bundle of results.bundles) {
    const kib = bundle.gzipBytes / 1024;
    checks.push({
      target: `bundle <= ${TARGETS.bundleGzipKiB} KiB gzip`,
      path: bundle.environment || "(default env)",
      figure: `${kib.toFixed(1)} KiB`,
      verdict: verdict(kib, TARGETS.bundleGzipKiB),
    });
  }
  return checks;
}
