// Hand-drawn SVG charts: stacked bars over days, plain bars over buckets or names.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Bars for `rows` (each {label, values: {series: n}}), stacked in the order of `series`
 * ({key, color, name}). Returns a <figure>-ready element with an accessible summary.
 */
export function barChart(rows, series, { width = 480, height = 200, format = (v) => String(v), title = "" } = {}) {
  const pad = { l: 44, r: 8, t: 10, b: 34 };
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  const totals = rows.map((r) => series.reduce((a, s) => a + (r.values[s.key] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  root.append(svg("title", {}, title));
  for (let k = 0; k <= 4; k++) {
    const y = pad.t + h - (h * k) / 4;
    root.append(svg("line", { x1: pad.l, x2: pad.l + w, y1: y, y2: y, stroke: "#e3e6ea" }));
    root.append(svg("text", { x: pad.l - 4, y: y + 4, "text-anchor": "end", "font-size": 10, fill: "#5b616b" }, format((max * k) / 4)));
  }
  const slot = w / Math.max(1, rows.length);
  const bw = Math.max(2, Math.min(40, slot * 0.7));
  const every = Math.ceil(rows.length / 8);
  rows.forEach((r, i) => {
    let y = pad.t + h;
    const x = pad.l + i * slot + (slot - bw) / 2;
    for (const s of series) {
      const v = r.values[s.key] || 0;
      if (!v) continue;
      const bh = (h * v) / max;
      y -= bh;
      const rect = svg("rect", { x, y, width: bw, height: Math.max(bh, 0.5), fill: s.color, class: "bar", "data-series": s.key, "data-value": v });
      rect.append(svg("title", {}, `${r.label} · ${s.name}: ${format(v)}`));
      root.append(rect);
    }
    if (i % every === 0) {
      root.append(svg("text", { x: x + bw / 2, y: height - pad.b + 14, "text-anchor": "middle", "font-size": 10, fill: "#5b616b" }, r.short || r.label));
    }
  });
  const wrap = document.createElement("div");
  wrap.append(root);
  if (series.length > 1) {
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const s of series) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = s.color;
      item.append(swatch, s.name);
      legend.append(item);
    }
    wrap.append(legend);
  }
  return wrap;
}
