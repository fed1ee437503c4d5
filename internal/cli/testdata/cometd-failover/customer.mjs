// A customer of the web API failover test (TestWebAPIKilledEndToEnd): the
// official CometD JavaScript client speaking GMS Chat API v2 over one
// transport, moving to the next web API when its own goes away.
//
// Usage: node customer.mjs TRANSPORT SERVICE NAME=URL [NAME=URL...]
//
// It handshakes with the first web API, subscribes to
// /service/chatV2/SERVICE and publishes requestChat. Each line read on stdin
// is then published as a sendMessage. When a /meta/connect or handshake
// fails (the web API died), it leaves that web API and does what a Chat API
// v2 client does on another one: a new handshake, the subscription, and
// requestNotifications from the last nextPosition it was given; messages
// typed meanwhile wait until the resume has been answered. stdin closed: it
// disconnects and exits.
//
// It prints one JSON line per fact:
//   {"event":"chat","via":NAME,"chatId":...,"userId":...,"secureKey":...,"alias":...}
//   {"event":"env","via":NAME,"statusCode":0,"alias":...,"chatEnded":false,"nextPosition":N,"messages":[{"index","type","text","from"}]}
//   {"event":"failed","via":NAME,"text":...,"error":...}  a sendMessage the web API did not acknowledge
//   {"event":"resumed","via":NAME}                        requestNotifications answered on NAME
//   {"event":"error","error":...}
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { createInterface } from "node:readline";

adapt();

const [transport, service, ...targets] = process.argv.slice(2);
const apis = targets.map((t) => {
    const [name, url] = t.split(/=(.*)/s);
    return { name, url };
});
const channel = "/service/chatV2/" + service;
const print = (o) => console.log(JSON.stringify(o));

let current = -1;     // index in apis of the web API in use
let cometd = null;    // its CometD client
let party = null;     // chatId, userId, secureKey, alias
let position = 0;     // the last nextPosition delivered
let ready = false;    // sendMessage may go out
let resuming = false; // requestNotifications published, not yet answered
const typed = [];     // lines waiting for ready

const publish = (data, onFail) => cometd.publish(channel, data, (ack) => {
    if (!ack.successful) {
        onFail(String(ack.error || (ack.failure && ack.failure.reason) || "unsuccessful"));
    }
});

const send = (text) => {
    const via = apis[current].name;
    publish({ operation: "sendMessage", message: text, ...party }, (error) => print({ event: "failed", via, text, error }));
};

const flush = () => {
    ready = true;
    while (typed.length > 0) {
        send(typed.shift());
    }
};

// onEnvelope records a delivery of the web API at index i.
const onEnvelope = (i, env) => {
    if (i !== current) {
        return;
    }
    print({
        event: "env", via: apis[i].name, statusCode: env.statusCode, alias: env.alias, chatEnded: env.chatEnded,
        nextPosition: env.nextPosition, errors: env.errors,
        messages: (env.messages || []).map((m) => ({ index: m.index, type: m.type, text: m.text || "", from: (m.from || {}).type })),
    });
    if (env.statusCode !== 0) {
        return;
    }
    if (env.nextPosition > 0) {
        position = env.nextPosition;
    }
    if (env.alias) {
        party = party && { ...party, alias: env.alias };
    }
    if (party === null && env.secureKey !== undefined) {
        party = { chatId: env.chatId, userId: env.userId, secureKey: env.secureKey, alias: env.alias };
        print({ event: "chat", via: apis[i].name, ...party });
        flush();
    }
    if (resuming) {
        resuming = false;
        print({ event: "resumed", via: apis[i].name });
        flush();
    }
};

// leave drops the web API in use for the next one, if there is one.
const leave = (i) => {
    if (i !== current || current + 1 >= apis.length) {
        return;
    }
    ready = false;
    const old = cometd;
    connect(current + 1);
    old.disconnect();
};

// connect handshakes with the web API at index i: the first one starts
// the chat, the next ones resume it.
function connect(i) {
    current = i;
    const c = new CometD();
    c.unregisterTransport(transport === "websocket" ? "long-polling" : "websocket");
    c.unregisterTransport("callback-polling");
    c.configure({ url: apis[i].url, logLevel: "warn" });
    c.addListener(channel, (m) => onEnvelope(i, m.data));
    c.addListener("/meta/connect", (m) => {
        if (!m.successful) {
            leave(i);
        }
    });
    c.addListener("/meta/handshake", (m) => {
        if (!m.successful) {
            leave(i);
            return;
        }
        c.subscribe(channel, () => {}, (sub) => {
            if (!sub.successful) {
                print({ event: "error", error: "subscribe on " + apis[i].name + " failed" });
                return;
            }
            if (party === null) {
                publish({ operation: "requestChat", nickname: "cometd " + transport }, (error) => print({ event: "error", error }));
                return;
            }
            resuming = true;
            publish({ operation: "requestNotifications", transcriptPosition: position, ...party }, (error) => print({ event: "error", error }));
        });
    });
    cometd = c;
    c.handshake();
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (text) => (ready ? send(text) : typed.push(text)));
lines.on("close", () => cometd.disconnect(() => process.exit(0)));
connect(0);
