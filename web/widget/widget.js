// The customer chat widget: GMS Chat API v2 over CometD (WebSocket, then
// long polling) with parley's own small Bayeux client (bayeux.js), falling back to
// REST polling every 3 s when CometD cannot connect. File transfer uses the
// REST file endpoints in every mode. The page never shows raw JSON or
// errors of the code: every failure is a sentence for the customer.
import { Bayeux } from "./bayeux.js";

const params = new URLSearchParams(location.search);
const service = /^[A-Za-z0-9._-]+$/.test(params.get("service") || "") ? params.get("service") : "customer-support";
const restBase = `${location.origin}/genesys/2/chat/${service}`;
const cometURL = `${location.origin}/genesys/cometd`;
const channel = `/service/chatV2/${service}`;
const pollEvery = 3000;
const typingIdle = 3000;
const cometGiveUp = 8000;

const $ = (id) => document.getElementById(id);
const ui = {
  prechat: $("prechat"), prechatError: $("prechat-error"), start: $("start"), state: $("state"),
  chat: $("chat"), transcript: $("transcript"), typing: $("typing"), error: $("chat-error"),
  compose: $("compose"), message: $("message"), send: $("send"), end: $("end"), file: $("file"), restart: $("restart"),
};

// chat is the one chat of the page: its credentials, position and transport.
let chat = null;

// friendly turns an error envelope into a sentence for the customer.
function friendly(env) {
  const code = env && env.errors && env.errors[0] ? env.errors[0].code : 0;
  switch (code) {
    case 103: return "That is too large to send.";
    case 106: case 107: case 108: case 105: return "The chat service is busy right now. Please try again in a moment.";
    case 8209: case 8202: case 8200: case 8201: case 8210: return "This chat has ended.";
    case 8211: return "Reconnecting you to the chat…";
    case 102: return "Please check what you entered and try again.";
  }
  return env && env.statusCode === 1 ? "Something went wrong. Please try again in a moment." : "Something went wrong with the chat.";
}

function showError(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

function setState(text) { ui.state.textContent = text; }

// post sends a form to a REST path and returns the envelope; a network or
// server failure becomes an envelope with statusCode 1.
async function post(path, body) {
  try {
    const resp = await fetch(restBase + path, { method: "POST", body });
    return await resp.json();
  } catch {
    return { statusCode: 1, errors: [{ code: 106 }], messages: [] };
  }
}

function partyForm(extra = {}) {
  const f = new URLSearchParams({ userId: chat.userId, secureKey: chat.secureKey, alias: chat.alias });
  for (const [k, v] of Object.entries(extra)) f.set(k, v);
  return f;
}

// ---- transcript ----

const names = new Map(); // participantId -> nickname
const seen = new Set();  // indexes shown (typing notices aside: they are not kept)

// A chat server that takes over a chat after a failure makes every party
// leave with quit-reason-code 8 and join again, all at one utcTime. The
// customer did not leave: the pairs read as one note per restoration.
const restoredReason = "8";
const rejoining = new Set(); // participantIds that left with reason 8 and have not joined again
let restoredAt = null;       // utcTime of the last restoration noted

function quitReason(m) {
  const sys = m.eventAttributes && m.eventAttributes.GCTI_SYSTEM;
  return sys ? sys["quit-reason-code"] : undefined;
}

// restoration reports whether m is part of a restoration, noting the
// restoration once.
function restoration(m) {
  const id = m.from && m.from.participantId;
  if (m.type === "ParticipantJoined") return rejoining.delete(id);
  if (m.type !== "ParticipantLeft" || quitReason(m) !== restoredReason) return false;
  rejoining.add(id);
  if (m.utcTime !== restoredAt) {
    restoredAt = m.utcTime;
    addLine("system reconnected", (li) => { li.textContent = `Reconnected — your chat continues · ${timeOf(m.utcTime)}`; });
  }
  return true;
}

function timeOf(utc) {
  return new Date(utc).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function who(m) {
  if (!m.from) return "System";
  return names.get(m.from.participantId) || m.from.nickname || m.from.type;
}

function addLine(cls, build) {
  const li = document.createElement("li");
  li.className = cls;
  build(li);
  const atEnd = ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 40;
  ui.transcript.append(li);
  if (atEnd) ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

function system(text, alert = false, utc = Date.now()) {
  addLine("system" + (alert ? " alert" : ""), (li) => { li.textContent = `${text} · ${timeOf(utc)}`; });
}

function bubble(m, build) {
  const mine = m.from && m.from.type === "Client";
  addLine("msg" + (mine ? " mine" : ""), (li) => {
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${mine ? "You" : who(m)} · ${timeOf(m.utcTime)}`;
    const body = document.createElement("span");
    body.className = "text";
    build(body);
    li.append(meta, body);
  });
}

function safeURL(text) {
  try {
    const u = new URL(text);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

function showMessage(m) {
  const typing = m.type === "TypingStarted" || m.type === "TypingStopped";
  if (!typing) {
    if (seen.has(m.index)) return;
    seen.add(m.index);
  }
  if (m.from && m.type === "ParticipantJoined") names.set(m.from.participantId, m.from.nickname);
  if (restoration(m)) return;
  const mine = m.from && m.from.type === "Client";
  switch (m.type) {
    case "Message": bubble(m, (b) => { b.textContent = m.text || ""; }); break;
    case "ParticipantJoined": system(mine ? "You joined the chat" : `${who(m)} joined the chat`, false, m.utcTime); break;
    case "ParticipantLeft": system(mine ? "You left the chat" : `${who(m)} left the chat`, false, m.utcTime); break;
    case "TypingStarted": if (!mine) ui.typing.textContent = `${who(m)} is typing…`; break;
    case "TypingStopped": if (!mine) ui.typing.textContent = ""; break;
    case "NicknameUpdated":
      if (m.from) { system(`${who(m)} is now ${m.text}`, false, m.utcTime); names.set(m.from.participantId, m.text); }
      break;
    case "PushUrl": {
      const href = safeURL(m.text);
      bubble(m, (b) => {
        if (!href) { b.textContent = m.text || ""; return; }
        const a = document.createElement("a");
        a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer"; a.textContent = href;
        b.append("Shared a link: ", a);
      });
      break;
    }
    case "FileUploaded": fileLine(m); break;
    case "FileDeleted": system(`${who(m)} deleted a file`, false, m.utcTime); break;
    case "Notice": case "IdleAlert": case "IdleClose": case "CustomNotice":
      // transcript-auto-save = 2: "save" after each save says nothing worth a line; "ucs-save-fail" does.
      if (m.type === "Notice" && m.text === "save") break;
      if (m.type === "Notice" && m.text === "ucs-save-fail") { system("The chat could not be saved just now; it is being retried.", true, m.utcTime); break; }
      if (m.text && m.text !== "file-client-cfg-get") system(m.text, m.type !== "CustomNotice", m.utcTime);
      break;
  }
  if (m.type === "Message" && !mine) ui.typing.textContent = "";
}

function fileLine(m) {
  const ud = m.userData || {};
  const name = ud["file-name"] || "a file";
  const size = ud["file-size"] ? ` (${Math.ceil(Number(ud["file-size"]) / 1024)} KB)` : "";
  bubble(m, (b) => {
    b.append(`Sent ${name}${size} `);
    if (!ud["file-id"]) return;
    const btn = document.createElement("button");
    btn.type = "button"; btn.className = "secondary"; btn.textContent = "Download";
    btn.addEventListener("click", () => download(ud["file-id"], name));
    b.append(btn);
  });
}

// apply takes any envelope: its events, its alias, and the end of the chat.
function apply(env) {
  if (!chat || !env) return;
  if (env.statusCode !== 0) {
    showError(ui.error, friendly(env));
    if (env.chatEnded || env.statusCode === 2) ended();
    return;
  }
  showError(ui.error, "");
  if (env.alias) chat.alias = env.alias;
  for (const m of env.messages || []) showMessage(m);
  if (env.nextPosition) chat.position = Math.max(chat.position, env.nextPosition);
  if (env.chatEnded) ended();
}

function ended() {
  if (!chat || chat.over) return;
  chat.over = true;
  stopTransport();
  ui.typing.textContent = "";
  for (const el of [ui.message, ui.send, ui.end, ui.file]) el.disabled = true;
  setState("Chat ended");
  system("The chat has ended");
  ui.restart.hidden = false;
  ui.restart.focus();
}

// ---- transports ----

// cometTransport speaks Chat API v2 over CometD; start resolves false when
// CometD cannot connect, so that the widget falls back to REST.
function cometTransport() {
  const cometd = new Bayeux();
  cometd.configure({ url: cometURL, maxNetworkDelay: 15000 });
  let handshaken = false;
  let pendingChat = null;
  cometd.addListener(channel, (m) => {
    const env = m.data;
    if (pendingChat && (env.secureKey || env.statusCode !== 0)) {
      const resolve = pendingChat;
      pendingChat = null;
      resolve(env);
      return;
    }
    apply(env);
  });
  cometd.addListener("/meta/handshake", (reply) => {
    // A new handshake after the first (a restarted server, an expired
    // session) resumes the chat from the last position.
    if (reply.successful && handshaken && chat && !chat.over) {
      op("requestNotifications", { chatId: chat.chatId, transcriptPosition: chat.position });
    }
  });
  cometd.addListener("/meta/connect", (reply) => setState(reply.successful ? "Connected" : "Reconnecting…"));
  const op = (operation, data = {}) => {
    const party = chat ? { chatId: chat.chatId, userId: chat.userId, secureKey: chat.secureKey, alias: chat.alias } : {};
    cometd.publish(channel, { operation, ...party, ...data });
  };
  return {
    name: "cometd",
    start: () => new Promise((resolve) => {
      const timer = setTimeout(() => { cometd.disconnect(); resolve(false); }, cometGiveUp);
      cometd.handshake((reply) => {
        if (!reply.successful) return; // the client retries until cometGiveUp
        clearTimeout(timer);
        handshaken = true;
        cometd.subscribe(channel, () => {}, () => resolve(true));
      });
    }),
    requestChat: (fields) => new Promise((resolve) => {
      pendingChat = resolve;
      op("requestChat", fields);
    }),
    op,
    stop: () => cometd.disconnect(),
  };
}

// restTransport polls refresh every 3 s.
function restTransport() {
  let timer = null;
  const poll = async () => {
    if (!chat || chat.over) return;
    apply(await post(`/${chat.chatId}/refresh`, partyForm({ transcriptPosition: chat.position })));
    if (!chat.over) timer = setTimeout(poll, pollEvery);
  };
  return {
    name: "rest",
    start: async () => true,
    requestChat: async (fields) => {
      const f = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) if (v) f.set(k, v);
      const env = await post("", f);
      if (env.statusCode === 0) timer = setTimeout(poll, pollEvery);
      return env;
    },
    op: async (operation, data = {}) => {
      const path = operation === "sendMessage" ? "send" : operation;
      apply(await post(`/${chat.chatId}/${path}`, partyForm(data)));
    },
    stop: () => clearTimeout(timer),
  };
}

let transport = null;

function stopTransport() {
  if (transport) transport.stop();
}

async function connect() {
  if (typeof WebSocket !== "undefined" || typeof XMLHttpRequest !== "undefined") {
    const t = cometTransport();
    if (await t.start()) return t;
  }
  const t = restTransport();
  await t.start();
  return t;
}

// ---- actions ----

async function startChat(ev) {
  ev.preventDefault();
  const fields = Object.fromEntries(new FormData(ui.prechat).entries());
  for (const k of Object.keys(fields)) fields[k] = fields[k].trim();
  if (!fields.nickname && !(fields.firstName && fields.lastName)) {
    showError(ui.prechatError, "Please enter a nickname, or your first and last name.");
    (fields.nickname || fields.firstName ? ui.prechat.lastName : ui.prechat.nickname).focus();
    return;
  }
  showError(ui.prechatError, "");
  ui.start.disabled = true;
  setState("Connecting…");
  transport = await connect();
  const env = await transport.requestChat(fields);
  ui.start.disabled = false;
  if (env.statusCode !== 0) {
    stopTransport();
    setState("");
    showError(ui.prechatError, friendly(env));
    return;
  }
  chat = { chatId: env.chatId, userId: env.userId, secureKey: env.secureKey, alias: env.alias, position: 1, over: false };
  ui.prechat.hidden = true;
  ui.chat.hidden = false;
  setState(transport.name === "cometd" ? "Connected" : "Connected (polling)");
  apply(env);
  ui.message.focus();
}

let typing = false;
let typingTimer = null;

function stopTyping() {
  clearTimeout(typingTimer);
  if (typing) {
    typing = false;
    transport.op("stopTyping");
  }
}

function onInput() {
  if (!chat || chat.over) return;
  if (!typing && ui.message.value) {
    typing = true;
    transport.op("startTyping");
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, typingIdle);
}

function sendMessage(ev) {
  ev.preventDefault();
  const text = ui.message.value.trim();
  if (!text || !chat || chat.over) return;
  stopTyping();
  transport.op("sendMessage", { message: text });
  ui.message.value = "";
  ui.message.focus();
}

function endChat() {
  if (!chat || chat.over) return;
  stopTyping();
  transport.op("disconnect");
  setTimeout(ended, 3000); // the reply ends it sooner; a lost reply must not keep the chat open
}

// limitsOf reads the chat server's file limits for this chat.
async function limitsOf() {
  const env = await post(`/${chat.chatId}/file/limits`, partyForm());
  return env.statusCode === 0 && env.messages && env.messages[0] ? env.messages[0].userData || {} : null;
}

function checkFile(file, lim) {
  if (!lim) return "File sharing is not available right now.";
  const max = Number(lim["upload-max-file-size"] || 0);
  if (max && file.size > max) return `That file is too large: the limit is ${Math.floor(max / 1024)} KB.`;
  const types = (lim["upload-file-types"] || "").split(/[,:; ]+/).filter(Boolean).map((t) => t.replace(/^\./, "").toLowerCase());
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  if (types.length && !types.includes(ext) && !types.includes("*")) return `Files of that type cannot be sent (allowed: ${types.join(", ")}).`;
  const left = Number(lim["upload-max-files"] || 0) - Number(lim["used-upload-max-files"] || 0);
  if (lim["upload-max-files"] && left <= 0) return "You cannot send more files in this chat.";
  return null;
}

async function uploadFile() {
  const file = ui.file.files[0];
  ui.file.value = "";
  if (!file || !chat || chat.over) return;
  const problem = checkFile(file, await limitsOf());
  if (problem) { showError(ui.error, problem); return; }
  const f = new FormData();
  for (const [k, v] of partyForm()) f.set(k, v);
  f.set("userData[file-description]", file.name);
  f.set("file", file, file.name);
  setState("Sending file…");
  let env;
  try {
    env = await (await fetch(`${restBase}/${chat.chatId}/file`, { method: "POST", body: f })).json();
  } catch {
    env = { statusCode: 1, errors: [{ code: 106 }] };
  }
  setState(transport && transport.name === "cometd" ? "Connected" : "Connected (polling)");
  if (env.statusCode !== 0) {
    const code = env.errors && env.errors[0] ? env.errors[0].code : 0;
    showError(ui.error, code === 103 || code === 104 ? "The file could not be sent: it exceeds the limits of this chat." : friendly(env));
    return;
  }
  showError(ui.error, "");
}

async function download(fileId, name) {
  try {
    const resp = await fetch(`${restBase}/${chat.chatId}/file/${encodeURIComponent(fileId)}/download`, { method: "POST", body: partyForm() });
    if (!resp.ok || (resp.headers.get("Content-Type") || "").startsWith("application/json")) throw new Error();
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement("a");
    a.href = url; a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch {
    showError(ui.error, "The file could not be downloaded.");
  }
}

function restart() {
  chat = null;
  seen.clear();
  names.clear();
  rejoining.clear();
  restoredAt = null;
  ui.transcript.replaceChildren();
  for (const el of [ui.message, ui.send, ui.end, ui.file]) el.disabled = false;
  ui.restart.hidden = true;
  ui.chat.hidden = true;
  ui.prechat.hidden = false;
  showError(ui.error, "");
  setState("");
  ui.prechat.nickname.focus();
}

ui.prechat.addEventListener("submit", startChat);
ui.compose.addEventListener("submit", sendMessage);
ui.message.addEventListener("input", onInput);
ui.message.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) sendMessage(ev);
});
ui.end.addEventListener("click", endChat);
ui.file.addEventListener("change", uploadFile);
ui.restart.addEventListener("click", restart);
window.addEventListener("pagehide", () => stopTransport());
