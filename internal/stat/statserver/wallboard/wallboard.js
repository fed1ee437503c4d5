// parley wallboard: polls /wallboard/data with the admin token and shows
// the figures. No framework, no inline script or style (CSP default-src 'self').
"use strict";

const tokenKey = "parley.wallboard.token";
const statusEl = document.getElementById("status");
const board = document.getElementById("board");
const login = document.getElementById("login");
let timer = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function secs(v) {
  v = Math.round(v || 0);
  if (v < 60) return v + " s";
  return Math.floor(v / 60) + " min " + (v % 60) + " s";
}

function pct(v) { return (v || 0).toFixed(1) + " %"; }

function tile(label, figure) {
  const t = el("div", undefined, "tile");
  t.append(el("div", figure, "figure"), el("div", label, "label"));
  return t;
}

function render(d) {
  const tv = d.tenant.values;
  document.getElementById("tiles").replaceChildren(
    tile("Chats in queue", tv.ChatsInQueue || 0),
    tile("Agents ready", tv.AgentsReady || 0),
    tile("Agents busy", tv.AgentsBusy || 0),
    tile("Agents not ready", tv.AgentsNotReady || 0),
    tile("Service level today", pct(tv.ServiceLevel)));
  const qs = document.querySelector("#queues tbody");
  qs.replaceChildren(...d.queues.map((q) => {
    const v = q.values, tr = el("tr");
    tr.dataset.queue = q.id;
    tr.append(el("td", q.id), el("td", v.ChatsInQueue || 0, "num"), el("td", secs(v.LongestWait), "num"),
      el("td", v.ChatsHandled || 0, "num"), el("td", v.ChatsAbandoned || 0, "num"),
      el("td", secs(v.AverageHandleTime), "num"), el("td", pct(v.ServiceLevel), "num"));
    return tr;
  }));
  const as = document.querySelector("#agents tbody");
  as.replaceChildren(...d.agents.map((a) => {
    const state = (a.states && a.states.AgentState) || "LoggedOut", tr = el("tr");
    tr.dataset.agent = a.id;
    tr.append(el("td", a.id), el("td", state, "state-" + state), el("td", a.values.ChatsInProgress || 0, "num"),
      el("td", a.values.ChatsHandled || 0, "num"));
    return tr;
  }));
  statusEl.textContent = (d.streamUp ? "live" : "reporting stream lost") + " · event " + d.lastEventId +
    " · " + new Date(d.time).toLocaleTimeString();
  statusEl.classList.toggle("down", !d.streamUp);
}

async function poll() {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) { showLogin(); return; }
  try {
    const r = await fetch("data", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    if (r.status === 401 || r.status === 403) { sessionStorage.removeItem(tokenKey); showLogin(); return; }
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    board.hidden = false;
  } catch (e) {
    statusEl.textContent = "stat server unreachable (" + e.message + ")";
    statusEl.classList.add("down");
  }
  timer = setTimeout(poll, 1000);
}

function showLogin() {
  board.hidden = true;
  login.hidden = false;
  statusEl.textContent = "admin token needed";
}

login.addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(tokenKey, document.getElementById("token").value.trim());
  login.hidden = true;
  clearTimeout(timer);
  poll();
});

// A token in the fragment (#token=...) is taken once and dropped from the URL.
const m = /token=([^&]+)/.exec(location.hash);
if (m) {
  sessionStorage.setItem(tokenKey, decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname);
}
poll();
