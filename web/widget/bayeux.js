// parley's small Bayeux 1.0 client for the customer widget: the handshake,
// the /meta/connect loop, subscriptions and publications that Chat API v2
// over CometD needs, over WebSocket, or long polling when a WebSocket cannot
// open. It follows the server's advice (reconnect retry / handshake / none,
// interval, timeout), handshakes again when the server forgot the client,
// re-sends the subscriptions after such a handshake, and backs off between
// failed attempts.
//
// Listeners added with addListener receive every message of their channel:
// the replies of /meta/handshake and /meta/connect (with successful set),
// and the messages delivered on a subscribed channel.

const backoffStep = 1000; // ms added after each failed attempt
const backoffMax = 15000;

export class Bayeux {
  constructor() {
    this.url = "";
    this.maxNetworkDelay = 10000;
    this.listeners = new Map(); // channel -> [fn]
    this.subscriptions = new Set(); // channels to re-subscribe after a new handshake
    this.callbacks = new Map(); // message id -> reply callback
    this.nextId = 1;
    this.clientId = null;
    this.transport = null; // "websocket" or "long-polling"
    this.ws = null;
    this.advice = { reconnect: "retry", interval: 0, timeout: 30000 };
    this.backoff = 0;
    this.stopped = false;
    this.timer = null; // the pending reconnect or the connect watchdog
  }

  configure({ url, maxNetworkDelay }) {
    this.url = url;
    if (maxNetworkDelay) this.maxNetworkDelay = maxNetworkDelay;
  }

  addListener(channel, fn) {
    if (!this.listeners.has(channel)) this.listeners.set(channel, []);
    this.listeners.get(channel).push(fn);
  }

  // handshake opens the session; done receives its replies, failed ones
  // included while the client keeps trying, until one succeeds.
  handshake(done) {
    this.stopped = false;
    this.onHandshake = done;
    this.sendHandshake();
  }

  subscribe(channel, _onMessage, done) {
    this.subscriptions.add(channel);
    this.send({ channel: "/meta/subscribe", subscription: channel }, done);
  }

  publish(channel, data) {
    this.send({ channel, data });
  }

  disconnect() {
    if (this.stopped) return;
    if (this.clientId) this.send({ channel: "/meta/disconnect" });
    this.stopped = true;
    this.clientId = null;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.ws = null;
  }

  // ---- messages ----

  send(message, done) {
    if (this.stopped) return;
    message.id = String(this.nextId++);
    if (message.channel !== "/meta/handshake") message.clientId = this.clientId;
    if (done) this.callbacks.set(message.id, done);
    if (this.transport === "websocket") {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify([message]));
      else this.failed(message);
      return;
    }
    this.post([message]);
  }

  // receive dispatches the messages of one frame or response.
  receive(messages) {
    for (const m of messages) {
      const done = m.id && this.callbacks.get(m.id);
      if (done) {
        this.callbacks.delete(m.id);
        done(m);
      }
      if (m.advice) this.advice = { ...this.advice, ...m.advice };
      switch (m.channel) {
        case "/meta/handshake": this.handshaken(m); break;
        case "/meta/connect": this.connected(m); break;
      }
      // A publication's own reply carries no data: only deliveries and
      // meta replies reach the listeners.
      if (m.channel.startsWith("/meta/") || m.data !== undefined) this.emit(m.channel, m);
    }
  }

  emit(channel, m) {
    for (const fn of this.listeners.get(channel) || []) fn(m);
  }

  // failed stands for the reply of a message that could not be sent or was
  // not answered.
  failed(message) {
    this.receive([{ id: message.id, channel: message.channel, successful: false }]);
  }

  // ---- session ----

  sendHandshake() {
    clearTimeout(this.timer);
    this.clientId = null;
    const message = { channel: "/meta/handshake", version: "1.0", minimumVersion: "1.0",
      supportedConnectionTypes: ["websocket", "long-polling"] };
    if (this.transport === "long-polling" || typeof WebSocket === "undefined") {
      this.transport = "long-polling";
      this.send(message);
      return;
    }
    this.openSocket(() => this.send(message));
  }

  handshaken(reply) {
    if (!reply.successful) {
      if (this.onHandshake) this.onHandshake(reply);
      this.retry(() => this.sendHandshake());
      return;
    }
    this.clientId = reply.clientId;
    this.backoff = 0;
    // A new handshake forgets the server's subscriptions: send them again
    // before anything the listeners publish in answer to this one.
    for (const channel of this.subscriptions) this.send({ channel: "/meta/subscribe", subscription: channel });
    const done = this.onHandshake;
    this.onHandshake = null; // the caller's callback is for its own handshake only
    if (done) done(reply);
    this.sendConnect({ timeout: 0 });
  }

  sendConnect(advice) {
    if (this.stopped || !this.clientId) return;
    const message = { channel: "/meta/connect", connectionType: this.transport };
    if (advice) message.advice = advice;
    this.send(message);
    // A connect unanswered past the server's hold and the network's delay
    // is lost with its connection.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.lost(), (this.advice.timeout || 0) + this.maxNetworkDelay);
  }

  connected(reply) {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (reply.successful) {
      this.backoff = 0;
      this.timer = setTimeout(() => this.sendConnect(), this.advice.interval || 0);
      return;
    }
    switch (this.advice.reconnect) {
      case "none": this.stopped = true; return;
      case "handshake": this.retry(() => this.sendHandshake()); return;
      default: this.retry(() => this.sendConnect());
    }
  }

  // lost handles a transport that stopped answering: the next attempt
  // opens a new one.
  lost() {
    if (this.stopped) return;
    if (this.ws) this.ws.close();
    this.ws = null;
    if (!this.clientId) {
      this.retry(() => this.sendHandshake());
      return;
    }
    this.connected({ successful: false });
    this.emit("/meta/connect", { channel: "/meta/connect", successful: false });
  }

  retry(attempt) {
    clearTimeout(this.timer);
    this.backoff = Math.min(this.backoff + backoffStep, backoffMax);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      if (this.transport === "websocket" && (!this.ws || this.ws.readyState !== WebSocket.OPEN)) {
        this.openSocket(attempt);
        return;
      }
      attempt();
    }, (this.advice.interval || 0) + this.backoff);
  }

  // ---- transports ----

  // openSocket opens the WebSocket and runs then once it is open; a socket
  // that cannot open makes the client fall back to long polling.
  openSocket(then) {
    const ws = new WebSocket(this.url.replace(/^http/, "ws"));
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.transport = "websocket";
      this.ws = ws;
      then();
    };
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (!opened && this.transport !== "websocket") {
        this.transport = "long-polling"; // never opened: this network has no WebSocket
        then();
        return;
      }
      for (const id of [...this.callbacks.keys()]) this.failed({ id, channel: "" });
      this.lost();
    };
  }

  async post(messages) {
    try {
      const resp = await fetch(this.url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(messages) });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      this.receive(await resp.json());
    } catch {
      for (const m of messages) this.failed(m);
    }
  }
}
