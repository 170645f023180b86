// @ts-check
/**
 * @module chart: small SVG charts drawn by hand (a line chart over time, a bar chart), each in a
 * labelled figure with its source stated and its numbers in a table for screen readers. No
 * library: two chart kinds do not justify uPlot's 45 KB, and SVG attributes need no inline styles.
 */
import { el, svg } from "./dom.js";

const W = 640;
const H = 180;
const PAD = { left: 48, right: 8, top: 10, bottom: 22 };

/**
 * @typedef {{ name: string, points: [number, number | null][] }} Series  x is epoch ms; null is a gap
 * @typedef {{ id: string, title: string, source: string, unit: string, series: Series[], empty?: string, step?: number }} LineChart
 *   step: the series' spacing in ms (a minute unless given), the least span the x axis shows
 */

/** @param {number} max */
function niceMax(max) {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

/** @param {number} v @param {string} unit */
const label = (v, unit) => `${Number.isInteger(v) ? v : v.toFixed(1)}${unit ? ` ${unit}` : ""}`;

/** @param {number} t */
const hhmm = (t) => new Date(t).toISOString().slice(11, 16);

/**
 * A figure holding the chart (or a note when there is nothing to draw), its caption and its data.
 * @param {string} id
 * @param {string} title
 * @param {string} source
 * @param {Node} body
 * @param {string[]} head
 * @param {(string | number)[][]} rows
 */
function figure(id, title, source, body, head, rows) {
  return el(
    "figure",
    { id, class: "chart", "aria-labelledby": `${id}-caption` },
    el("figcaption", { id: `${id}-caption` }, el("strong", {}, title), el("span", { class: "source" }, ` Source: ${source}`)),
    body,
    rows.length > 0 &&
      el(
        "details",
        {},
        el("summary", {}, `${title}: the numbers`),
        el(
          "table",
          {},
          el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, String(c)))))),
        ),
      ),
  );
}

/**
 * A line chart over time.
 * @param {LineChart} chart
 */
export function lineChart(chart) {
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1] ?? 0));
  if (xs.length === 0) return figure(chart.id, chart.title, chart.source, el("p", { class: "empty" }, chart.empty ?? "Nothing recorded in this window."), [], []);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + (chart.step ?? 60_000));
  const yMax = niceMax(Math.max(...ys));
  const sx = (/** @type {number} */ x) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (/** @type {number} */ y) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const grid = [0, yMax / 2, yMax].map((v) => [
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: sy(v), y2: sy(v), class: "grid" }),
    svg("text", { x: PAD.left - 4, y: sy(v) + 4, class: "tick", "text-anchor": "end" }, label(v, "")),
  ]);
  const lines = chart.series.map((s, i) => {
    /** @type {string[]} */
    const parts = [];
    let pen = "M";
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = "M";
        continue;
      }
      parts.push(`${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      pen = "L";
    }
    const dots = s.points.length <= 60 ? s.points.filter((p) => p[1] !== null).map(([x, y]) => svg("circle", { cx: sx(x), cy: sy(y ?? 0), r: 2.5, class: `s${i}` })) : [];
    return [svg("path", { d: parts.join(" "), class: `line s${i}` }), ...dots];
  });
  const picture = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${chart.title}, ${hhmm(x0)} to ${hhmm(x1)} UTC, highest ${label(Math.max(...ys), chart.unit)}`, preserveAspectRatio: "none" },
    grid,
    svg("text", { x: PAD.left, y: H - 4, class: "tick" }, `${hhmm(x0)} UTC`),
    svg("text", { x: W - PAD.right, y: H - 4, class: "tick", "text-anchor": "end" }, `${hhmm(x1)} UTC`),
    lines,
  );
  const legend = el("ul", { class: "legend" }, chart.series.map((s, i) => el("li", {}, el("span", { class: `swatch s${i}`, "aria-hidden": "true" }), s.name)));
  const times = [...new Set(xs)].sort((a, b) => a - b);
  const rows = times.map((t) => [hhmm(t), ...chart.series.map((s) => s.points.find((p) => p[0] === t)?.[1] ?? "–")]);
  return figure(chart.id, chart.title, chart.source, el("div", {}, picture, legend), ["time (UTC)", ...chart.series.map((s) => `${s.name}${chart.unit ? ` (${chart.unit})` : ""}`)], rows);
}

/**
 * A bar chart: one bar per label, or groups of bars (one per series) per label.
 * @param {{ id: string, title: string, source: string, unit: string, labels: string[], series: { name: string, values: number[] }[], empty?: string }} chart
 */
export function barChart(chart) {
  const all = chart.series.flatMap((s) => s.values);
  if (chart.labels.length === 0 || all.every((v) => v === 0)) {
    return figure(chart.id, chart.title, chart.source, el("p", { class: "empty" }, chart.empty ?? "Nothing recorded yet."), [], []);
  }
  const yMax = niceMax(Math.max(...all));
  const slot = (W - PAD.left - PAD.right) / chart.labels.length;
  const bar = Math.max(1, (slot * 0.8) / chart.series.length);
  const sy = (/** @type {number} */ y) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const every = Math.ceil(chart.labels.length / 12);
  const picture = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${chart.title}, highest ${label(Math.max(...all), chart.unit)}`, preserveAspectRatio: "none" },
    [0, yMax / 2, yMax].map((v) => [
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: sy(v), y2: sy(v), class: "grid" }),
      svg("text", { x: PAD.left - 4, y: sy(v) + 4, class: "tick", "text-anchor": "end" }, label(v, "")),
    ]),
    chart.labels.map((name, i) => [
      ...chart.series.map((s, j) =>
        svg("rect", { x: PAD.left + i * slot + slot * 0.1 + j * bar, y: sy(s.values[i] ?? 0), width: bar, height: H - PAD.bottom - sy(s.values[i] ?? 0), class: `bar s${j}` }),
      ),
      i % every === 0 && svg("text", { x: PAD.left + i * slot + slot / 2, y: H - 6, class: "tick", "text-anchor": "middle" }, name),
    ]),
  );
  const legend = chart.series.length > 1 ? el("ul", { class: "legend" }, chart.series.map((s, i) => el("li", {}, el("span", { class: `swatch s${i}`, "aria-hidden": "true" }), s.name))) : null;
  const rows = chart.labels.map((name, i) => [name, ...chart.series.map((s) => s.values[i] ?? 0)]);
  return figure(chart.id, chart.title, chart.source, el("div", {}, picture, legend), ["", ...chart.series.map((s) => `${s.name}${chart.unit ? ` (${chart.unit})` : ""}`)], rows);
}
