// @ts-check
/**
 * @module pages/isolate: what the isolate that answered holds: onnxruntime's state, its heap, the
 * sessions against their budget and the request bodies in flight. Another isolate may differ.
 */
import { admin } from "../api.js";
import { bytes, el, replace, section, table } from "../dom.js";

/**
 * @param {HTMLElement} main
 * @param {AbortSignal} signal
 */
export async function isolatePage(main, signal) {
  const { body } = await admin("GET", "/isolate");
  if (signal.aborted) return;
  const memory = body.request_memory;
  replace(
    main,
    el("h1", {}, "Isolate"),
    el("p", { class: "muted" }, "The isolate that answered this page's request. Each isolate loads its own sessions; reloading may reach another."),
    el(
      "button",
      { type: "button", onclick: () => isolatePage(main, signal) },
      "Read again",
    ),
    section(
      "runtime",
      "onnxruntime",
      el(
        "dl",
        { id: "isolate-summary" },
        el("dt", {}, "State"),
        el("dd", {}, body.onnxruntime),
        el("dt", {}, "WebAssembly heap"),
        el("dd", {}, `${bytes(body.wasm_heap_bytes)} (it only grows, within the isolate's 128 MB)`),
        el("dt", {}, "Sessions"),
        el("dd", {}, `${bytes(body.sessions_estimated_bytes)} of ${bytes(body.sessions_budget_bytes)} (MODEL_CACHE_MAX_BYTES) `, el("meter", { min: 0, max: body.sessions_budget_bytes, value: body.sessions_estimated_bytes, "aria-label": "Session memory used" })),
        el("dt", {}, "Request bodies in flight"),
        el("dd", {}, `${bytes(memory.reserved_bytes)} of ${bytes(memory.capacity_bytes)} (REQUEST_MEMORY_BUDGET_BYTES, ${bytes(memory.budget_bytes)}, within ISOLATE_MEMORY_BYTES, ${bytes(memory.isolate_memory_bytes)}, less the heap); ${memory.waiting} waiting, ${memory.refused} refused`),
      ),
    ),
    section(
      "sessions",
      "Sessions",
      table(
        "Loaded sessions",
        ["Model", "Version", "State", "Estimated size", "Requests using it"],
        body.sessions.map((/** @type {any} */ s) => [s.model, `v${s.version}`, s.state, bytes(s.estimatedBytes), String(s.leases)]),
        { id: "session-list", "aria-label": "Sessions" },
      ),
    ),
    section(
      "heap-growth",
      "Heap growth",
      body.heap_growth.length === 0
        ? el("p", {}, "No run has grown the heap since onnxruntime started.")
        : table(
            "The latest runs that grew onnxruntime's heap",
            ["Model", "Version", "Rows", "From", "To", "At"],
            body.heap_growth.map((/** @type {any} */ g) => [g.model, `v${g.version}`, String(g.rows ?? "–"), bytes(g.from_bytes), bytes(g.to_bytes), g.at]),
          ),
    ),
  );
}
