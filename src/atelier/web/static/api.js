// The signed-in session, the API client and small DOM helpers shared by every page.
// Everything a page shows comes from the public REST/WebSocket API with the user's token.

const KEY = "atelier.session";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail && typeof body.detail === "string" ? body.detail : body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null");
    return s && s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(tokenOut) {
  const s = {
    token: tokenOut.access_token,
    expires: Date.now() + tokenOut.expires_in * 1000,
    user: tokenOut.user,
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export function signOut(message) {
  localStorage.removeItem(KEY);
  const params = new URLSearchParams();
  if (message) params.set("reason", message);
  const here = location.pathname + location.search;
  if (message && here !== "/signin") params.set("next", here);
  location.assign("/signin" + (params.toString() ? "?" + params : ""));
}

const EXPIRED = "Your session has ended (expired or the key was revoked). Sign in again.";

/** The session, or a redirect to sign-in (returns null then). */
export function requireSession() {
  const s = session();
  if (!s) {
    signOut("Sign in to continue.");
    return null;
  }
  if (s.expires <= Date.now()) {
    signOut(EXPIRED);
    return null;
  }
  return s;
}

/** Calls the API with the session's token. JSON in and out unless `raw`. */
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const s = session();
  const headers = {};
  if (s) headers["Authorization"] = "Bearer " + s.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && s) {
    signOut(EXPIRED);
    throw new ApiError(401, { error: "unauthorized" });
  }
  if (!r.ok) {
    let data = null;
    try { data = await r.json(); } catch { data = null; }
    throw new ApiError(r.status, data);
  }
  if (raw) return r;
  if (r.status === 204) return null;
  return r.json();
}

/** Builds an element; children are nodes or text (text is never parsed as HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function flash(message, kind = "info") {
  const box = $("#flash");
  if (!box) return;
  box.className = kind === "error" ? "error" : "";
  box.textContent = message || "";
}

export function fmtDuration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

export function fmtTokens(usage) {
  if (!usage) return "–";
  return ((usage.prompt_tokens || 0) + (usage.completion_tokens || 0)).toLocaleString();
}

export function statusBadge(status) {
  return el("span", { class: `badge s-${status}`, dataset: { status } }, status);
}

export function verdictBadge(verdict) {
  if (!verdict) return el("span", { class: "muted" }, "–");
  return el("span", { class: `badge v-${verdict}`, dataset: { verdict } }, verdict);
}

/** Shared header: who is signed in, admin link, sign-out. Returns the session or null. */
export function initChrome({ needSession = true } = {}) {
  const s = needSession ? requireSession() : session();
  if (!s) return null;
  $("#nav").hidden = false;
  $("#who").textContent = `${s.user.name} (${s.user.role})`;
  $("#nav-admin").hidden = s.user.role !== "admin";
  $("#signout").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    location.assign("/signin?reason=" + encodeURIComponent("Signed out."));
  });
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
  }
  return s;
}
