import { $, api, el, initChrome, flash, fmtBytes, fmtDuration, fmtTime, statusBadge, verdictBadge } from "./api.js";
import { barChart } from "./charts.js";

const STATUS_COLORS = [
  { key: "succeeded", name: "succeeded", color: "#1a7f37" },
  { key: "failed", name: "failed", color: "#c62828" },
  { key: "cancelled", name: "cancelled", color: "#9a6700" },
  { key: "running", name: "running", color: "#2459c8" },
  { key: "queued", name: "queued", color: "#8c959f" },
];
const PAGE = 20;
let jobsOffset = 0;
let editing = null;

function stat(label, value) {
  return el("div", { class: "stat" }, el("b", {}, value), el("span", { class: "muted" }, label));
}

async function loadSystem() {
  const s = await api("/api/stats");
  const sys = s.system || {};
  const jobs = s.jobs;
  $("#system").replaceChildren(
    stat("CPU", sys.cpu ? `${sys.cpu.percent ?? "–"} % of ${sys.cpu.count}` : "–"),
    stat("memory", sys.memory ? `${sys.memory.percent ?? "–"} % of ${fmtBytes(sys.memory.total_bytes)}` : "–"),
    stat("disk", sys.disk ? `${sys.disk.percent ?? "–"} %` : "–"),
    stat("running / queued", sys.runner ? `${sys.runner.running} / ${sys.runner.queued}` : "–"),
    stat("jobs", jobs.total),
    stat("success rate", jobs.success_rate === null ? "–" : `${Math.round(jobs.success_rate * 100)} %`),
    stat("mean duration", fmtDuration(jobs.duration_s.mean)),
    stat("p95 duration", fmtDuration(jobs.duration_s.p95)),
  );
}

async function loadCharts() {
  const days = $("#days").value;
  const s = await api(`/api/stats/series?days=${days}`);
  const dayRows = (list, pick) => list.map((d) => ({ label: d.day, short: d.day.slice(5), values: pick(d) }));
  $("#chart-jobs").replaceChildren(barChart(dayRows(s.jobs_per_day, (d) => d), STATUS_COLORS, { title: "Jobs per day by status" }));
  $("#chart-durations").replaceChildren(barChart(
    s.duration_histogram.map((b) => ({ label: b.bucket, values: { n: b.count } })),
    [{ key: "n", name: "jobs", color: "#2459c8" }], { title: "Finished jobs by duration" }));
  $("#chart-tokens").replaceChildren(barChart(dayRows(s.usage_per_day, (d) => ({ p: d.prompt_tokens, c: d.completion_tokens })),
    [{ key: "p", name: "prompt tokens", color: "#6e40c9" }, { key: "c", name: "completion tokens", color: "#bf8700" }],
    { title: "Tokens per day", format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v))) }));
  $("#chart-cost").replaceChildren(barChart(dayRows(s.usage_per_day, (d) => ({ c: d.cost_usd })),
    [{ key: "c", name: "cost", color: "#1a7f37" }], { title: "Cost per day (USD)", format: (v) => `$${v.toFixed(v < 1 ? 3 : 2)}` }));
  const models = s.usage_per_model;
  $("#chart-models").replaceChildren(
    barChart(models.map((m) => ({ label: m.model, short: m.model.slice(0, 14), values: { t: m.tokens } })),
      [{ key: "t", name: "tokens", color: "#6e40c9" }], { title: "Tokens per model" }),
    el("ul", {}, ...models.map((m) => el("li", {}, `${m.model}: ${m.tokens.toLocaleString()} tokens, ${m.calls} calls, $${m.cost_usd.toFixed(4)}`))));
}

function action(label, fn, cls = "") {
  return el("button", { type: "button", class: cls, onclick: async () => {
    try { await fn(); } catch (e) { flash(`${label} failed: ${e.message}`, "error"); }
  } }, label);
}

async function loadJobs(users) {
  const names = Object.fromEntries(users.map((u) => [u.id, u.name]));
  const page = await api(`/admin/jobs?limit=${PAGE}&offset=${jobsOffset}`);
  $("#all-jobs tbody").replaceChildren(...page.items.map((j) => el("tr", { dataset: { jobId: j.job_id } },
    el("td", { class: "prompt-cell" }, el("a", { href: `/jobs/${j.job_id}`, title: j.prompt }, j.prompt)),
    el("td", {}, names[j.user_id] || j.user_id.slice(0, 8)),
    el("td", {}, statusBadge(j.status)), el("td", {}, verdictBadge(j.verdict)), el("td", {}, fmtTime(j.created_at)),
    el("td", { class: "actions" },
      ["failed", "cancelled"].includes(j.status) ? action("Retry", async () => { await api(`/admin/jobs/${j.job_id}/retry`, { method: "POST" }); await reloadJobs(); }) : null,
      ["queued", "running"].includes(j.status) ? action("Cancel", async () => { await api(`/admin/jobs/${j.job_id}/cancel`, { method: "POST" }); await reloadJobs(); }) : null,
      action("Delete", async () => { if (confirm("Delete this job and its files?")) { await api(`/admin/jobs/${j.job_id}`, { method: "DELETE" }); await reloadJobs(); } }, "danger")))));
  $("#aj-info").textContent = page.total ? `${jobsOffset + 1}–${Math.min(jobsOffset + PAGE, page.total)} of ${page.total}` : "no jobs";
  $("#aj-prev").disabled = jobsOffset === 0;
  $("#aj-next").disabled = jobsOffset + PAGE >= page.total;
}

let usersCache = [];
async function reloadJobs() { await loadJobs(usersCache); }

function showKey(owner, created) {
  const box = $("#new-key");
  box.replaceChildren(el("p", {}, `New API key for ${owner} — copy it now, it is shown only once:`), el("code", { id: "new-key-value" }, created.api_key));
  box.hidden = false;
  box.focus();
}

async function loadUsers() {
  const [users, keys] = await Promise.all([api("/admin/users"), api("/admin/keys")]);
  usersCache = users;
  $("#users tbody").replaceChildren(...users.map((u) => {
    const own = keys.filter((k) => k.user_id === u.id);
    return el("tr", { dataset: { user: u.name } },
      el("td", {}, u.name), el("td", {}, u.role), el("td", {}, u.active ? "yes" : "no"),
      el("td", {}, el("ul", { class: "keys" }, ...own.map((k) => el("li", { dataset: { keyId: k.id, prefix: k.prefix } },
        el("code", {}, k.prefix), ` ${k.name || ""} `, k.revoked_at ? el("span", { class: "v-failing" }, "revoked ") : el("span", { class: "muted" }, `used ${fmtTime(k.last_used_at)} `),
        k.revoked_at ? null : action("Revoke", async () => { await api(`/admin/keys/${k.id}/revoke`, { method: "POST" }); flash(`Key ${k.prefix} revoked.`); await loadUsers(); }, "danger"))))),
      el("td", { class: "actions" },
        action("New key", async () => { const created = await api(`/admin/users/${u.id}/keys`, { method: "POST", body: { name: "ui" } }); await loadUsers(); showKey(u.name, created); }),
        action(u.active ? "Disable" : "Enable", async () => { await api(`/admin/users/${u.id}`, { method: "PATCH", body: { active: !u.active } }); await loadUsers(); })));
  }));
  return users;
}

function fillTemplateForm(t) {
  editing = t ? t.id : null;
  $("#template-form-title").textContent = t ? `Edit template ${t.id}` : "New template";
  $("#t-id").value = t ? t.id : "";
  $("#t-id").disabled = Boolean(t);
  $("#t-name").value = t ? t.name : "";
  $("#t-language").value = t ? t.language : "python";
  $("#t-files").value = t ? t.suggested_files.join(", ") : "";
  $("#t-description").value = t ? t.description : "";
  $("#t-hint").value = t ? t.prompt_hint : "";
}

async function loadTemplates() {
  const all = await api("/api/templates");
  const custom = all.filter((t) => !t.builtin);
  $("#templates tbody").replaceChildren(...custom.map((t) => el("tr", { dataset: { template: t.id } },
    el("td", {}, t.id), el("td", {}, t.name), el("td", {}, t.language),
    el("td", { class: "actions" },
      action("Edit", async () => { fillTemplateForm(t); $("#t-name").focus(); }),
      action("Delete", async () => { if (confirm(`Delete template ${t.id}?`)) { await api(`/api/templates/${t.id}`, { method: "DELETE" }); await loadTemplates(); } }, "danger")))));
  if (!custom.length) $("#templates tbody").append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No custom templates yet.")));
}

async function saveTemplate(ev) {
  ev.preventDefault();
  const body = {
    name: $("#t-name").value, language: $("#t-language").value, description: $("#t-description").value,
    prompt_hint: $("#t-hint").value,
    suggested_files: $("#t-files").value.split(",").map((s) => s.trim()).filter(Boolean),
  };
  try {
    if (editing) await api(`/api/templates/${editing}`, { method: "PATCH", body });
    else await api("/api/templates", { method: "POST", body: { id: $("#t-id").value, ...body } });
    flash(`Template ${editing || $("#t-id").value} saved.`);
    fillTemplateForm(null);
    await loadTemplates();
  } catch (e) { flash(`Could not save the template: ${e.message}`, "error"); }
}

async function main() {
  const s = initChrome();
  if (!s) return;
  if (s.user.role !== "admin") { $("#not-admin").hidden = false; return; }
  $("#admin").hidden = false;
  $("#days").addEventListener("change", () => loadCharts().catch((e) => flash(e.message, "error")));
  $("#aj-prev").addEventListener("click", () => { jobsOffset = Math.max(0, jobsOffset - PAGE); reloadJobs(); });
  $("#aj-next").addEventListener("click", () => { jobsOffset += PAGE; reloadJobs(); });
  $("#template-form").addEventListener("submit", saveTemplate);
  $("#t-reset").addEventListener("click", () => fillTemplateForm(null));
  $("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const u = await api("/admin/users", { method: "POST", body: { name: $("#user-name").value, role: $("#user-role").value } });
      $("#user-name").value = "";
      await loadUsers();
      if (u.api_key) showKey(u.name, u);
    } catch (e) { flash(`Could not create the user: ${e.message}`, "error"); }
  });
  const users = await loadUsers();
  await Promise.all([loadSystem(), loadCharts(), loadJobs(users), loadTemplates()]);
}

main().catch((e) => flash(`Could not load the dashboard: ${e.message}`, "error"));
