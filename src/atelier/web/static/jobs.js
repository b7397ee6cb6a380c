import { $, api, el, initChrome, fmtDuration, fmtTime, fmtTokens, statusBadge, verdictBadge, flash } from "./api.js";

const PAGE = 20;
const params = new URLSearchParams(location.search);
let offset = Number(params.get("offset") || 0);
$("#f-status").value = params.get("status") || "";
$("#f-q").value = params.get("q") || "";

async function load() {
  const query = new URLSearchParams({ limit: PAGE, offset });
  if ($("#f-status").value) query.set("status", $("#f-status").value);
  if ($("#f-q").value.trim()) query.set("q", $("#f-q").value.trim());
  const page = await api("/api/jobs?" + query);
  const body = $("#jobs-table tbody");
  body.replaceChildren(
    ...page.items.map((j) =>
      el("tr", { dataset: { jobId: j.job_id } },
        el("td", { class: "prompt-cell" }, el("a", { href: `/jobs/${j.job_id}`, title: j.prompt }, j.prompt || j.job_id)),
        el("td", {}, statusBadge(j.status)),
        el("td", {}, verdictBadge(j.verdict)),
        el("td", {}, fmtTime(j.created_at)),
        el("td", {}, fmtDuration(j.duration_s)),
        el("td", {}, fmtTokens(j.usage)),
      )),
  );
  const filtered = $("#f-status").value || $("#f-q").value.trim();
  const empty = filtered ? "No jobs match these filters." : "No jobs yet. Start a new project.";
  if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, empty)));
  const last = Math.min(offset + PAGE, page.total);
  $("#page-info").textContent = page.total ? `${offset + 1}–${last} of ${page.total}` : "";
  $("#prev").disabled = offset === 0;
  $("#next").disabled = offset + PAGE >= page.total;
}

function go() {
  const q = new URLSearchParams();
  if ($("#f-status").value) q.set("status", $("#f-status").value);
  if ($("#f-q").value.trim()) q.set("q", $("#f-q").value.trim());
  if (offset) q.set("offset", offset);
  history.replaceState(null, "", "/" + (q.toString() ? "?" + q : ""));
  load().catch((e) => flash(`Could not load jobs: ${e.message}`, "error"));
}

if (initChrome()) {
  $("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; go(); });
  $("#f-status").addEventListener("change", () => { offset = 0; go(); });
  $("#prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); go(); });
  $("#next").addEventListener("click", () => { offset += PAGE; go(); });
  go();
}
