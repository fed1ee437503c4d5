// Conformance client: the official CometD JavaScript client speaking GMS
// Chat API v2 to a parley web API. Usage: node chat.mjs URL TRANSPORT SERVICE
//
// Over TRANSPORT only, it handshakes, subscribes to /service/chatV2/SERVICE,
// publishes requestChat and prints {"event":"chat",...}; sends a message and
// waits for the agent's "hello from the agent"; prints {"event":"drop",
// "clientId":...} and keeps running while the test cuts its connections
// and the server drops its session. When the client has handshaken again
// by itself (the server's 402 "unknown client" advises it), its handshake
// listener prints {"event":"rehandshake"}, waits for a line on stdin (the
// agent says something meanwhile), subscribes and publishes
// requestNotifications from the last nextPosition; it waits for "while you
// were away", prints {"event":"back"}, waits for "welcome back", publishes
// the disconnect operation and disconnects. Its last line is the JSON of
// the results.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { createInterface } from "node:readline";
import vm from "node:vm";

adapt();

const [url, transport, service] = process.argv.slice(2);
const channel = "/service/chatV2/" + service;
const result = {
    transports: [], handshakes: 0, clientIds: [], chatId: null, resumedFrom: 0, messages: [],
    errors: [], unsuccessful: [], envelopeErrors: [], disconnected: false,
};
const lines = createInterface({ input: process.stdin });
const stdinLine = () => new Promise((resolve) => lines.once("line", resolve));

const finish = (code) => {
    console.log(JSON.stringify(result));
    process.exit(code);
};
setTimeout(() => {
    result.errors.push("timed out");
    finish(1);
}, 40000);

// For callback-polling, the client's CallbackPollingTransport runs
// unchanged on the part of a browser it uses: window.document with a head
// to which it appends a <script src=...>. Appending loads the script with
// a GET, as a browser does (no Origin header), and runs the answer with
// window as its global object, so that it calls the callback the transport
// set on window; an HTTP error or an answer that is not JavaScript fires
// onerror, as a failed script load does.
if (transport === "callback-polling") {
    const window = globalThis.window;
    const head = {
        appendChild(script) {
            fetch(script.src).then(async (res) => {
                const type = res.headers.get("content-type") || "";
                if (!res.ok || !type.startsWith("text/javascript")) {
                    throw new Error(`HTTP ${res.status} ${type}`);
                }
                vm.runInNewContext(await res.text(), window);
            }).catch(() => script.onerror && script.onerror({ type: "error" }));
        },
        removeChild() {},
    };
    window.document = {
        getElementsByTagName: (name) => (name === "head" ? [head] : []),
        createElement: () => ({}),
    };
}

const cometd = new CometD();
for (const t of ["websocket", "long-polling", "callback-polling"]) {
    if (t !== transport) {
        cometd.unregisterTransport(t);
    }
}
cometd.configure({ url, logLevel: "warn" });
// Failed meta messages are expected while the connections are cut; the
// test reads them to see the server's 402.
cometd.addListener("/meta/unsuccessful", (m) => result.unsuccessful.push(m.error || (m.failure && m.failure.reason) || "unsuccessful"));

// Every envelope delivered on the channel is recorded, and waiters are
// woken when one matches. A listener, unlike a subscription callback,
// outlives re-handshakes, so each envelope is seen once.
const waiters = [];
let last = null;
cometd.addListener(channel, (m) => {
    const env = m.data;
    last = env;
    if (env.statusCode !== 0) {
        result.envelopeErrors.push(env.errors);
    }
    for (const msg of env.messages || []) {
        result.messages.push({ index: msg.index, type: msg.type, text: msg.text || "" });
    }
    for (const w of waiters.slice()) {
        if (w.match(env)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(env);
        }
    }
});
const until = (match) => new Promise((resolve) => waiters.push({ match, resolve }));
const publish = (data) => cometd.publish(channel, data, (ack) => {
    if (!ack.successful) {
        result.errors.push("publish " + data.operation + ": " + ack.error);
    }
});
const subscribe = () => new Promise((resolve, reject) => {
    cometd.subscribe(channel, () => {}, (sub) => (sub.successful ? resolve() : reject(new Error("subscribe failed"))));
});

// The handshake listener: the first handshake starts the chat; a later one,
// made by the client itself after the server dropped its session, resumes it.
let party = null;
let started;
const ready = new Promise((resolve) => { started = resolve; });
let resumed;
const back = new Promise((resolve) => { resumed = resolve; });
cometd.addListener("/meta/handshake", (m) => {
    if (!m.successful) {
        return;
    }
    result.handshakes++;
    result.transports.push(cometd.getTransport().type);
    result.clientIds.push(cometd.getClientId());
    if (result.handshakes === 1) {
        started();
        return;
    }
    console.log(JSON.stringify({ event: "rehandshake" }));
    stdinLine().then(async () => {
        await subscribe();
        publish({ operation: "requestNotifications", transcriptPosition: result.resumedFrom, ...party });
        resumed();
    });
});

const hasText = (text) => (env) => (env.messages || []).some((m) => m.type === "Message" && m.text === text);

async function main() {
    cometd.handshake();
    await ready;
    await subscribe();
    publish({ operation: "requestChat", firstName: "Ann", lastName: "Lee", subject: "Order 42", userData: { Order: "42" } });
    const chat = await until((env) => env.secureKey !== undefined || env.statusCode !== 0);
    if (chat.statusCode !== 0) {
        throw new Error("requestChat failed");
    }
    result.chatId = chat.chatId;
    console.log(JSON.stringify({ event: "chat", chatId: chat.chatId, alias: chat.alias }));
    party = { chatId: chat.chatId, userId: chat.userId, secureKey: chat.secureKey, alias: chat.alias };
    publish({ operation: "sendMessage", message: "hello from js", ...party });
    await until(hasText("hello from the agent"));
    result.resumedFrom = last.nextPosition;
    console.log(JSON.stringify({ event: "drop", clientId: cometd.getClientId() }));

    await back;
    await until(hasText("while you were away"));
    console.log(JSON.stringify({ event: "back" }));
    await until(hasText("welcome back"));
    publish({ operation: "disconnect", ...party });
    await until((env) => env.statusCode === 0 && env.messages.length === 0);
    result.disconnected = await new Promise((resolve) => cometd.disconnect((reply) => resolve(reply.successful === true)));
}

main().then(() => finish(0), (err) => {
    result.errors.push(String(err));
    finish(1);
});
