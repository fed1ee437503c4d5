// Conformance client: the official CometD JavaScript client against a
// parley Bayeux server. Usage: node client.mjs URL TRANSPORT TEXT
// It handshakes over TRANSPORT only, subscribes to /service/echo, publishes
// {op:"echo", text}, waits for the echo and for a later server push, then
// disconnects and prints one JSON line of results.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import vm from "node:vm";

adapt();

const [url, transport, text] = process.argv.slice(2);
const result = { transport: null, handshake: false, subscribed: false, published: false, echo: null, push: null, disconnected: false, errors: [] };

const finish = (code) => {
    console.log(JSON.stringify(result));
    process.exit(code);
};
const deadline = setTimeout(() => {
    result.errors.push("timed out");
    finish(1);
}, 20000);

// scriptLoader gives the client's CallbackPollingTransport, unchanged, the
// part of a browser it uses: window.document with a head to which it appends
// a <script src=...>. Appending loads the script with a GET, as a browser
// does (no Origin header), and runs the answer with window as its global
// object, so that the answer calls the callback the transport set on
// window; an HTTP error or a non-JavaScript answer fires onerror.
const scriptLoader = (window) => {
    const head = {
        appendChild(script) {
            fetch(script.src).then(async (res) => {
                const type = res.headers.get("content-type") || "";
                if (!res.ok || !type.startsWith("text/javascript")) {
                    throw new Error(`HTTP ${res.status} ${type}`);
                }
                vm.runInNewContext(await res.text(), window);
            }).catch((e) => {
                result.errors.push("script: " + e.message);
                script.onerror && script.onerror({ type: "error" });
            });
        },
        removeChild() {},
    };
    window.document = {
        getElementsByTagName: (name) => (name === "head" ? [head] : []),
        createElement: () => ({}),
    };
};

const cometd = new CometD();
for (const t of ["websocket", "long-polling", "callback-polling"]) {
    if (t !== transport) {
        cometd.unregisterTransport(t);
    }
}
if (transport === "callback-polling") {
    scriptLoader(globalThis.window);
}
cometd.configure({ url, logLevel: "warn" });

const maybeDone = () => {
    if (result.echo === null || result.push === null) {
        return;
    }
    cometd.disconnect((reply) => {
        result.disconnected = reply.successful === true;
        clearTimeout(deadline);
        finish(0);
    });
};

cometd.addListener("/meta/unsuccessful", (m) => result.errors.push(m.error || (m.failure && m.failure.reason) || "unsuccessful"));

cometd.handshake((reply) => {
    if (!reply.successful) {
        return;
    }
    result.handshake = true;
    result.transport = cometd.getTransport().type;
    cometd.subscribe("/service/echo", (m) => {
        if (m.data.echo !== undefined) {
            result.echo = m.data.echo;
        }
        if (m.data.push !== undefined) {
            result.push = m.data.push;
        }
        maybeDone();
    }, (sub) => {
        result.subscribed = sub.successful === true;
        cometd.publish("/service/echo", { op: "echo", text }, (pub) => {
            result.published = pub.successful === true;
        });
    });
});
