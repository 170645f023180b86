// @ts-check
/**
 * @module api: the admin API, called with the token the operator signed in with. The token lives
 * in this tab's sessionStorage only: gone when the tab closes, never sent anywhere but this origin.
 */

const TOKEN_KEY = "edge-inference.admin-token";

export const token = {
  /** @returns {string | null} */
  get: () => sessionStorage.getItem(TOKEN_KEY),
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer other than 2xx, with the service's `{"error", "code"}` when it sent one. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {string | null} code */
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** A conditional write refused because the config changed since it was read (a 412), never told by the message's wording. */
  get isConflict() {
    return this.status === 412;
  }
}

/** Called when the token is refused, so the app can go back to sign-in. */
let onUnauthorized = () => {};
/** @param {() => void} f */
export const whenUnauthorized = (f) => (onUnauthorized = f);

/**
 * @param {Response} res
 * @returns {Promise<never>}
 */
async function fail(res) {
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  throw new ApiError(res.status, body?.error ?? (text || res.statusText), body?.code ?? null);
}

/**
 * Calls an admin route (path after /admin) and returns its JSON body and headers.
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, headers?: Record<string, string>, token?: string }} [options]
 * @returns {Promise<{ body: any, headers: Headers, status: number }>}
 */
export async function admin(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${options.token ?? token.get() ?? ""}`, ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/admin${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (res.status === 401 && options.token === undefined) onUnauthorized();
  if (!res.ok) return fail(res);
  return { body: await res.json(), headers: res.headers, status: res.status };
}

/** @param {string} name */
export const enc = (name) => encodeURIComponent(name);

/**
 * Publishes an ONNX file as a version. XMLHttpRequest, not fetch: only it reports upload progress.
 * @param {string} model
 * @param {number} version
 * @param {Blob} file
 * @param {(fraction: number) => void} progress
 * @returns {Promise<any>}
 */
export function uploadVersion(model, version, file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/admin/models/${enc(model)}/versions/${version}`);
    xhr.setRequestHeader("authorization", `Bearer ${token.get() ?? ""}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "the upload did not reach the service", null));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new ApiError(xhr.status, body?.error ?? xhr.statusText, body?.code ?? null));
      }
    };
    xhr.send(file);
  });
}

/**
 * Runs a KServe V2 prediction with a tenant key (not the admin token: predictions need a key).
 * @param {string} model
 * @param {number | null} version
 * @param {string} key
 * @param {unknown} request
 */
export async function predict(model, version, key, request) {
  const path = version === null ? `/v2/models/${enc(model)}/infer` : `/v2/models/${enc(model)}/versions/${version}/infer`;
  const res = await fetch(path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(request) });
  if (!res.ok) return fail(res);
  return { body: await res.json(), version: res.headers.get("x-model-version"), timing: res.headers.get("server-timing") ?? "" };
}
