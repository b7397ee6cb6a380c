import { $, flash, saveSession, ApiError } from "./api.js";

const params = new URLSearchParams(location.search);
if (params.get("reason")) flash(params.get("reason"), "info");
$("#api-key").focus();

$("#signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = $("#api-key").value.trim();
  if (!key) return;
  try {
    const r = await fetch("/api/validate-key", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ api_key: key }),
    });
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
    saveSession(await r.json());
    const next = params.get("next");
    location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  } catch (err) {
    flash(err.status === 401 ? "That key is not valid (unknown or revoked)." : `Sign-in failed: ${err.message}`, "error");
  }
});
