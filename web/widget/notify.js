// What the widget tells a customer who is not looking: the count of
// messages they have not seen, in the page title ("(2) Chat with us") and,
// embedded, on the host page's launcher (embed.js), with a short tone.
// Embedded, the widget and embed.js speak by postMessage, each checking
// the other's origin: the widget posts only to the host origin embed.js
// gave it, and takes only the host's {parley: "shown"}.

export class Notifier {
  constructor(st, doc, win) {
    this.st = st;
    this.doc = doc;
    this.win = win;
    this.title = st.title;
    this.unread = 0;
    // Embedded, the panel starts shown (embed.js loads it when opened) and
    // the host says when it is closed or its page hidden.
    this.shownByHost = true;
    this.audio = null;
    doc.addEventListener("visibilitychange", () => this.update());
    if (st.embed && st.host) {
      win.addEventListener("message", (ev) => {
        if (ev.source !== win.parent || ev.origin !== st.host || !ev.data || ev.data.parley !== "shown") return;
        this.shownByHost = ev.data.shown === true;
        this.update();
      });
    }
  }

  // shown reports whether the customer can see the conversation.
  shown() {
    return !this.doc.hidden && (!this.st.embed || this.shownByHost);
  }

  // post tells the host page (embedded only) msg.
  post(msg) {
    if (this.st.embed && this.st.host && this.win.parent !== this.win) this.win.parent.postMessage({ parley: msg.type, ...msg }, this.st.host);
  }

  // armSound prepares the tone; browsers allow audio only after the
  // customer did something on the page (here: started the chat).
  armSound() {
    if (!this.st.sound || this.audio || typeof AudioContext === "undefined") return;
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  tone() {
    if (!this.audio) return;
    const t = this.audio.currentTime;
    const osc = this.audio.createOscillator();
    const gain = this.audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, t);
    gain.gain.exponentialRampToValueAtTime(0.001, t + 0.25);
    osc.connect(gain).connect(this.audio.destination);
    osc.start(t);
    osc.stop(t + 0.25);
  }

  // arrived counts a message from somebody else that the customer may not
  // have seen.
  arrived() {
    if (this.shown()) return;
    this.unread++;
    this.tone();
    this.update();
  }

  update() {
    if (this.shown()) this.unread = 0;
    this.doc.title = this.unread > 0 ? `(${this.unread}) ${this.title}` : this.title;
    this.post({ type: "unread", count: this.unread });
  }
}
