// One job's events over the WebSocket: replayed from the log, then live; after a
// dropped connection it reconnects by itself and asks only for what it missed (since=).

import { session, signOut } from "./api.js";

export class LiveJob {
  constructor(jobId, { onEvent, onState, onNotFound }) {
    this.jobId = jobId;
    this.lastSeq = 0;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.onNotFound = onNotFound || (() => {});
    this.stopped = false;
    this.retry = 0;
    this.ws = null;
  }

  start() {
    const s = session();
    if (!s) return signOut("Sign in to continue.");
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(s.token)}`);
    this.ws = ws;
    this.onState(this.retry ? "reconnecting" : "connecting");
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ action: "subscribe", job_id: this.jobId, since: this.lastSeq }));
    });
    ws.addEventListener("message", (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch { return; }
      if (data.type === "event" && data.event.job_id === this.jobId) {
        if (data.event.seq > this.lastSeq) {
          this.lastSeq = data.event.seq;
          this.onEvent(data.event);
        }
      } else if (data.type === "subscribed") {
        this.retry = 0;
        this.onState("live", data);
      } else if (data.type === "error" && data.error === "not_found") {
        this.stop();
        this.onNotFound();
      } else if (data.type === "error" && data.error === "unauthorized") {
        this.stop();
        signOut("Your session has ended (expired or the key was revoked). Sign in again.");
      }
    });
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      if (ev.code === 4401) {
        this.stopped = true;
        signOut("Your session has ended (expired or the key was revoked). Sign in again.");
        return;
      }
      if (this.stopped) return;
      this.onState("reconnecting");
      const delay = Math.min(5000, 250 * 2 ** this.retry++);
      setTimeout(() => { if (!this.stopped) this.start(); }, delay);
    });
  }

  /** Drop the connection as a network failure would (the page reconnects by itself). */
  drop() {
    if (this.ws) this.ws.close();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}
