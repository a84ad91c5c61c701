/**
 * Turns the raw measurements of a run into medians, same-round ratios to
 * node:http, flags, a markdown table and an SVG chart. Pure functions.
 */

/**
 * `p99: false`: wrk's p99 is not reported. With 16-deep pipelining wrk records
 * one latency per batch but counts 16 responses, so its correction for
 * coordinated omission (an interval of 1/16 of a batch) adds samples below the
 * smallest recorded one, which its percentile walk starts from: the p99 it
 * prints is 0 or misplaced (seen in runs of 2026-11-26: 0.00 ms for
 * callbackhttp and nginx with their p50 at 1-3.5 ms).
 */
export const SCENARIOS = [
  { id: "get", title: "keep-alive GET", script: "get.lua" },
  { id: "close", title: "Connection: close", script: "close.lua" },
  { id: "pipeline", title: "16-deep pipelining", script: "pipeline.lua", p99: false },
  { id: "post4k", title: "4 KiB POST", script: "post4k.lua" },
  { id: "chunked", title: "chunked POST (4 KiB)", script: "chunked.lua" },
];

export const KINDS = [
  { id: "lib", title: "callbackhttp" },
  { id: "http", title: "node:http" },
  { id: "fastify", title: "fastify" },
  { id: "nginx", title: "nginx" },
];

/** A cell whose rounds differ by more than this (max - min over the median) is flagged. */
export const SPREAD_LIMIT = 0.25;

export function median(values) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** (max - min) / median of the rounds, or null with fewer than 2 values. */
export function spread(values) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x));
  if (v.length < 2) return null;
  const med = median(v);
  if (!med) return null;
  return (Math.max(...v) - Math.min(...v)) / Math.abs(med);
}

function summarize(values) {
  return { rounds: values, median: median(values), spread: spread(values) };
}

/**
 * Cells per Node version: cells[major][metric][kind], where metric is
 * `${scenario}.rps`, `${scenario}.p99`, `idle.mem`, `idle.memReduced` or `idle.heap`. Each cell holds the
 * rounds' values, their median and spread, and the same-round ratios to
 * node:http of that Node version (their median and spread).
 */
export function aggregate(samples, memSamples, majors, rounds) {
  const out = {};
  const metrics = [];
  for (const s of SCENARIOS) {
    metrics.push({ key: `${s.id}.rps`, scenario: s.id, field: "rps", unit: "req/s", better: "higher" });
    metrics.push({ key: `${s.id}.p99`, scenario: s.id, field: "p99_ms", unit: "p99 ms", better: "lower" });
  }
  metrics.push({ key: "idle.mem", scenario: "idle", field: "perConnBytes", unit: "bytes/conn", better: "lower" });
  metrics.push({
    key: "idle.memReduced",
    scenario: "idle",
    field: "perConnBytesReduced",
    unit: "bytes/conn",
    better: "lower",
  });
  metrics.push({ key: "idle.heap", scenario: "idle", field: "heapPerConnBytes", unit: "bytes/conn", better: "lower" });
  for (const major of majors) {
    out[major] = {};
    for (const m of metrics) {
      out[major][m.key] = { metric: m, kinds: {} };
      const source = m.scenario === "idle" ? memSamples : samples.filter((x) => x.scenario === m.scenario);
      const valueOf = (kind, round) => {
        const serverId = kind === "nginx" ? "nginx" : `${kind}@${major}`;
        const hit = source.find((x) => x.server === serverId && x.round === round);
        return hit && hit.ok !== false ? (hit[m.field] ?? null) : null;
      };
      for (const kind of KINDS.map((k) => k.id)) {
        const values = [];
        const ratios = [];
        let errors = 0;
        for (let r = 0; r < rounds; r++) {
          const v = valueOf(kind, r);
          const base = valueOf("http", r);
          values.push(v);
          ratios.push(v !== null && base ? v / base : null);
          const serverId = kind === "nginx" ? "nginx" : `${kind}@${major}`;
          const hit = source.find((x) => x.server === serverId && x.round === r);
          if (hit?.errors) errors += hit.errors;
        }
        if (values.every((v) => v === null)) continue;
        const cell = { ...summarize(values), ratio: summarize(ratios), errors };
        cell.flagged = (cell.spread ?? 0) > SPREAD_LIMIT;
        cell.ratioFlagged = (cell.ratio.spread ?? 0) > SPREAD_LIMIT;
        out[major][m.key].kinds[kind] = cell;
      }
    }
  }
  return out;
}

/** Every flagged cell, as text lines. */
export function flaggedCells(cells) {
  const lines = [];
  for (const [major, metrics] of Object.entries(cells)) {
    for (const { metric, kinds } of Object.values(metrics)) {
      for (const [kind, cell] of Object.entries(kinds)) {
        if (!cell.flagged && !cell.ratioFlagged) continue;
        const title = KINDS.find((k) => k.id === kind).title;
        const what = [];
        if (cell.flagged) what.push(`values ${fmtList(cell.rounds, metric)} (spread ${pct(cell.spread)})`);
        if (cell.ratioFlagged) what.push(`ratios ${cell.ratio.rounds.map((x) => fmtRatio(x)).join(", ")} (spread ${pct(cell.ratio.spread)})`);
        lines.push(`Node ${major}, ${scenarioTitle(metric.scenario)} ${metric.unit}, ${title}: ${what.join("; ")}`);
      }
    }
  }
  return lines;
}

/** Cells with wrk errors (connect, read, write, timeout, non-2xx/3xx), as text lines. */
export function errorCells(samples) {
  return samples
    .filter((s) => s.errors > 0 || s.ok === false)
    .map(
      (s) =>
        `round ${s.round + 1}, ${s.server}, ${scenarioTitle(s.scenario)}: ${
          s.ok === false ? `failed (${s.failure})` : JSON.stringify(s.errorDetail)
        }`,
    );
}

function scenarioTitle(id) {
  if (id === "idle") return "idle keep-alive memory";
  return SCENARIOS.find((s) => s.id === id)?.title ?? id;
}

function pct(x) {
  return x === null || x === undefined ? "n/a" : `${Math.round(x * 100)}%`;
}

function fmtRatio(x) {
  return x === null || x === undefined ? "n/a" : `${x.toFixed(2)}×`;
}

function fmtValue(v, metric) {
  if (v === null || v === undefined) return "n/a";
  if (metric.field === "rps") return Math.round(v).toLocaleString("en-US");
  if (metric.field === "p99_ms") return v < 10 ? v.toFixed(2) : v.toFixed(1);
  if (metric.field === "perConnBytes" || metric.field === "perConnBytesReduced" || metric.field === "heapPerConnBytes")
    return `${(v / 1024).toFixed(1)} KiB`;
  return String(v);
}

function fmtList(values, metric) {
  return values.map((v) => fmtValue(v, metric)).join(", ");
}

/** The markdown table of one Node version: medians with their ratio to node:http. */
export function markdownTable(cells, major, nodeVersion) {
  const metrics = cells[major];
  const head = `| scenario | metric | ${KINDS.map((k) => k.title).join(" | ")} |`;
  const rule = `| --- | --- | ${KINDS.map(() => "---:").join(" | ")} |`;
  const rows = [];
  for (const { metric, kinds } of Object.values(metrics)) {
    if (Object.keys(kinds).length === 0) continue; // a scenario this run left out
    const cols = KINDS.map(({ id }) => {
      const c = kinds[id];
      if (!c) return "n/a";
      const mark = c.flagged || c.ratioFlagged ? " ⚠" : "";
      const err = c.errors > 0 ? ` (${c.errors} err)` : "";
      const ratio = id === "http" ? "" : ` (${fmtRatio(c.ratio.median)})`;
      return `${fmtValue(c.median, metric)}${ratio}${err}${mark}`;
    });
    const unit =
      metric.field === "perConnBytes"
        ? "RSS per idle conn, after a full GC"
        : metric.field === "perConnBytesReduced"
          ? "RSS per idle conn, after a memory-reducing GC"
          : metric.field === "heapPerConnBytes"
          ? "V8 heap + external per idle conn"
          : metric.unit;
    rows.push(`| ${scenarioTitle(metric.scenario)} | ${unit} | ${cols.join(" | ")} |`);
  }
  return [`**Node ${nodeVersion}** (nginx is the same process in both tables; its ratio is to this Node's node:http)`, "", head, rule, ...rows].join("\n");
}

// ---- the issue's goals ------------------------------------------------------

/**
 * The goals callbackhttp is held to (issue 5), each a same-round ratio of its
 * number to another server's on the same Node (`base`: "http" or "nginx"), or
 * a plain value (`base: null`). `at` is the bound (`min` a floor, `max` a
 * ceiling); `atFor(major)` when it depends on the Node version.
 */
export const GOALS = [
  {
    metric: "get.rps",
    base: "http",
    bound: "min",
    atFor: (major) => (major === "20" ? 1.5 : 1.25),
    what: "keep-alive req/s ÷ node:http",
  },
  { metric: "get.rps", base: "nginx", bound: "min", at: 0.85, what: "keep-alive req/s ÷ nginx" },
  { metric: "get.p99", base: "http", bound: "max", at: 1, what: "keep-alive p99 ÷ node:http" },
  { metric: "close.rps", base: "nginx", bound: "min", at: 0.9, what: "`Connection: close` req/s ÷ nginx" },
  { metric: "pipeline.rps", base: "http", bound: "min", at: 8, what: "16-deep pipelining req/s ÷ node:http" },
  { metric: "pipeline.rps", base: "nginx", bound: "min", at: 4, what: "16-deep pipelining req/s ÷ nginx" },
  { metric: "idle.mem", base: null, bound: "max", at: 4500, what: "RSS per idle connection, after a full GC" },
];

/**
 * Each goal on each Node: the median over the rounds of callbackhttp's
 * same-round ratio to its base (or of its value), every round's figure, and
 * whether the median meets the goal (null when the run lacks a number).
 */
export function goalResults(cells, majors) {
  const out = [];
  for (const goal of GOALS) {
    for (const major of majors) {
      const kinds = cells[major]?.[goal.metric]?.kinds ?? {};
      const lib = kinds.lib?.rounds ?? [];
      const base = goal.base === null ? null : (kinds[goal.base]?.rounds ?? []);
      const rounds = lib.map((v, i) => {
        if (typeof v !== "number") return null;
        if (base === null) return v;
        const b = base[i];
        return typeof b === "number" && b > 0 ? v / b : null;
      });
      const value = median(rounds);
      const at = goal.atFor ? goal.atFor(major) : goal.at;
      const met = value === null ? null : goal.bound === "min" ? value >= at : value <= at;
      const { what, metric, bound } = goal;
      out.push({ what, metric, base: goal.base, major, bound, at, value, rounds, met });
    }
  }
  return out;
}

/** The goals as a markdown table: one row per goal, one column per Node. */
export function goalsTable(results, versions) {
  const head = `| goal | ${versions.map((v) => `Node ${v.version}`).join(" | ")} |`;
  const rule = `| --- | ${versions.map(() => "---").join(" | ")} |`;
  const rows = [];
  for (const what of [...new Set(results.map((r) => r.what))]) {
    const cols = versions.map(({ major }) => {
      const r = results.find((x) => x.what === what && x.major === major);
      if (!r || r.value === null) return "n/a";
      const fmt = (x) => (r.base !== null ? fmtRatio(x) : x === null ? "n/a" : `${(x / 1024).toFixed(1)} KiB`);
      const bound = r.base === null ? `${r.at / 1000} KB (${(r.at / 1024).toFixed(1)} KiB)` : `${r.at}×`;
      const goal = `${r.bound === "min" ? "≥" : "≤"} ${bound}`;
      const perRound = r.rounds.length > 1 ? ` (rounds ${r.rounds.map(fmt).join(", ")})` : "";
      return `${r.met ? "met" : "**missed**"}: ${fmt(r.value)}, goal ${goal}${perRound}`;
    });
    rows.push(`| ${what} | ${cols.join(" | ")} |`);
  }
  return [head, rule, ...rows].join("\n");
}

// ---- the chart --------------------------------------------------------------

const COLORS = { lib: "#2b6cb0", fastify: "#2f855a", nginx: "#c05621" };
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * An SVG of the median ratios to node:http: for each Node version, one panel
 * of throughput ratios (higher is better) and one of p99 latency and idle
 * memory ratios (lower is better), on a log scale around 1 (node:http).
 */
export function ratiosSvg(cells, versions, meta) {
  const panelW = 600;
  const panelH = 300;
  const gap = 30;
  const top = 70;
  const width = panelW * 2 + gap * 3;
  const height = top + versions.length * (panelH + gap) + 40;
  const shown = KINDS.filter((k) => k.id !== "http");
  let all = [];
  for (const { major } of versions) {
    for (const { kinds } of Object.values(cells[major] ?? {})) {
      for (const k of shown) {
        const r = kinds[k.id]?.ratio.median;
        if (r) all.push(r);
      }
    }
  }
  if (all.length === 0) all = [1];
  const lo = Math.min(0.5, ...all.map((r) => r / 1.2));
  const hi = Math.max(2, ...all.map((r) => r * 1.2));
  const minExp = Math.floor(Math.log2(lo));
  const maxExp = Math.ceil(Math.log2(hi));
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${gap}" y="24" font-size="17" font-weight="bold">callbackhttp benchmark: median ratio to node:http of the same round (log scale; 1 = node:http)</text>`,
    `<text x="${gap}" y="44" fill="#444">${esc(meta)}</text>`,
  );
  // legend
  let lx = gap;
  for (const k of shown) {
    parts.push(`<rect x="${lx}" y="54" width="12" height="12" fill="${COLORS[k.id]}"/>`);
    parts.push(`<text x="${lx + 17}" y="64">${esc(k.title)}</text>`);
    lx += 110;
  }
  parts.push(
    `<rect x="${lx + 10}" y="54" width="12" height="12" fill="#888" fill-opacity="0.35" stroke="#888" stroke-dasharray="2 2"/>`,
    `<text x="${lx + 27}" y="64" fill="#444">faded, with ⚠: flagged (rounds disagree by more than 25%)</text>`,
  );
  versions.forEach(({ major, version }, row) => {
    const y0 = top + row * (panelH + gap);
    const panels = [
      {
        title: `Node ${version}: throughput, req/s ratio (higher is better)`,
        groups: SCENARIOS.map((s) => ({ key: `${s.id}.rps`, label: s.title })),
      },
      {
        title: `Node ${version}: p99 latency and idle memory ratio (lower is better)`,
        groups: [
          ...SCENARIOS.filter((s) => s.p99 !== false).map((s) => ({ key: `${s.id}.p99`, label: `p99 ${s.title}` })),
          { key: "idle.mem", label: "RSS per idle conn" },
          { key: "idle.memReduced", label: "RSS per idle conn, reducing GC" },
        ],
      },
    ];
    panels.forEach((panel, col) => {
      const x0 = gap + col * (panelW + gap);
      const plotL = x0 + 50;
      const plotR = x0 + panelW - 10;
      const plotT = y0 + 28;
      const plotB = y0 + panelH - 70;
      const yOf = (r) => plotB - ((Math.log2(r) - minExp) / (maxExp - minExp)) * (plotB - plotT);
      parts.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="#fafafa" stroke="#ddd"/>`);
      parts.push(`<text x="${x0 + 10}" y="${y0 + 18}" font-weight="bold">${esc(panel.title)}</text>`);
      for (let e = minExp; e <= maxExp; e++) {
        const r = 2 ** e;
        const y = yOf(r);
        parts.push(`<line x1="${plotL}" x2="${plotR}" y1="${y}" y2="${y}" stroke="${e === 0 ? "#333" : "#e2e2e2"}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
        parts.push(`<text x="${plotL - 6}" y="${y + 4}" text-anchor="end" fill="#555">${r >= 1 ? r : `1/${1 / r}`}×</text>`);
      }
      const gw = (plotR - plotL) / panel.groups.length;
      const bw = Math.min(26, (gw - 12) / shown.length);
      panel.groups.forEach((g, gi) => {
        const gx = plotL + gi * gw + (gw - bw * shown.length) / 2;
        const cellKinds = cells[major]?.[g.key]?.kinds ?? {};
        shown.forEach((k, ki) => {
          const c = cellKinds[k.id];
          const r = c?.ratio.median;
          const bx = gx + ki * bw;
          if (!r) {
            parts.push(`<text x="${bx + bw / 2}" y="${yOf(1) - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
            return;
          }
          const y1 = yOf(1);
          const y2 = yOf(Math.min(Math.max(r, 2 ** minExp), 2 ** maxExp));
          const yTop = Math.min(y1, y2);
          const h = Math.max(1, Math.abs(y2 - y1));
          const flagged = c.flagged || c.ratioFlagged;
          const style = flagged ? ` fill-opacity="0.35" stroke="${COLORS[k.id]}" stroke-dasharray="2 2"` : "";
          const tip = `${k.title}, ${g.label}: ${r.toFixed(2)}×${flagged ? " (flagged)" : ""}`;
          parts.push(
            `<rect x="${bx + 1}" y="${yTop}" width="${bw - 2}" height="${h}" fill="${COLORS[k.id]}"${style}><title>${esc(tip)}</title></rect>`,
          );
          const ty = r >= 1 ? yTop - 3 : yTop + h + 10;
          parts.push(`<text x="${bx + bw / 2}" y="${ty}" text-anchor="middle" font-size="9">${r.toFixed(2)}</text>`);
          if (flagged) {
            const my = r >= 1 ? ty - 10 : ty + 10;
            parts.push(`<text x="${bx + bw / 2}" y="${my}" text-anchor="middle" font-size="9" fill="#b7791f">⚠</text>`);
          }
        });
        const lx2 = plotL + gi * gw + gw / 2;
        parts.push(`<text x="${lx2}" y="${plotB + 14}" text-anchor="end" font-size="10" transform="rotate(-25 ${lx2} ${plotB + 14})">${esc(g.label)}</text>`);
      });
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
