// parley agent desktop. It talks to the web API's bridge at /desktop/ws in
// parley's wire protocol: JSON messages {name, ref, body}, one per line in a
// WebSocket text frame; a request gets EventAck or EventError with its ref,
// events come with no ref. docs/desktop.md describes every message.

const $ = (sel, root = document) => root.querySelector(sel);

// friendly turns a bridge error into a sentence for the agent.
const messages = {
  2105: "Wrong agent id or password.",
  2111: "That agent is not available (logged out or at capacity).",
  2104: "There is no such agent.",
  2102: "There is no such queue.",
  2107: "The invitation is no longer valid.",
  108: "The server did not answer in time. Try again.",
};
function friendly(err) {
  if (err && messages[err.code]) return messages[err.code];
  const text = (err && err.text) || "Something went wrong. Try again.";
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

function showAlert(text) {
  const el = $("#alert");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(showAlert.timer);
  showAlert.timer = setTimeout(() => { el.hidden = true; }, 8000);
}

// Bridge is the WebSocket to the web API, with request/reply by ref.
class Bridge {
  constructor(onEvent, onClose) {
    this.ref = 0;
    this.pending = new Map();
    this.onEvent = onEvent;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocket(`${proto}//${location.host}/desktop/ws`);
    this.open = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject({ code: 106, text: "The server is not reachable. Try again." });
    });
    this.ws.onmessage = (e) => String(e.data).split("\n").forEach((line) => line.trim() && this.receive(JSON.parse(line)));
    this.ws.onclose = () => {
      for (const p of this.pending.values()) p.reject({ code: 106, text: "The connection to the server was lost." });
      this.pending.clear();
      onClose();
    };
  }

  receive(m) {
    const p = m.ref && this.pending.get(m.ref);
    if (p) {
      this.pending.delete(m.ref);
      if (m.name === "EventError") p.reject(m.body || {});
      else p.resolve(m.body || {});
      return;
    }
    this.onEvent(m.name, m.body || {});
  }

  async request(name, body = {}) {
    await this.open;
    const ref = ++this.ref;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify({ name, ref, body }));
    });
  }

  close() { this.ws.close(); }
}

const state = { bridge: null, agent: "", capacity: 0, ready: false, reason: "", chats: new Map(), invites: new Map(), current: "", loggingOut: false,
  dispositions: [], audio: null };

// systemProps are the interaction properties parley sets itself, not
// the customer's userData, and Nickname and Subject, which the chat's
// heading shows.
const systemProps = /^(ChatServer|ChatSession|GCTI|Queue|EstimatedWait|Parley|Nickname$|Subject$)/;

function customerName(props = {}) {
  return props.Nickname || [props.FirstName, props.LastName].filter(Boolean).join(" ") || "Customer";
}

function clock(ms) {
  const d = ms ? new Date(ms) : new Date();
  return { iso: d.toISOString(), text: d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) };
}

// ---- login and agent state ----

async function login(e) {
  e.preventDefault();
  const agentId = $("#agent-id").value.trim();
  const password = $("#password").value;
  $("#login-button").disabled = true;
  state.loggingOut = false;
  state.bridge = new Bridge(onEvent, onClosed);
  try {
    const reply = await state.bridge.request("RequestAgentLogin", { agentId, password });
    $("#password").value = "";
    state.agent = reply.agentId || agentId;
    state.capacity = reply.capacity || 0;
    state.dispositions = reply.dispositionCodes || [];
    prepareAlerts();
    $("#agent-name").textContent = state.agent;
    showState(reply);
    showMediaState(reply.status, reply.reasons || []); // no reasons configured: the menu's
    $("#login").hidden = true;
    $("#agent-bar").hidden = false;
    $("#work").hidden = false;
    $("#alert").hidden = true;
    // The chats the agent still held when its connection was lost (its web
    // API or the interaction server failed): the bridge has joined them
    // again and sent their transcripts; no invitation comes for them.
    for (const held of reply.interactions || []) openChat(held.interactionId, held.properties).loadHistory();
    updateLoad();
    refreshWorkbin();
  } catch (err) {
    showAlert(friendly(err));
    state.bridge.close();
  } finally {
    $("#login-button").disabled = false;
  }
}

function onClosed() {
  if (!state.agent) return;
  if (!state.loggingOut) showAlert("You were disconnected from the server. Log in again.");
  state.agent = "";
  state.chats.clear();
  state.invites.forEach((inv) => clearInterval(inv.timer));
  state.invites.clear();
  $("#tabs").replaceChildren();
  $("#panels").replaceChildren();
  $("#invites").replaceChildren();
  $("#workbin").replaceChildren();
  $("#overview-queues").replaceChildren();
  $("#overview-agents").replaceChildren();
  $("#agent-bar").hidden = true;
  $("#work").hidden = true;
  $("#login").hidden = false;
  $("#agent-id").focus();
}

// showState selects the agent's state in the menu. A reason that is not
// one of the menu's (set by an earlier login of the agent, or through the
// interaction server) gets an option of its own rather than a blank menu.
function showState(agent) {
  state.ready = agent.ready;
  state.reason = agent.reason || "";
  const menu = $("#state");
  const value = agent.ready ? "ready" : (agent.reason || "");
  if (![...menu.options].some((o) => o.value === value)) {
    menu.append(new Option(value ? `Not ready: ${value}` : "Not ready", value));
  }
  menu.value = value;
  menu.dataset.server = value; // what the server confirmed
}

// showMediaState shows the agent's chat state and do-not-disturb as the
// interaction server knows them; reasons (at login) are the Not Ready
// reasons configured for the agent's tenant, else the whole-agent menu's.
function showMediaState(status, reasons) {
  const menu = $("#chat-state");
  if (reasons) {
    const list = reasons.length ? reasons.map((r) => [r.code, r.label])
      : [...$("#state").options].filter((o) => o.value !== "ready").map((o) => [o.value, o.textContent.replace("Not ready: ", "")]);
    menu.replaceChildren(new Option("Ready for chat", "ready"), ...list.map(([code, label]) => new Option(`Not ready for chat: ${label}`, code)));
  }
  if (!status) return;
  const chat = (status.media || []).find((m) => m.mediaType === "chat");
  const value = !chat || chat.ready ? "ready" : (chat.reason || "");
  if (![...menu.options].some((o) => o.value === value)) menu.append(new Option(`Not ready for chat: ${value}`, value));
  menu.value = value;
  menu.dataset.server = value; // what the server confirmed
  $("#dnd").checked = !!status.dnd;
}

async function changeMediaState() {
  const v = $("#chat-state").value;
  try {
    const reply = v === "ready"
      ? await state.bridge.request("RequestCancelNotReadyForMedia", { mediaType: "chat" })
      : await state.bridge.request("RequestNotReadyForMedia", { mediaType: "chat", reason: v });
    showMediaState(reply.status);
  } catch (err) {
    showAlert(friendly(err));
  }
}

async function changeDND() {
  try {
    const reply = await state.bridge.request($("#dnd").checked ? "RequestDoNotDisturbOn" : "RequestDoNotDisturbOff");
    showMediaState(reply.status);
  } catch (err) {
    $("#dnd").checked = !$("#dnd").checked;
    showAlert(friendly(err));
  }
}

async function changeState() {
  const v = $("#state").value;
  try {
    const reply = v === "ready"
      ? await state.bridge.request("RequestAgentAvailable")
      : await state.bridge.request("RequestAgentNotAvailable", { reason: v });
    showState(reply);
  } catch (err) {
    showState(state); // the agent's state did not change
    showAlert(friendly(err));
  }
}

async function logout() {
  state.loggingOut = true;
  try { await state.bridge.request("RequestAgentLogout"); } catch { /* the close follows */ }
  state.bridge.close();
}

function updateLoad() {
  const open = [...state.chats.values()].filter((c) => !c.done && !c.mode).length; // a supervised chat is not the agent's load
  $("#load").textContent = `${open} of ${state.capacity} chats`;
  $("#no-chats").hidden = state.chats.size > 0;
}

// ---- events ----

function onEvent(name, body) {
  switch (name) {
    case "EventInvite": return addInvite(body);
    case "EventCurrentAgentStatus": return showMediaState(body.status);
    case "EventRevoked": return removeInvite(body.interactionId, "The invitation was withdrawn.");
    case "EventRejected": return showAlert(`${body.agentId || "The agent"} did not take the chat.`);
    case "EventSessionInfo": return chatEvents(body);
    case "EventLocationChanged": return moved(body);
    case "EventPartyAdded": return partyNote(body, "joined");
    case "EventPartyRemoved": return partyRemoved(body);
    case "EventProcessingStopped": return chatDone(body.interactionId, "The chat was closed.");
    case "EventWorkbinContentChanged": return refreshWorkbin();
    case "EventError": return chatError(body);
    case "EventAgentLogout":
    case "EventForcedDisconnect":
      return showAlert(body.reason || "You were logged out.");
  }
}

// ---- invitations ----

function addInvite(body) {
  const id = body.interactionId;
  removeInvite(id);
  const props = body.properties || {};
  const li = document.createElement("li");
  li.dataset.id = id;
  li.className = "invite";
  const what = { transfer: "Transfer", conference: "Conference" }[body.kind] || "Chat";
  const from = body.fromAgentId ? ` from ${body.fromAgentId}` : "";
  li.innerHTML = `<div><b></b> <span class="subject"></span></div><div class="countdown" aria-live="off"></div>
    <div class="row"><button type="button" class="accept">Accept</button><button type="button" class="reject secondary">Reject</button></div>`;
  $("b", li).textContent = `${what}${from}: ${customerName(props)}`;
  $(".subject", li).textContent = props.Subject ? `(${props.Subject})` : "";
  const deadline = Date.now() + (body.timeout || 30) * 1000;
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $(".countdown", li).textContent = `${left} s left to accept`;
    if (left === 0) removeInvite(id, "An invitation timed out.");
  };
  tick();
  const inv = { timer: setInterval(tick, 1000), props, li };
  state.invites.set(id, inv);
  $(".accept", li).onclick = () => accept(id);
  $(".reject", li).onclick = () => reject(id);
  $("#invites").append(li);
  $("#no-invites").hidden = true;
  $(".accept", li).focus();
  alertInvite(id, `${what}${from}: ${customerName(props)}`, props.Subject || "");
}

// prepareAlerts asks, at login (a click: browsers allow it then), for
// desktop notifications, and prepares the tone of a new invitation.
function prepareAlerts() {
  if (typeof Notification !== "undefined" && Notification.permission === "default") Notification.requestPermission().catch(() => {});
  if (!state.audio && typeof AudioContext !== "undefined") {
    try { state.audio = new AudioContext(); } catch { state.audio = null; }
  }
}

// alertInvite rings and, when the agent allowed it, shows a desktop
// notification that brings the desktop forward when clicked.
function alertInvite(id, title, body) {
  if (state.audio) {
    const t = state.audio.currentTime;
    for (const [i, f] of [660, 880].entries()) {
      const osc = state.audio.createOscillator();
      const gain = state.audio.createGain();
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.1, t + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, t + i * 0.18 + 0.16);
      osc.connect(gain).connect(state.audio.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.16);
    }
  }
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body, tag: `invite-${id}` });
    n.onclick = () => { window.focus(); n.close(); };
  } catch { /* a browser that allows notifications only from a service worker */ }
}

function removeInvite(id, why) {
  const inv = state.invites.get(id);
  if (!inv) return;
  clearInterval(inv.timer);
  inv.li.remove();
  state.invites.delete(id);
  $("#no-invites").hidden = state.invites.size > 0;
  if (why) showAlert(why);
}

async function accept(id) {
  const inv = state.invites.get(id);
  try {
    const reply = await state.bridge.request("RequestAccept", { interactionId: id });
    removeInvite(id);
    const chat = openChat(id, (reply.interaction || {}).properties || (inv && inv.props));
    chat.loadHistory();
    select(chat.id);
    $(".entry", chat.panel).focus();
  } catch (err) {
    removeInvite(id);
    showAlert(friendly(err));
  }
}

async function reject(id) {
  try { await state.bridge.request("RequestReject", { interactionId: id }); } catch (err) { showAlert(friendly(err)); }
  removeInvite(id);
}

// ---- chats ----

function openChat(id, props) {
  let chat = state.chats.get(id);
  if (chat) {
    if (props) chat.setProps(props);
    if (chat.done) chat.reopen();
    return chat;
  }
  chat = new Chat(id, props);
  state.chats.set(id, chat);
  if (!state.current) select(id);
  updateLoad();
  return chat;
}

function select(id) {
  state.current = id;
  for (const chat of state.chats.values()) {
    const on = chat.id === id;
    chat.tab.setAttribute("aria-selected", String(on));
    chat.tab.tabIndex = on ? 0 : -1;
    chat.panel.hidden = !on;
    if (on) chat.tab.classList.remove("unread");
  }
}

class Chat {
  constructor(id, props) {
    this.id = id;
    this.events = new Map(); // index -> li, so that a resend after a move is not shown twice
    this.parties = new Map();
    this.rejoining = new Set(); // participantIds that left with reason 8 and have not joined again
    this.done = false;
    this.typingTimer = 0;
    this.tab = document.createElement("button");
    this.tab.type = "button";
    this.tab.setAttribute("role", "tab");
    this.tab.id = `tab-${id}`;
    this.tab.dataset.id = id;
    this.tab.onclick = () => select(id);
    this.tab.onkeydown = (e) => tabKeys(e, id);
    this.panel = $("#chat-template").content.firstElementChild.cloneNode(true);
    this.panel.id = `chat-${id}`;
    this.panel.dataset.id = id;
    this.panel.setAttribute("aria-labelledby", this.tab.id);
    this.tab.setAttribute("aria-controls", this.panel.id);
    const textId = `text-${id}`;
    $(".entry", this.panel).id = textId;
    $("label.sr", this.panel).htmlFor = textId;
    this.setProps(props);
    this.wire();
    $("#tabs").append(this.tab);
    $("#panels").append(this.panel);
  }

  setProps(props = {}) {
    this.props = props;
    this.tab.textContent = customerName(props);
    $(".customer", this.panel).textContent = customerName(props) + (props.Subject ? ` — ${props.Subject}` : "");
    if (props.ChatServerApplication) this.setServer(props.ChatServerApplication);
    this.showUserData(props);
  }

  // showUserData lists what the customer gave (the pre-chat form's fields
  // and their userData), leaving out what parley keeps for itself.
  showUserData(props) {
    const dl = $(".userdata", this.panel);
    dl.replaceChildren();
    for (const key of Object.keys(props).sort()) {
      if (systemProps.test(key) || !props[key]) continue;
      const dt = document.createElement("dt");
      dt.textContent = key;
      const dd = document.createElement("dd");
      dd.textContent = props[key];
      dl.append(dt, dd);
    }
  }

  setServer(name) { $(".server", this.panel).textContent = `on ${name}`; }

  wire() {
    const p = this.panel;
    const text = $(".entry", p);
    $(".composer", p).onsubmit = (e) => { e.preventDefault(); this.send(); };
    text.onkeydown = (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.send(); }
      if (e.key === "/" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $(".response-search", p).focus(); }
    };
    this.wireResponses();
    text.oninput = () => this.typing();
    $(".transfer-agent", p).onclick = () => this.act("RequestTransfer", { agentId: this.target() }, "Transfer sent; the chat leaves you when it is accepted.");
    $(".transfer-queue", p).onclick = () => this.act("RequestTransfer", { queue: this.target() }, "The chat went back to the queue.");
    $(".conference", p).onclick = () => this.act("RequestConference", { agentId: this.target() }, "Conference invitation sent.");
    $(".hold", p).onclick = () => this.act("RequestPlaceInWorkbin", {}, "The chat is on hold in your workbin.");
    $(".end", p).onclick = () => this.askWrapUp("Pick a disposition, then Done to end the chat.");
    $(".done", p).onclick = () => this.wrapUp();
    $(".close", p).onclick = () => this.remove();
    $(".leave", p).onclick = () => this.leave();
  }

  // supervise shows the chat as a supervisor joined it: monitoring (VIP,
  // nothing to send), coaching (every message INT: the customer never sees
  // it) or barged in (messages to all); the agent's controls are hidden and
  // Leave the chat replaces them.
  supervise(vis) {
    this.mode = vis;
    const p = this.panel;
    const what = { VIP: "Monitoring silently: the customer does not see you; you send nothing.",
      INT: "Coaching: your messages go to the agent only.", ALL: "Barged in: your messages reach the customer." }[vis];
    $(".supervising", p).textContent = what;
    $(".supervising", p).hidden = false;
    this.tab.textContent = `${customerName(this.props)} (${{ VIP: "monitor", INT: "coach", ALL: "barge-in" }[vis]})`;
    for (const el of p.querySelectorAll(".actions .action-row:first-child, .hold, .end, .responses, .response-new")) el.hidden = true;
    $(".leave", p).hidden = false;
    $(".composer", p).hidden = vis === "VIP";
    const internal = $(".internal", p);
    internal.checked = vis === "INT";
    internal.disabled = vis === "INT";
    updateLoad();
  }

  // leave takes the supervisor out of the chat; the chat goes on.
  async leave() {
    this.ending = true;
    try {
      await state.bridge.request("RequestReleaseParty", { interactionId: this.id });
      this.remove();
      $("#supervisor summary").focus(); // keyboard users go back to the live chats
    } catch (err) {
      this.ending = false;
      showAlert(friendly(err));
    }
  }

  target() { return $(".target", this.panel).value.trim(); }

  // wireResponses sets up the standard responses: the search field lists
  // those matching as the agent types (arrows pick, Enter inserts into the
  // message, Escape goes back to it), and Save keeps the message as a new
  // one.
  wireResponses() {
    const p = this.panel;
    const search = $(".response-search", p);
    const list = $(".response-list", p);
    let timer = 0;
    let active = 0;
    list.id = `responses-${this.id}`;
    Object.entries({ role: "combobox", "aria-controls": list.id, "aria-autocomplete": "list", "aria-expanded": "false" })
      .forEach(([k, v]) => search.setAttribute(k, v));
    const show = (on) => {
      list.hidden = !on;
      search.setAttribute("aria-expanded", String(on));
    };
    const mark = () => [...list.children].forEach((li, i) => {
      li.setAttribute("aria-selected", String(i === active));
      if (i === active) search.setAttribute("aria-activedescendant", li.id);
    });
    const find = async () => {
      try {
        const reply = await state.bridge.request("RequestGetStandardResponses", { interactionId: this.id, query: search.value });
        list.replaceChildren(...(reply.responses || []).map((r, i) => {
          const li = document.createElement("li");
          li.setAttribute("role", "option");
          li.id = `${list.id}-${i}`;
          li.dataset.text = r.text;
          const name = document.createElement("b");
          name.textContent = r.name;
          li.append(name, ` — ${r.text}`);
          li.onmousedown = (e) => { e.preventDefault(); this.insertResponse(r.text); };
          return li;
        }));
        active = 0;
        mark();
        show(list.children.length > 0);
      } catch (err) {
        showAlert(friendly(err));
      }
    };
    search.onfocus = find;
    search.oninput = () => { clearTimeout(timer); timer = setTimeout(find, 150); };
    search.onblur = () => show(false);
    search.onkeydown = (e) => {
      const n = list.children.length;
      if (e.key === "ArrowDown" && n) { e.preventDefault(); active = (active + 1) % n; mark(); }
      if (e.key === "ArrowUp" && n) { e.preventDefault(); active = (active - 1 + n) % n; mark(); }
      if (e.key === "Enter") { e.preventDefault(); if (n) this.insertResponse(list.children[active].dataset.text); }
      if (e.key === "Escape") { e.preventDefault(); search.value = ""; $(".entry", p).focus(); }
    };
    $(".response-save", p).onclick = () => this.saveResponse();
  }

  // insert puts a standard response into the message, after what is there.
  insertResponse(text) {
    const entry = $(".entry", this.panel);
    entry.value = entry.value.trim() ? `${entry.value.trimEnd()} ${text}` : text;
    $(".response-search", this.panel).value = "";
    entry.focus(); // the search's blur closes its list
    entry.setSelectionRange(entry.value.length, entry.value.length);
  }

  async saveResponse() {
    const name = $(".response-name", this.panel);
    const text = $(".entry", this.panel).value.trim();
    if (!name.value.trim() || !text) {
      showAlert("Type the message and a name for the response first.");
      return;
    }
    try {
      await state.bridge.request("RequestSaveStandardResponse", { interactionId: this.id, name: name.value.trim(), text });
      this.note(`Saved the standard response "${name.value.trim()}".`);
      name.value = "";
    } catch (err) {
      showAlert(friendly(err));
    }
  }

  async act(name, body, done) {
    try {
      await state.bridge.request(name, { interactionId: this.id, ...body });
      this.note(done);
    } catch (err) {
      showAlert(friendly(err));
    }
  }

  async send() {
    const text = $(".entry", this.panel);
    const value = text.value.trim();
    if (!value || this.done) return;
    const internal = $(".internal", this.panel).checked;
    try {
      clearTimeout(this.typingTimer);
      this.typingTimer = 0;
      await state.bridge.request("RequestMessage", { interactionId: this.id, text: value, visibility: internal ? "INT" : "ALL" });
      text.value = "";
    } catch (err) {
      showAlert(friendly(err));
    }
  }

  // typing sends TypingStarted once, and TypingStopped after 3 s without input.
  typing() {
    if (this.done) return;
    if (!this.typingTimer) this.notice("TypingStarted");
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typingTimer = 0; this.notice("TypingStopped"); }, 3000);
  }

  notice(type) { state.bridge.request("RequestNotify", { interactionId: this.id, noticeType: type }).catch(() => {}); }

  // loadHistory fills the customer panel: the contact of the customer's
  // email address in the contact store, and its previous chats.
  async loadHistory() {
    let h;
    try {
      h = await state.bridge.request("RequestGetContactHistory", { interactionId: this.id });
    } catch {
      $(".contact", this.panel).textContent = "The customer's history is not available right now.";
      return;
    }
    const c = h.contact;
    const name = c ? [c.firstName, c.lastName].filter(Boolean).join(" ") || c.nickname : "";
    const chats = h.interactions || [];
    const email = (this.props || {}).EmailAddress;
    const unknown = email ? `New customer: no earlier chats from ${email}.` : "No e-mail address given: earlier chats cannot be looked up.";
    $(".contact", this.panel).textContent = !c ? unknown
      : `Known customer: ${name}${name ? " · " : ""}${c.emailAddress} · ${chats.length} earlier chat${chats.length === 1 ? "" : "s"}`;
    $(".history-count", this.panel).textContent = String(chats.length);
    $(".history-list", this.panel).replaceChildren(...chats.map(pastChat));
    $(".history", this.panel).hidden = chats.length === 0;
  }

  // askWrapUp shows the wrap-up: a disposition (disposition-codes), then
  // Done. The customer left, or the agent ends the chat.
  askWrapUp(why) {
    if (this.done) return;
    const w = $(".wrapup", this.panel);
    const menu = $(".disposition", this.panel);
    if (menu.options.length === 1) for (const code of state.dispositions) menu.append(new Option(code, code));
    $("label", w).hidden = state.dispositions.length === 0;
    $(".wrapup-why", w).textContent = why;
    w.hidden = false;
    (state.dispositions.length ? menu : $(".done", w)).focus();
  }

  // customerLeft puts the chat in the "customer left" state: nobody reads
  // it any more, so it is not writable; the wrap-up asks for Done.
  customerLeft(name) {
    if (this.done || this.left) return;
    if (this.mode) return this.finish(`${name} left the chat.`); // the agent wraps it up, not its supervisor
    this.left = true;
    this.tab.classList.add("left");
    this.tab.textContent = `${customerName(this.props)} (left)`;
    for (const el of this.panel.querySelectorAll("textarea, .composer button, .actions button:not(.close):not(.end)")) el.disabled = true;
    this.askWrapUp(`${name} left the chat. Pick a disposition, then Done.`);
  }

  // wrapUp is Done: the disposition is stored with the interaction, and the
  // chat ends.
  async wrapUp() {
    const code = $(".disposition", this.panel).value;
    if (state.dispositions.length && !code) {
      showAlert("Pick a disposition first.");
      $(".disposition", this.panel).focus();
      return;
    }
    this.ending = true;
    try {
      await state.bridge.request("RequestWrapUp", { interactionId: this.id, disposition: code });
      $(".wrapup", this.panel).hidden = true;
      this.finish(code ? `Done: ${code}.` : "Done.");
    } catch (err) {
      this.ending = false;
      showAlert(friendly(err));
    }
  }

  add(m) {
    if (this.events.has(m.index)) return;
    const from = m.from || {};
    if (from.participantId) this.parties.set(from.participantId, from);
    if (this.restoration(m, from.participantId)) {
      this.events.set(m.index, null);
      return;
    }
    const li = document.createElement("li");
    li.dataset.index = m.index;
    li.className = `ev-${m.type}`;
    const t = clock(m.utcTime);
    const time = document.createElement("time");
    time.dateTime = t.iso;
    time.textContent = t.text;
    li.append(time);
    if (m.type === "Message") {
      if (m.visibility === "INT") {
        li.classList.add("int");
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "internal";
        li.append(tag);
      }
      const who = document.createElement("span");
      who.className = "from";
      who.textContent = `${from.nickname || from.type || ""}:`;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = m.text || "";
      li.append(who, text);
    } else {
      const ev = document.createElement("span");
      ev.className = "event";
      ev.textContent = describe(m);
      if (!ev.textContent) return;
      li.append(ev);
    }
    this.events.set(m.index, li);
    this.insert(li, m.index);
  }

  // restoration reports whether m is half of a leave (quit-reason-code 8)
  // and rejoin pair that a chat server writes for every party when it takes
  // the chat over: EventLocationChanged already notes the move once, so the
  // pair is not shown as the party leaving.
  restoration(m, id) {
    if (m.type === "ParticipantJoined") return this.rejoining.delete(id);
    if (m.type !== "ParticipantLeft" || quitReason(m) !== "8") return false;
    this.rejoining.add(id);
    return true;
  }

  insert(li, index) {
    const list = $(".transcript", this.panel);
    const after = [...list.children].find((el) => el.dataset.index && Number(el.dataset.index) > index);
    list.insertBefore(li, after || null);
    list.scrollTop = list.scrollHeight;
    if (state.current !== this.id) this.tab.classList.add("unread");
  }

  // note adds a line of the desktop's own (not from the transcript).
  note(text) {
    const li = document.createElement("li");
    li.className = "note";
    const t = clock();
    li.innerHTML = `<time datetime="${t.iso}"></time><span class="text"></span>`;
    $("time", li).textContent = t.text;
    $(".text", li).textContent = text;
    const list = $(".transcript", this.panel);
    list.append(li);
    list.scrollTop = list.scrollHeight;
  }

  showTyping(m) {
    const from = m.from || {};
    if (from.type !== "Client") return;
    $(".typing", this.panel).textContent = m.type === "TypingStarted" ? `${from.nickname || "The customer"} is typing…` : "";
  }

  finish(why) {
    if (this.done) return;
    this.done = true;
    this.note(why);
    $(".typing", this.panel).textContent = "";
    for (const el of this.panel.querySelectorAll("textarea, .composer button, .actions button:not(.close)")) el.disabled = true;
    $(".wrapup", this.panel).hidden = true;
    $(".close", this.panel).hidden = false;
    updateLoad();
  }

  reopen() {
    this.done = false;
    this.left = false;
    this.ending = false;
    this.tab.classList.remove("left");
    this.tab.textContent = customerName(this.props);
    for (const el of this.panel.querySelectorAll("textarea, .composer button, .actions button")) el.disabled = false;
    $(".close", this.panel).hidden = true;
    updateLoad();
  }

  remove() {
    this.tab.remove();
    this.panel.remove();
    state.chats.delete(this.id);
    if (state.current === this.id) {
      state.current = "";
      const next = state.chats.keys().next();
      if (!next.done) select(next.value);
    }
    updateLoad();
  }
}

// pastChat is one previous chat of the customer panel: its date, subject
// and disposition, and its messages when opened.
function pastChat(in_) {
  const li = document.createElement("li");
  const d = document.createElement("details");
  const sum = document.createElement("summary");
  const when = new Date(in_.startedAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  const ud = in_.userData || {};
  sum.textContent = [when, in_.subject, ud.DispositionCode].filter(Boolean).join(" · ");
  const list = document.createElement("ol");
  list.className = "past-transcript";
  for (const m of (in_.transcript && in_.transcript.messages) || []) {
    if (m.type !== "Message") continue;
    const line = document.createElement("li");
    line.textContent = `${(m.from && m.from.nickname) || ""}${m.visibility === "INT" ? " (internal)" : ""}: ${m.text || ""}`;
    list.append(line);
  }
  d.append(sum, list);
  li.append(d);
  return li;
}

function quitReason(m) {
  const sys = m.eventAttributes && m.eventAttributes.GCTI_SYSTEM;
  return sys ? sys["quit-reason-code"] : undefined;
}

// describe is the line shown for a transcript event other than a message.
function describe(m) {
  const who = (m.from && m.from.nickname) || "Someone";
  switch (m.type) {
    case "ParticipantJoined": return `${who} joined the chat.`;
    case "ParticipantLeft": return `${who} left the chat.`;
    case "PushUrl": return `${who} shared a link: ${m.text || ""}`;
    case "NicknameUpdated": return `${who} is now called ${m.text || ""}.`;
    case "FileUploaded": return `${who} sent a file.`;
    case "Notice": return m.userData && m.userData.QueuePosition ? "" : m.text || ""; // the customer's queue position
    case "CustomNotice": case "IdleAlert": case "IdleClose": return m.text || "";
    default: return "";
  }
}

function tabKeys(e, id) {
  const ids = [...state.chats.keys()];
  const i = ids.indexOf(id);
  let next = -1;
  if (e.key === "ArrowRight") next = (i + 1) % ids.length;
  if (e.key === "ArrowLeft") next = (i - 1 + ids.length) % ids.length;
  if (next < 0) return;
  e.preventDefault();
  select(ids[next]);
  state.chats.get(ids[next]).tab.focus();
}

function chatEvents(body) {
  const chat = openChat(body.sessionId);
  if (body.alias) chat.setServer(body.alias);
  for (const m of body.messages || []) {
    if (m.type === "TypingStarted" || m.type === "TypingStopped") chat.showTyping(m);
    else chat.add(m);
    if (m.type === "Message" && m.from && m.from.type === "Client") $(".typing", chat.panel).textContent = "";
    if (m.type === "ParticipantLeft" && m.from && m.from.type === "Client" && quitReason(m) !== "8") chat.customerLeft(m.from.nickname || "The customer");
  }
  if (body.chatEnded && !chat.ending) chat.finish("The chat has ended.");
}

function moved(body) {
  const chat = state.chats.get(body.interactionId);
  if (!chat) return;
  chat.setServer(body.chatServer);
  chat.note(`Reconnected: the chat moved from ${body.previous} to ${body.chatServer} after a server failure. Nothing was lost.`);
}

function partyNote(body, what) {
  const chat = state.chats.get(body.interactionId);
  if (chat && body.agentId && body.agentId !== state.agent) chat.note(`Agent ${body.agentId} ${what}.`);
}

function partyRemoved(body) {
  if (body.agentId !== state.agent) return partyNote(body, "left");
  chatDone(body.interactionId, "You no longer handle this chat (transferred or on hold).");
}

function chatDone(id, why) {
  const chat = state.chats.get(id);
  if (chat && !chat.ending) chat.finish(why); // a Done says it itself
}

function chatError(body) {
  const chat = body.interactionId && state.chats.get(body.interactionId);
  if (chat) chat.finish(friendly(body));
  else showAlert(friendly(body));
}

// ---- workbin ----

async function refreshWorkbin() {
  if (!state.bridge) return;
  try {
    const reply = await state.bridge.request("RequestGetWorkbinContent", {});
    const list = $("#workbin");
    list.replaceChildren();
    for (const it of reply.interactions || []) {
      const li = document.createElement("li");
      li.dataset.id = it.interactionId;
      li.innerHTML = `<div><b></b> <span class="subject"></span></div><div class="row"><button type="button" class="pickup">Pick up</button></div>`;
      $("b", li).textContent = customerName(it.properties);
      $(".subject", li).textContent = it.properties && it.properties.Subject ? `(${it.properties.Subject})` : "";
      $(".pickup", li).onclick = () => pickUp(it.interactionId, it.properties);
      list.append(li);
    }
    $("#no-workbin").hidden = list.children.length > 0;
  } catch (err) {
    showAlert(friendly(err));
  }
}

async function pickUp(id, props) {
  try {
    const old = state.chats.get(id);
    if (old) old.remove(); // a new party joins with the whole transcript
    await state.bridge.request("RequestPull", { interactionId: id });
    const chat = openChat(id, props);
    chat.note("You picked the chat up from your workbin.");
    chat.loadHistory();
    select(id);
    refreshWorkbin();
  } catch (err) {
    showAlert(friendly(err));
  }
}

// ---- supervisor ----

// waitText is a wait in seconds as a person reads it.
function waitText(s) {
  if (!s) return "—";
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function row(...cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = c;
    tr.append(td);
  }
  return tr;
}

async function refreshOverview() {
  if (!state.agent || !$("#supervisor").open) return;
  try {
    const ov = await state.bridge.request("RequestGetOverview");
    $("#overview-queues").replaceChildren(...(ov.queues || []).map((q) =>
      row(q.name, String(q.waiting), waitText(q.oldestWait))));
    $("#overview-agents").replaceChildren(...(ov.agents || []).map((a) =>
      row(a.agentId, a.ready ? "Ready" : `Not ready${a.reason ? `: ${a.reason}` : ""}`, `${a.load} of ${a.capacity}`)));
    const live = await state.bridge.request("RequestFindInteractions");
    $("#overview-chats").replaceChildren(...(live.interactions || []).map(liveRow));
    $("#no-live-chats").hidden = (live.interactions || []).length > 0;
    $("#supervisor-updated").textContent = `Updated at ${clock().text}`;
  } catch (err) {
    showAlert(friendly(err));
  }
}

// liveRow is one live chat with the buttons that join it as a supervisor
// (the interaction server refuses an agent not configured supervisor).
function liveRow(c) {
  const tr = row(c.queue, (c.agents || []).join(", "), [c.nickname, c.subject].filter(Boolean).join(" — ") || "Customer");
  const td = document.createElement("td");
  for (const [vis, label] of [["VIP", "Monitor"], ["INT", "Coach"], ["ALL", "Barge in"]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary intrude";
    b.dataset.visibility = vis;
    b.textContent = label;
    b.setAttribute("aria-label", `${label}: ${(c.agents || []).join(", ")}'s chat with ${c.nickname || "the customer"}`);
    b.onclick = () => intrude(c.interactionId, vis);
    td.append(b);
  }
  tr.append(td);
  return tr;
}

async function intrude(id, vis) {
  if (state.chats.has(id)) return select(id);
  try {
    const reply = await state.bridge.request("RequestIntrude", { interactionId: id, visibility: vis });
    const chat = openChat(id, (reply.interaction || {}).properties);
    chat.supervise(vis);
    select(id);
    chat.tab.focus();
  } catch (err) {
    showAlert(friendly(err));
  }
}

// The supervisor view refreshes every 5 s while it is open and the page is
// visible, and on demand.
setInterval(() => { if (!document.hidden) refreshOverview(); }, 5000);
$("#supervisor").addEventListener("toggle", refreshOverview);
$("#supervisor-refresh").addEventListener("click", refreshOverview);

// ---- start ----

$("#login-form").addEventListener("submit", login);
$("#state").addEventListener("change", changeState);
$("#chat-state").addEventListener("change", changeMediaState);
$("#dnd").addEventListener("change", changeDND);
$("#logout").addEventListener("click", logout);
