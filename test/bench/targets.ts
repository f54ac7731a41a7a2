import { DESIGNS, type Design, NEXT_TO_PRIMARY, TARGET_WITHIN_MS } from "./by-location.js";
import type { BenchResults } from "./results.js";

export type Verdict = "pass" | "miss" | "n/a";

export interface TargetCheck {
  target: string;
  /** The path the figure comes from ("gateway": the Worker as npm start serves it). */
  path: string;
  figure: string;
  verdict: Verdict;
}

const TARGETS = {
  addedTtfbMedianMs: 1.5,
  addedTtfbP99Ms: 5,
  /** At concurrency 64 the same figures may be at most this many times the targets. */
  at64Factor: 2,
  relayDistortionP99Ms: 1,
  upstashRoundTripsBeforeUpstream: 1,
  classifier100CharsUs: 20,
  classifier200kCharsUs: 1_000,
  /** wrangler's unit (KiB). */
  bundleGzipKiB: 250,
} as const;

const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : "n/a");
const verdict = (value: number, limit: number): Verdict => (Number.isFinite(value) ? (value <= limit ? "pass" : "miss") : "n/a");

/** Pass/miss next to each figure; reported, never asserted. */
export function checkTargets(results: BenchResults, paths: readonly string[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const path of paths) {
    for (const [concurrency, factor] of [
      [16, 1],
      [64, TARGETS.at64Factor],
    ] as const) {
      const level = results.ttfb.levels.find((l) => l.path === path && l.concurrency === concurrency);
      const p50 = level?.added.ttfb.p50 ?? Number.NaN;
      const p99 = level?.added.ttfb.p99 ?? Number.NaN;
      const limit50 = TARGETS.addedTtfbMedianMs * factor;
      const limit99 = TARGETS.addedTtfbP99Ms * factor;
      checks.push(
        { target: `added TTFB median <= ${limit50} ms at concurrency ${concurrency}`, path, figure: ms(p50), verdict: verdict(p50, limit50) },
        { target: `added TTFB p99 <= ${limit99} ms at concurrency ${concurrency}`, path, figure: ms(p99), verdict: verdict(p99, limit99) },
      );
    }
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
