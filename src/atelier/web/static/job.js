import { $, api, el, initChrome, flash, fmtDuration, statusBadge } from "./api.js";
import { LiveJob } from "./live.js";
import { FilesPanel } from "./files.js";
import { renderMarkdown } from "./markdown.js";

const STEPS = ["plan", "code", "test", "fix", "review", "docs", "package"];
const AGENTS = { plan: "planner", code: "coder", test: "tester", fix: "coder", review: "reviewer", docs: "documenter", package: "—" };
const TERMINAL = ["succeeded", "failed", "cancelled"];
const jobId = decodeURIComponent(location.pathname.split("/")[2] || "");
const steps = Object.fromEntries(STEPS.map((s) => [s, { state: "pending", agent: null, duration: null, startedTs: null }]));
let job = null;
let status = "queued";
let finishedShown = false;
let files = null;
let live = null;

function renderTimeline() {
  const list = $("#timeline");
  if (!list.children.length) {
    list.append(...STEPS.map((s) => el("li", { id: `step-${s}`, dataset: { step: s, state: "pending" } },
      el("span", { class: "icon", "aria-hidden": "true" }), el("span", { class: "name" }, s),
      el("span", { class: "agent" }), el("span", { class: "dur" }))));
  }
  for (const s of STEPS) renderStep(s);
}

function renderStep(name, eventTs) {
  const st = steps[name];
  const li = $(`#step-${name}`);
  if (!li) return;
  li.dataset.state = st.state;
  li.setAttribute("aria-label", `${name}: ${st.state}`);
  li.querySelector(".agent").textContent = st.state === "running" ? `${st.agent || AGENTS[name]} at work` : (st.agent || AGENTS[name]);
  li.querySelector(".dur").textContent = st.state === "done" ? fmtDuration(st.duration) : st.state;
  if (eventTs) {
    // When the server finished the step (event ts) and when this page showed it: the
    // UI latency benchmark reads both.
    li.dataset.eventTs = String(Math.round(eventTs * 1000));
    li.dataset.shownAt = String(Date.now());
  }
}

function setStatus(next) {
  status = next;
  $("#status").replaceWith(Object.assign(statusBadge(next), { id: "status" }));
  $("#cancel").hidden = TERMINAL.includes(next);
}

function setProgress(p) {
  const pct = Math.round((p || 0) * 100);
  $("#progress-bar").style.width = pct + "%";
  $("#progress").setAttribute("aria-valuenow", pct);
  $("#progress").title = `${pct}%`;
}

function setUsage(u) {
  if (!u) return;
  const tokens = (u.prompt_tokens || 0) + (u.completion_tokens || 0);
  $("#usage").textContent = `${u.calls || 0} model calls · ${tokens.toLocaleString()} tokens (${(u.prompt_tokens || 0).toLocaleString()} in, ${(u.completion_tokens || 0).toLocaleString()} out) · $${Number(u.cost_usd || 0).toFixed(4)}`;
}

function addRound(d) {
  const failing = d.failing || [];
  const bad = (d.failed || 0) + (d.errors || 0);
  const card = el("div", { class: "round", dataset: { round: d.round } },
    el("strong", {}, `Round ${d.round}`), " ",
    el("span", { class: bad ? "v-failing" : "v-verified" }, `${d.passed} passed, ${d.failed} failed, ${d.errors} errors`),
    d.skipped ? ` , ${d.skipped} skipped` : "", d.timed_out ? " — timed out" : "",
    el("span", { class: "muted" }, ` · strategy ${d.strategy || "–"} · ${fmtDuration(d.duration_s)}`),
    failing.length ? el("ul", {}, ...failing.map((f) => el("li", {}, el("code", {}, f.name), " ", f.outcome,
      f.message ? el("pre", {}, f.message) : null))) : null,
    d.output_tail ? el("details", {}, el("summary", {}, "Output"), el("pre", {}, d.output_tail)) : null);
  $("#rounds").append(card);
}

function addDeps(d) {
  $("#deps-section").hidden = false;
  const installed = d.installed || [];
  $("#deps").append(el("div", { class: "round" },
    el("strong", {}, `${d.language || ""} environment`), d.reused ? " (reused)" : "",
    el("p", {}, installed.length ? installed.map((p) => `${p.name} ${p.version || ""}`.trim()).join(", ") : "no packages"),
    (d.findings || []).length ? el("ul", {}, ...(d.findings || []).map((f) => el("li", {}, `${f.package || f.name || ""} ${f.message || f.reason || JSON.stringify(f)}`))) : null));
}

function addFinding(d) {
  const list = $("#findings");
  if (list.querySelector(".muted")) list.replaceChildren();
  list.append(el("li", {}, el("span", { class: "sev" }, d.severity || "info"), " ",
    el("code", {}, `${d.path || ""}${d.line ? ":" + d.line : ""}`), " ", d.message || ""));
}

function onEvent(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case "job_started":
      if (!TERMINAL.includes(status)) setStatus("running");
      break;
    case "step_started":
      if (steps[ev.step]) { steps[ev.step].state = "running"; steps[ev.step].startedTs = ev.ts; renderStep(ev.step); }
      if (status === "queued") setStatus("running");
      break;
    case "step_finished":
      if (steps[ev.step]) { Object.assign(steps[ev.step], { state: "done", duration: d.duration_s }); renderStep(ev.step, ev.ts); }
      setProgress(d.progress);
      setUsage(d.usage);
      break;
    case "agent_call":
      if (steps[ev.step]) { steps[ev.step].agent = d.agent; renderStep(ev.step); }
      setUsage(d.usage);
      break;
    case "file_written":
      $("#written").append(el("li", { dataset: { path: d.path } }, d.path, " ", el("small", {}, `${d.size} B · ${d.by || ""} · ${ev.step || ""}`)));
      break;
    case "test_run": addRound(d); break;
    case "dependencies_installed": addDeps(d); break;
    case "finding": addFinding(d); break;
    case "budget_exhausted": flash(`Budget exhausted: ${d.budget || ""}`, "error"); break;
    case "job_finished":
      setStatus(d.status);
      setUsage(d.usage);
      for (const s of STEPS) if (steps[s].state === "running") { steps[s].state = d.status === "succeeded" ? "done" : "failed"; renderStep(s); }
      for (const s of STEPS) if (steps[s].state === "pending") { steps[s].state = "skipped"; renderStep(s); }
      refresh().catch((e) => flash(e.message, "error"));
      break;
    default:
  }
}

function showVerdict(j) {
  const box = $("#verdict");
  if (!j.verdict) { box.hidden = true; return; }
  const d = j.verdict_detail || {};
  const word = { verified: "VERIFIED", failing: "FAILING", untested: "UNTESTED" }[j.verdict] || j.verdict;
  const total = (d.passed || 0) + (d.failed || 0) + (d.errors || 0);
  const line = j.verdict === "verified" ? `all ${total} tests pass` : (d.reason || "");
  box.className = `verdict v-${j.verdict}`;
  box.dataset.verdict = j.verdict;
  const failing = (d.failing_tests || []).map((t) => el("li", {}, el("code", {}, t)));
  box.replaceChildren(el("strong", {}, word), " — ", line, ...(failing.length ? [el("ul", {}, ...failing)] : []));
  box.hidden = false;
}

async function refresh() {
  job = await api(`/api/jobs/${jobId}`);
  setStatus(job.status);
  setProgress(job.progress);
  setUsage(job.usage);
  $("#job-title").textContent = job.parent_job_id ? `Revision of ${job.parent_job_id.slice(0, 8)}` : `Job ${job.job_id.slice(0, 8)}`;
  $("#prompt").textContent = job.instructions ? `${job.instructions}\n\n(original: ${job.prompt})` : job.prompt;
  if (TERMINAL.includes(job.status)) {
    showVerdict(job);
    if (job.error) flash(`${job.status}: ${job.error}`, job.status === "failed" ? "error" : "info");
    if (!finishedShown && job.versions.length) {
      finishedShown = true;
      await files.setVersions(job.versions);
      const rep = await api(`/api/jobs/${jobId}/report`);
      $("#report").replaceChildren(renderMarkdown(rep.markdown));
      $("#report-section").hidden = false;
    }
  }
}

async function main() {
  if (!initChrome()) return;
  renderTimeline();
  try {
    await refresh();
  } catch (e) {
    if (e.status === 404) { $("#job-missing").hidden = false; document.title = "Not found · Atelier"; return; }
    throw e;
  }
  $("#job").hidden = false;
  performance.mark("atelier:job-shown");
  document.title = `${$("#job-title").textContent} · Atelier`;
  live = new LiveJob(jobId, {
    onEvent,
    onState: (s) => {
      document.body.dataset.live = s;
      // From here on events arrive live (the UI latency benchmark counts only those).
      if (s === "live" && !document.body.dataset.liveAt) {
        document.body.dataset.liveAt = String(Date.now());
        performance.mark("atelier:timeline-caught-up");
      }
    },
    onNotFound: () => { $("#job").hidden = true; $("#job-missing").hidden = false; },
  });
  live.start();
  window.atelierLive = live;
}

files = new FilesPanel(jobId);
$("#cancel").addEventListener("click", async () => {
  try {
    await api(`/api/jobs/${jobId}/cancel`, { method: "POST" });
    flash("Cancelling…");
  } catch (e) { flash(`Could not cancel: ${e.message}`, "error"); }
});
$("#revise-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await api(`/api/jobs/${jobId}/revise`, { method: "POST", body: { instructions: $("#instructions").value } });
    location.assign(`/jobs/${r.job_id}`);
  } catch (e) { flash(`Could not revise: ${e.message}`, "error"); }
});
main().catch((e) => flash(`Could not load the job: ${e.message}`, "error"));

