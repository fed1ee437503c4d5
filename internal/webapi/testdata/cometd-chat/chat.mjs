// Conformance client: the official CometD JavaScript client speaking GMS
// Chat API v2 to a parley web API. Usage: node chat.mjs URL TRANSPORT SERVICE
//
// Over TRANSPORT only, it handshakes, subscribes to /service/chatV2/SERVICE,
// publishes requestChat and prints {"event":"chat",...}; sends a message and
// waits for the agent's "hello from the agent"; disconnects and prints
// {"event":"away"}, then waits for a line on stdin (the agent says something
// meanwhile); handshakes again and publishes requestNotifications from the
// last nextPosition, waits for "while you were away", prints
// {"event":"back"}, waits for "welcome back", publishes the disconnect
// operation and disconnects. Its last line is the JSON of the results.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { createInterface } from "node:readline";

adapt();

const [url, transport, service] = process.argv.slice(2);
const channel = "/service/chatV2/" + service;
const result = { transports: [], handshakes: 0, chatId: null, resumedFrom: 0, messages: [], errors: [], envelopeErrors: [], disconnected: false };
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

// session is one CometD client session: every envelope delivered on the
// channel is recorded, and waiters are woken when one matches.
function session() {
    const cometd = new CometD();
    cometd.unregisterTransport(transport === "websocket" ? "long-polling" : "websocket");
    cometd.unregisterTransport("callback-polling");
    cometd.configure({ url, logLevel: "warn" });
    cometd.addListener("/meta/unsuccessful", (m) => result.errors.push(m.error || (m.failure && m.failure.reason) || "unsuccessful"));
    const waiters = [];
    let last = null;
    const onEnvelope = (m) => {
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
    };
    const until = (match) => new Promise((resolve) => waiters.push({ match, resolve }));
    const start = () => new Promise((resolve, reject) => {
        cometd.handshake((reply) => {
            if (!reply.successful) {
                reject(new Error("handshake failed"));
                return;
            }
            result.handshakes++;
            result.transports.push(cometd.getTransport().type);
            cometd.subscribe(channel, onEnvelope, (sub) => (sub.successful ? resolve() : reject(new Error("subscribe failed"))));
        });
    });
    const publish = (data) => cometd.publish(channel, data, (ack) => {
        if (!ack.successful) {
            result.errors.push("publish " + data.operation + ": " + ack.error);
        }
    });
    const stop = () => new Promise((resolve) => cometd.disconnect((reply) => resolve(reply.successful === true)));
    return { start, publish, until, stop, last: () => last };
}

const hasText = (text) => (env) => (env.messages || []).some((m) => m.type === "Message" && m.text === text);

async function main() {
    const first = session();
    await first.start();
    first.publish({ operation: "requestChat", firstName: "Ann", lastName: "Lee", subject: "Order 42", userData: { Order: "42" } });
    const chat = await first.until((env) => env.secureKey !== undefined || env.statusCode !== 0);
    if (chat.statusCode !== 0) {
        throw new Error("requestChat failed");
    }
    result.chatId = chat.chatId;
    console.log(JSON.stringify({ event: "chat", chatId: chat.chatId, alias: chat.alias }));
    const party = { chatId: chat.chatId, userId: chat.userId, secureKey: chat.secureKey, alias: chat.alias };
    first.publish({ operation: "sendMessage", message: "hello from js", ...party });
    await first.until(hasText("hello from the agent"));
    result.resumedFrom = first.last().nextPosition;
    await first.stop();
    console.log(JSON.stringify({ event: "away" }));

    await stdinLine();
    const second = session();
    await second.start();
    second.publish({ operation: "requestNotifications", transcriptPosition: result.resumedFrom, ...party });
    await second.until(hasText("while you were away"));
    console.log(JSON.stringify({ event: "back" }));
    await second.until(hasText("welcome back"));
    second.publish({ operation: "disconnect", ...party });
    await second.until((env) => env.statusCode === 0 && env.messages.length === 0);
    result.disconnected = await second.stop();
}

main().then(() => finish(0), (err) => {
    result.errors.push(String(err));
    finish(1);
});
