import { $, api, el, initChrome, flash, fmtBytes } from "./api.js";

function pickTemplate(t, button) {
  for (const b of document.querySelectorAll("#templates button")) b.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-pressed", "true");
  $("#template").value = t.id;
  $("#prompt").value = t.prompt_hint || t.description || "";
  if (t.language) $("#language").value = ["python", "javascript"].includes(t.language) ? t.language : "";
  $("#template-note").textContent = `Template: ${t.name}` + (t.suggested_files.length ? ` — files: ${t.suggested_files.join(", ")}` : "");
  $("#prompt").focus();
}

async function loadTemplates() {
  const templates = await api("/api/templates");
  $("#templates").replaceChildren(
    ...templates.map((t) => {
      const b = el("button", { type: "button", "aria-pressed": "false", dataset: { template: t.id } },
        el("strong", {}, t.name), el("small", {}, `${t.language}${t.builtin ? "" : " · custom"}`),
        el("span", { class: "muted" }, " ", t.description));
      b.addEventListener("click", () => pickTemplate(t, b));
      return b;
    }),
  );
}

async function loadModels() {
  const data = await api("/api/models");
  const select = $("#model");
  select.replaceChildren(el("option", { value: "" }, `default (${data.default_model || data.provider})`));
  for (const m of data.models) {
    const state = m.installed ? "installed" : "not installed";
    select.append(el("option", { value: m.id, disabled: !m.installed && data.provider === "local" },
      `${m.id} — ${fmtBytes(m.size_bytes)}, ${state}${m.default ? ", default" : ""}`));
  }
}

function num(id) {
  const v = $(id).value.trim();
  return v === "" ? undefined : Number(v);
}

async function submit(ev) {
  ev.preventDefault();
  const options = {
    review: $("#review").checked,
    docs: $("#docs").checked,
  };
  if ($("#model").value) options.model = $("#model").value;
  if ($("#strategy").value) options.strategy = $("#strategy").value;
  for (const k of ["max_fix_rounds", "max_tokens", "max_cost_usd", "max_wall_time_s"]) {
    const v = num("#" + k);
    if (v !== undefined) options[k] = v;
  }
  const body = { prompt: $("#prompt").value, options };
  if ($("#template").value) body.template = $("#template").value;
  if ($("#language").value) body.language = $("#language").value;
  try {
    const r = await api("/api/jobs", { method: "POST", body });
    location.assign(`/jobs/${r.job_id}`);
  } catch (e) {
    flash(`Could not start the job: ${e.message}`, "error");
  }
}

if (initChrome()) {
  $("#new-form").addEventListener("submit", submit);
  Promise.all([loadTemplates(), loadModels()]).catch((e) => flash(`Could not load the form: ${e.message}`, "error"));
}
