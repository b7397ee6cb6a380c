// The project's files: tree with sizes, highlighted preview, versions, diff, ZIP.

import { $, api, el, flash, fmtBytes } from "./api.js";

const ALLOWED = new Set(["TABLE", "TBODY", "TR", "TD", "TH", "DIV", "PRE", "SPAN", "CODE"]);

/** A copy of Pygments' markup keeping only layout tags, their class and the text. */
function cleanCopy(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const children = [...node.childNodes].map(cleanCopy).filter(Boolean);
  if (!ALLOWED.has(node.tagName)) return children.length ? el("span", {}, ...children) : null;
  const copy = document.createElement(node.tagName.toLowerCase());
  const cls = node.getAttribute("class");
  if (cls && /^[\w\s-]+$/.test(cls)) copy.className = cls;
  copy.append(...children);
  return copy;
}

function splitDiff(text) {
  const rows = [];
  let left = [], right = [];
  const flush = () => {
    const n = Math.max(left.length, right.length);
    for (let k = 0; k < n; k++) rows.push([left[k] ?? null, right[k] ?? null]);
    left = []; right = [];
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("---") || line.startsWith("+++")) { flush(); rows.push([{ t: line, c: "hunk" }, { t: line, c: "hunk" }]); }
    else if (line.startsWith("@@")) { flush(); rows.push([{ t: line, c: "hunk" }, { t: line, c: "hunk" }]); }
    else if (line.startsWith("-")) left.push({ t: line.slice(1), c: "del" });
    else if (line.startsWith("+")) right.push({ t: line.slice(1), c: "add" });
    else { flush(); rows.push([{ t: line.slice(1), c: "" }, { t: line.slice(1), c: "" }]); }
  }
  flush();
  return el("table", { class: "split" }, el("tbody", {}, ...rows.map(([l, r]) =>
    el("tr", {}, el("td", { class: l ? l.c : "" }, l ? l.t : ""), el("td", { class: r ? r.c : "" }, r ? r.t : "")))));
}

function unifiedDiff(text) {
  return el("div", { class: "unified" }, ...text.split("\n").map((line) => {
    const c = line.startsWith("@@") || line.startsWith("---") || line.startsWith("+++") ? "hunk"
      : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
    return el("div", { class: `line ${c}` }, line || " ");
  }));
}

export class FilesPanel {
  constructor(jobId) {
    this.jobId = jobId;
    this.version = null;
    this.versions = [];
    $("#version").addEventListener("change", () => this.showVersion(Number($("#version").value)));
    $("#zip").addEventListener("click", (ev) => { ev.preventDefault(); this.download(); });
    $("#diff-show").addEventListener("click", () => this.showDiff());
    $("#diff-mode").addEventListener("change", () => { if (this.lastDiff) this.renderDiff(this.lastDiff); });
  }

  async setVersions(versions) {
    this.versions = versions.map((v) => v.number);
    if (!this.versions.length) return;
    $("#files-section").hidden = false;
    const options = (sel) => sel.replaceChildren(...this.versions.map((n) => el("option", { value: n }, `v${n}`)));
    for (const id of ["#version", "#diff-from", "#diff-to"]) options($(id));
    const latest = this.versions[this.versions.length - 1];
    $("#version").value = latest;
    $("#diff-to").value = latest;
    $("#diff-from").value = this.versions.length > 1 ? this.versions[this.versions.length - 2] : latest;
    $("#diff-controls").hidden = this.versions.length < 2;
    await this.showVersion(latest);
  }

  async showVersion(n) {
    this.version = n;
    const tree = await api(`/api/jobs/${this.jobId}/files?version=${n}`);
    const items = [];
    const shown = new Set();
    const indent = (depth) => "\u00a0".repeat(depth * 2);
    for (const f of [...tree.files].sort((a, b) => a.path.localeCompare(b.path))) {
      const parts = f.path.split("/");
      for (let k = 1; k < parts.length; k++) {
        const dir = parts.slice(0, k).join("/");
        if (shown.has(dir)) continue;
        shown.add(dir);
        items.push(el("li", { class: "dir" }, indent(k - 1) + parts[k - 1] + "/"));
      }
      const b = el("button", { type: "button", dataset: { path: f.path }, title: f.path },
        el("span", {}, indent(parts.length - 1) + parts[parts.length - 1]), el("small", {}, fmtBytes(f.size)));
      b.addEventListener("click", () => this.open(f.path, b));
      items.push(el("li", {}, b));
    }
    $("#tree").replaceChildren(...items);
    $("#preview").replaceChildren(el("p", { class: "muted" }, "Pick a file."));
  }

  async open(path, button) {
    for (const b of document.querySelectorAll("#tree button")) b.removeAttribute("aria-current");
    if (button) button.setAttribute("aria-current", "true");
    const url = `/api/jobs/${this.jobId}/files/${path.split("/").map(encodeURIComponent).join("/")}?version=${this.version}&format=html`;
    const r = await api(url, { raw: true });
    // Pygments' own <style> block and style attributes are dropped before parsing (the
    // page's stylesheet colours the classes); the code itself arrives escaped.
    const html = (await r.text()).replace(/<style[\s\S]*?<\/style>/gi, "").replace(/\sstyle="[^"]*"/gi, "");
    const doc = new DOMParser().parseFromString(html, "text/html");
    const body = doc.querySelector(".highlighttable, .highlight") || doc.body;
    const copy = cleanCopy(body);
    $("#preview").replaceChildren(el("p", { class: "muted" }, path), copy || el("p", {}, "(empty)"));
  }

  async download() {
    try {
      const r = await api(`/api/download/${this.jobId}?version=${this.version}`, { raw: true });
      const disposition = r.headers.get("Content-Disposition") || "";
      const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `atelier-${this.jobId}.zip`;
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      flash(`Download failed: ${e.message}`, "error");
    }
  }

  async showDiff() {
    const from = $("#diff-from").value, to = $("#diff-to").value;
    const d = await api(`/api/jobs/${this.jobId}/diff?from=${from}&to=${to}`);
    this.lastDiff = d;
    this.renderDiff(d);
  }

  renderDiff(d) {
    const summary = el("p", { class: "muted" },
      `v${d.from_version} → v${d.to_version}: ${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed`);
    const body = !d.diff ? el("p", {}, "No differences.")
      : $("#diff-mode").value === "split" ? splitDiff(d.diff) : unifiedDiff(d.diff);
    $("#diff").replaceChildren(summary, body);
  }
}
