// @ts-check
/**
 * @module dom: builds elements from data. Text is always set as text (textContent or attribute
 * values), never parsed as HTML, so a name holding `<script>` shows as those characters.
 */

/**
 * @typedef {string | number | boolean | null | undefined | ((e: any) => void)} PropValue
 * @typedef {Node | string | number | null | undefined | false} Child
 * @typedef {Child | Child[] | Child[][]} Children  nested lists are flattened
 */

/**
 * An HTML element. `props` keys starting with "on" add listeners; `class`, `for` and the rest set
 * attributes (false/null/undefined leave them out; true sets them empty).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, PropValue>} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  apply(node, props);
  append(node, children);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

/**
 * An SVG element (charts).
 * @param {string} tag
 * @param {Record<string, PropValue>} [props]
 * @param {...Children} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
  apply(node, props);
  append(node, children);
  return node;
}

/** @param {Element} node @param {Record<string, PropValue>} props */
function apply(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "value" && node instanceof HTMLInputElement) node.value = String(value ?? "");
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
}

/** @param {Node} node @param {Children[]} children */
function append(node, children) {
  for (const child of children.flat(2)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces a node's children.
 * @param {Element} node
 * @param {...Children} children
 */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/**
 * Says something to screen readers (the page's live region) without moving focus.
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById("status");
  if (region) region.textContent = message;
}

/**
 * A section with a heading that labels it, for the page's landmarks.
 * @param {string} id
 * @param {string} title
 * @param {...Children} children
 */
export function section(id, title, ...children) {
  return el("section", { id, "aria-labelledby": `${id}-title`, class: "panel" }, el("h2", { id: `${id}-title` }, title), ...children);
}

/**
 * A message block: an error (role alert) or a note.
 * @param {"error" | "note" | "ok"} kind
 * @param {...Children} children
 */
export function message(kind, ...children) {
  return el("p", { class: `msg msg-${kind}`, ...(kind === "error" ? { role: "alert" } : {}) }, ...children);
}

/**
 * A table from column headings and rows of cells.
 * @param {string} caption
 * @param {string[]} head
 * @param {Children[][]} rows
 * @param {Record<string, PropValue>} [props]
 */
export function table(caption, head, rows, props = {}) {
  return el(
    "table",
    props,
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((cell) => el("td", {}, cell))))),
  );
}

/** @param {number | null | undefined} n */
export const int = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en"));

/** @param {number | null | undefined} ms */
export const ms = (ms) => (ms === null || ms === undefined ? "–" : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`);

/** @param {number | null | undefined} ratio 0–1 */
export const percent = (ratio) => (ratio === null || ratio === undefined ? "–" : `${(ratio * 100).toFixed(ratio < 0.1 ? 2 : 1)} %`);

/** @param {number | null | undefined} n */
export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** @param {string | null | undefined} iso */
export const time = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "UTC", hour12: false }) + " UTC" : "–");
