// edgegate dashboard: charts of the gateway's metrics, drawn with uPlot (served beside this file).
// Plain browser JavaScript, no framework; it runs under a strict Content-Security-Policy
// (no inline script or style: every style is in dashboard.css or set through the DOM).
// The admin token or a tenant's secret key is typed into the page, kept in this tab's
// sessionStorage only, and sent in the Authorization header of same-origin requests:
// never in a URL.
(() => {
  "use strict";
  const TOKEN_KEY = "edgegate-dashboard:token";
  const REFRESH_MS = 30_000;
  const PALETTE = ["#3b4cca", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d5a97", "#2e4057", "#e07a5f", "#5f0f40", "#0b6e4f"];
  const $ = (id) => document.getElementById(id);
  const el = (tag, attributes = {}, text) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const state = { token: null, operator: false, timer: null, charts: new Map() };

  // ---- signing in and out
  const signIn = $("signin");
  const controls = $("controls");
  const status = $("status");
  signIn.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    if (!token) return;
    start(token);
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    clearInterval(state.timer);
    for (const chart of state.charts.values()) chart.plot?.destroy();
    state.charts.clear();
    $("charts").replaceChildren();
    controls.hidden = true;
    signIn.hidden = false;
    say("Signed out.");
  });
  for (const id of ["window", "tenant", "region", "model"]) $(id).addEventListener("change", () => refresh());
  window.addEventListener("resize", () => {
    for (const chart of state.charts.values()) chart.plot?.setSize(sizeOf(chart.box));
  });

  function say(text, isError = false) {
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  async function start(token) {
    if (token.startsWith("pk-eg-")) {
      say("A publishable key cannot open the dashboard: use the tenant's secret key (sk-eg-…) or the admin token.", true);
      return;
    }
    state.token = token;
    // Secret keys read their own tenant's figures; anything else is tried as the admin token.
    state.operator = !token.startsWith("sk-eg-");
    const ok = await refresh();
    if (!ok) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage disabled: the page works until it is closed.
    }
    signIn.hidden = true;
    controls.hidden = false;
    $("tenant-filter").hidden = !state.operator;
    if (state.operator) await loadTenants();
    clearInterval(state.timer);
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  async function api(path) {
    const response = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept: "application/json" }, cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message ?? `The gateway answered ${response.status}.`);
    return body;
  }

  async function loadTenants() {
    const select = $("tenant");
    const { data } = await api("/admin/tenants").catch(() => ({ data: [] }));
    select.replaceChildren(el("option", { value: "" }, "every tenant"), ...data.map((tenant) => el("option", { value: tenant.id }, `${tenant.name} (${tenant.id})`)));
  }

  // ---- the figures
  async function refresh() {
    if (!state.token) return false;
    const params = new URLSearchParams({ format: "json", window: $("window").value, group: "region,model" });
    for (const id of state.operator ? ["tenant", "region", "model"] : ["region", "model"]) if ($(id).value) params.set(id, $(id).value);
    say("Loading…");
    let answer;
    try {
      answer = await api(`${state.operator ? "/admin/metrics" : "/v1/metrics"}?${params}`);
    } catch (error) {
      say(String(error.message ?? error), true);
      return false;
    }
    fillChoices(answer);
    draw(answer);
    const requests = answer.series.reduce((sum, series) => sum + total(series, (metric) => metric.startsWith("requests:")), 0);
    say(`${requests} requests in the last ${$("window").selectedOptions[0].textContent}, ${answer.series.length} series; updated ${new Date().toLocaleTimeString()}.`);
    return true;
  }

  function total(series, pick) {
    let sum = 0;
    for (const [metric, values] of Object.entries(series.values)) if (pick(metric)) for (const value of values) sum += value ?? 0;
    return sum;
  }

  /** Offers the regions and models seen, keeping the current choice. */
  function fillChoices(answer) {
    for (const [id, dimension, label] of [["region", "region", "every region"], ["model", "model", "every model"]]) {
      const select = $(id);
      const current = select.value;
      const seen = new Set(answer.series.map((series) => series[dimension]).filter((value) => value !== "-" && value !== "*"));
      if (current) seen.add(current);
      select.replaceChildren(el("option", { value: "" }, label), ...[...seen].sort().map((value) => el("option", { value }, value)));
      select.value = current;
    }
  }

  const label = (series) => (series.model === "-" ? series.region : `${series.model} @ ${series.region}`);
  /** Per step, the sum over series of the metrics `pick` keeps, grouped by what `name` returns. */
  function sumsBy(answer, pick, name) {
    const groups = new Map();
    for (const series of answer.series) {
      for (const [metric, values] of Object.entries(series.values)) {
        if (!pick(metric, series)) continue;
        const key = name(metric, series);
        const sums = groups.get(key) ?? answer.times.map(() => 0);
        values.forEach((value, index) => (sums[index] += value ?? 0));
        groups.set(key, sums);
      }
    }
    return [...groups].sort(([a], [b]) => a.localeCompare(b));
  }
  const after = (prefix) => (metric) => metric.slice(prefix.length);
  const FAILED_ENDINGS = new Set(["upstream_failed", "idle_timeout", "first_token_timeout", "upstream_timeout", "error"]);

  /** The charts: each a title, a unit and its lines [label, values per step, dashed?]. */
  const CHARTS = [
    {
      id: "ttft",
      title: "Time to first token, p50 (dashed) and p95, by model and region",
      unit: "ms",
      lines: (answer) =>
        answer.series
          .filter((series) => series.model !== "-" && series.window.ttft_ms.count > 0)
          .flatMap((series) => [
            [`${label(series)} p50`, series.values.ttft_p50_ms, true],
            [`${label(series)} p95`, series.values.ttft_p95_ms, false],
          ]),
    },
    {
      id: "tps",
      title: "Output tokens per second, p50, by model and region",
      unit: "tokens/s",
      lines: (answer) => answer.series.filter((series) => series.window.tokens_per_second.count > 0).map((series) => [label(series), series.values.tps_p50, false]),
    },
    {
      id: "requests",
      title: "Requests by outcome",
      unit: "requests",
      lines: (answer) => sumsBy(answer, (metric) => metric.startsWith("requests:"), after("requests:")).map(([name, values]) => [name, values, false]),
    },
    {
      id: "errors",
      title: "Errors: upstream error types and failed endings",
      unit: "errors",
      lines: (answer) =>
        sumsBy(
          answer,
          (metric) => metric.startsWith("upstream_errors:") || (metric.startsWith("requests:") && FAILED_ENDINGS.has(metric.slice(9))),
          (metric) => (metric.startsWith("requests:") ? `ended: ${metric.slice(9)}` : metric.slice(16)),
        ).map(([name, values]) => [name, values, false]),
    },
    {
      id: "spend",
      title: "Spend and routing savings",
      unit: "USD",
      lines: (answer) => {
        const sums = new Map(sumsBy(answer, (metric) => metric === "cost_micro_usd" || metric === "strongest_cost_micro_usd", (metric) => metric));
        const cost = sums.get("cost_micro_usd") ?? answer.times.map(() => 0);
        const strongest = sums.get("strongest_cost_micro_usd") ?? answer.times.map(() => 0);
        if (!sums.size) return [];
        return [
          ["spend", cost.map((value) => value / 1e6), false],
          ["saved by routing", strongest.map((value, index) => Math.max(0, value - cost[index]) / 1e6), false],
        ];
      },
    },
    {
      id: "tiers",
      title: "Tier shares",
      unit: "% of requests",
      lines: (answer) => {
        const tiers = sumsBy(answer, (metric) => metric.startsWith("tier:"), after("tier:"));
        const totals = answer.times.map((_, index) => tiers.reduce((sum, [, values]) => sum + values[index], 0));
        return tiers.map(([name, values]) => [name, values.map((value, index) => (totals[index] ? (100 * value) / totals[index] : null)), false]);
      },
    },
    {
      id: "refusals",
      title: "Refusals by kind",
      unit: "refusals",
      lines: (answer) => sumsBy(answer, (metric) => metric.startsWith("refused:"), after("refused:")).map(([name, values]) => [name, values, false]),
    },
  ];

  function sizeOf(box) {
    return { width: Math.max(320, box.clientWidth), height: 240 };
  }

  function draw(answer) {
    const main = $("charts");
    for (const spec of CHARTS) {
      let chart = state.charts.get(spec.id);
      if (!chart) {
        const section = el("section", { class: "chart", "data-chart": spec.id });
        const box = el("div", { class: "plot" });
        section.append(el("h2", {}, spec.title), box, el("p", { class: "empty" }, "No data in this window."));
        main.append(section);
        chart = { section, box, plot: null, signature: "" };
        state.charts.set(spec.id, chart);
      }
      const lines = spec.lines(answer).filter(([, values]) => values.some((value) => value !== null && value !== 0));
      const drawn = lines.reduce((sum, [, values]) => sum + values.reduce((inner, value) => inner + (value ?? 0), 0), 0);
      const points = lines.reduce((sum, [, values]) => sum + values.filter((value) => value !== null).length, 0);
      chart.section.dataset.series = String(lines.length);
      chart.section.dataset.points = String(points);
      chart.section.dataset.sum = String(Math.round(drawn * 1e6) / 1e6);
      chart.section.dataset.colors = lines.map((_, index) => PALETTE[index % PALETTE.length]).join(" ");
      chart.section.classList.toggle("no-data", lines.length === 0);
      const data = [answer.times, ...lines.map(([, values]) => values)];
      const signature = lines.map(([name, , dashed]) => `${name}${dashed}`).join("|");
      if (chart.plot && signature === chart.signature) {
        chart.plot.setData(data);
        continue;
      }
      chart.plot?.destroy();
      chart.plot = null;
      chart.signature = signature;
      if (lines.length === 0) continue;
      chart.plot = new uPlot(
        {
          ...sizeOf(chart.box),
          scales: { x: { time: true } },
          axes: [{}, { label: spec.unit, size: 60 }],
          series: [
            {},
            ...lines.map(([name, , dashed], index) => ({
              label: name,
              stroke: PALETTE[index % PALETTE.length],
              width: 2,
              dash: dashed ? [6, 4] : undefined,
              spanGaps: true,
              points: { show: true, size: 5 },
            })),
          ],
        },
        data,
        chart.box,
      );
    }
  }

  const saved = (() => {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  })();
  if (saved) start(saved);
})();
