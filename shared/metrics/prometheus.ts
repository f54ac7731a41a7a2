import type { HistogramFigures } from "./aggregate.js";
import type { MetricsAnswer } from "./query.js";

/** Counter metrics: the stored metric (before any colon), its exported name, help, the label after the colon and a scale. */
const COUNTERS: Record<string, { name: string; help: string; label?: string; scale?: number }> = {
  requests: { name: "edgegate_requests", help: "Requests admitted, by how they ended.", label: "outcome" },
  tier: { name: "edgegate_routed_requests", help: "Requests by the tier routing chose.", label: "tier" },
  input_tokens: { name: "edgegate_input_tokens", help: "Input tokens billed." },
  output_tokens: { name: "edgegate_output_tokens", help: "Output tokens billed." },
  cache_read_tokens: { name: "edgegate_cache_read_tokens", help: "Prompt-cache read tokens billed." },
  cache_write_tokens: { name: "edgegate_cache_write_tokens", help: "Prompt-cache write tokens billed." },
  cost_micro_usd: { name: "edgegate_cost_usd", help: "Cost of the requests, USD.", scale: 1e-6 },
  strongest_cost_micro_usd: { name: "edgegate_strongest_model_cost_usd", help: "What the same tokens would have cost on the deep tier's model, USD.", scale: 1e-6 },
  upstream_errors: { name: "edgegate_upstream_errors", help: "Upstream error answers and stream error events, by type or status.", label: "type" },
  head_starts: { name: "edgegate_head_starts", help: "Upstream calls started before their admission was decided." },
  refused: { name: "edgegate_refusals", help: "Requests refused by rate limits or budgets (head_start: refused after the upstream call started).", label: "kind" },
};

const HISTOGRAMS = [
  { key: "ttft_ms", sum: "ttft_ms_sum", sumScale: 1e-3, boundScale: 1e-3, name: "edgegate_time_to_first_token_seconds", help: "From the request's arrival to its first token, seconds." },
  { key: "tokens_per_second", sum: "tps_milli_sum", sumScale: 1e-3, boundScale: 1, name: "edgegate_output_tokens_per_second", help: "Output tokens per second after the first token." },
] as const;

/**
 * The Prometheus text exposition (version 0.0.4) of an answer: the running totals as
 * counters and histograms; a window's sums (or this isolate's) as gauges, with the
 * histograms of the window.
 */
export function prometheusText(answer: MetricsAnswer): string {
  const totals = answer.source === "totals";
  const families = new Map<string, { help: string; type: string; lines: string[] }>();
  const family = (name: string, help: string, type: string) => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { help, type, lines: [] }));
    return found;
  };
  for (const series of answer.series) {
    const labels = { region: series.region, tenant: series.tenant, model: series.model, provider: series.provider };
    const counters = series.window.counters;
    for (const [metric, value] of Object.entries(counters)) {
      const colon = metric.indexOf(":");
      const spec = COUNTERS[colon < 0 ? metric : metric.slice(0, colon)];
      if (!spec) continue;
      const name = totals ? `${spec.name}_total` : spec.name;
      const extra = spec.label ? { [spec.label]: metric.slice(colon + 1) } : {};
      family(name, spec.help, totals ? "counter" : "gauge").lines.push(sample(name, { ...labels, ...extra }, value * (spec.scale ?? 1)));
    }
    if (counters.strongest_cost_micro_usd !== undefined) {
      const name = totals ? "edgegate_routing_savings_usd_total" : "edgegate_routing_savings_usd";
      const savings = Math.max(0, counters.strongest_cost_micro_usd - (counters.cost_micro_usd ?? 0)) * 1e-6;
      family(name, "Deep-tier cost minus actual cost, USD: what routing saved.", totals ? "counter" : "gauge").lines.push(sample(name, labels, savings));
    }
    for (const spec of HISTOGRAMS) {
      const figures: HistogramFigures = series.window[spec.key];
      if (figures.count === 0) continue;
      const lines = family(spec.name, spec.help, "histogram").lines;
      const bounds = answer.histograms[spec.key];
      let cumulative = 0;
      bounds.forEach((bound, bucket) => {
        cumulative += figures.buckets[String(bucket)] ?? 0;
        lines.push(sample(`${spec.name}_bucket`, { ...labels, le: String(Number((bound * spec.boundScale).toPrecision(12))) }, cumulative));
      });
      lines.push(sample(`${spec.name}_bucket`, { ...labels, le: "+Inf" }, figures.count));
      lines.push(sample(`${spec.name}_sum`, labels, (counters[spec.sum] ?? 0) * spec.sumScale));
      lines.push(sample(`${spec.name}_count`, labels, figures.count));
    }
  }
  family("edgegate_metrics_truncated_series", "Series left out of this answer by its limit.", "gauge").lines.push(sample("edgegate_metrics_truncated_series", {}, answer.truncated.series));
  const out: string[] = [];
  for (const [name, { help, type, lines }] of families) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  return `${out.join("\n")}\n`;
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const rendered = Object.entries(labels).map(([label, text]) => `${label}="${escapeLabel(text)}"`).join(",");
  return `${name}${rendered ? `{${rendered}}` : ""} ${formatValue(value)}`;
}

function escapeLabel(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e9) / 1e9);
}

