// Scenario (a) and (d): the seed's "Run a Test" with a customer in the
// widget and an agent in the desktop. The agent goes not ready, the chat
// waits in the queue (the supervisor panel shows it), the agent goes ready
// and gets it. They talk, the agent adds an internal (INT) note, the chat
// server that owns the chat is killed, both pages show one reconnect note
// (the customer does not see anybody leave), they talk again, and each
// transcript is complete, in order, without duplicates; the customer never
// sees the INT note.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const agent = await t.newPage(browser, 1100, 760);
  const customer = await t.newPage(browser, 420, 760);
  await t.agentLogin(agent, "alice");
  await t.setState(agent, "alice", "Lunch", "Not ready: Lunch");
  await t.screenshot(agent, "desktop-not-ready");
  await t.customerStart(customer, "Ann", "Order 42");
  // The queue notice comes with the chat-start reply: the status line shows it.
  await t.waitStatus(customer, "You are number 1 in the queue");
  await t.screenshot(customer, "widget-waiting");
  await t.supervisorShows(agent, "queues", ["1"]);
  t.check(await agent.locator(".invite").count() === 0, "a not ready agent was invited");
  await t.screenshot(agent, "desktop-chat-waiting");
  await t.setState(agent, "alice", "ready", "Ready");
  await agent.locator(".invite", { hasText: "Ann" }).waitFor();
  await t.screenshot(agent, "desktop-invitation");
  const panel = await t.accept(agent, "Ann");

  await t.customerSays(customer, "Hello, my order 42 is late");
  await panel.locator("li.ev-Message .text", { hasText: "my order 42 is late" }).waitFor();
  await t.agentSays(panel, "Hi Ann, let me check that for you");
  await customer.locator("#transcript li.msg .text", { hasText: "let me check" }).waitFor();
  // "rest" would be the fallback: the widget's own Bayeux client must hold the chat.
  const transport = await customer.locator("#state").getAttribute("data-transport");
  const connection = await customer.locator("#state").getAttribute("data-connection");
  t.check(transport === "cometd" && connection === "websocket", `the widget is not on CometD over a WebSocket: it uses ${transport}, ${connection}`);
  await t.waitStatus(customer, "Chatting with alice");
  await t.agentSays(panel, "INT: customer is a VIP", true);
  await t.screenshot(agent, "desktop-chatting");
  await t.screenshot(customer, "widget-chatting");

  const owner = (await panel.locator(".server").textContent()).replace(/^on /, "");
  await t.kill(owner);
  await panel.locator("li.note", { hasText: "Reconnected" }).waitFor();
  await customer.locator("#transcript li.reconnected", { hasText: "Reconnected — your chat continues" }).waitFor();
  await t.screenshot(agent, "desktop-reconnected");
  await t.screenshot(customer, "widget-reconnected");

  await t.waitStatus(customer, "Chatting with alice");
  await t.customerSays(customer, "Are you still there?");
  await panel.locator("li.ev-Message .text", { hasText: "still there" }).waitFor();
  await t.agentSays(panel, "Yes, it ships today");
  await customer.locator("#transcript li.msg .text", { hasText: "ships today" }).waitFor();
  const shots = [await t.screenshot(customer, "widget-after-failover"), await t.screenshot(agent, "desktop-after-failover")];
  await t.sideBySide(browser, shots, "side-by-side");

  const wantCustomer = ["Hello, my order 42 is late", "Hi Ann, let me check that for you", "Are you still there?", "Yes, it ships today"];
  const seenByCustomer = await t.customerTexts(customer);
  t.check(!seenByCustomer.some((x) => x.includes("VIP")), `the customer saw the INT note: ${JSON.stringify(seenByCustomer)}`);
  t.check(JSON.stringify(seenByCustomer) === JSON.stringify(wantCustomer), `customer transcript ${JSON.stringify(seenByCustomer)}`);
  const seenByAgent = await t.agentTexts(panel);
  const wantAgent = [...wantCustomer.slice(0, 2), "INT: customer is a VIP", ...wantCustomer.slice(2)];
  t.check(JSON.stringify(seenByAgent) === JSON.stringify(wantAgent), `agent transcript ${JSON.stringify(seenByAgent)}`);
  t.noDuplicates(seenByAgent, "the desktop");
  t.noDuplicates(seenByCustomer, "the widget");

  // The restoration's leave (reason 8) and join of each party read as one
  // note, not as people leaving.
  const lines = await t.texts(customer, "#transcript li");
  t.check(lines.filter((x) => x.startsWith("Reconnected")).length === 1, `the widget does not note the reconnect once: ${JSON.stringify(lines)}`);
  t.check(!lines.some((x) => x.includes("left the chat")), `the widget shows a restored party leaving: ${JSON.stringify(lines)}`);
  t.check(lines.filter((x) => x.startsWith("alice joined")).length === 1, `the widget shows alice joining again: ${JSON.stringify(lines)}`);
  const events = await t.texts(agent, ".panel:not([hidden]) .transcript li");
  t.check(events.filter((x) => x.includes("Reconnected")).length === 1, `the desktop does not note the reconnect once: ${JSON.stringify(events)}`);
  t.check(!events.some((x) => x.includes("left the chat")), `the desktop shows a restored party leaving: ${JSON.stringify(events)}`);

  // The customer ends the chat: a confirmation, then at once a status that
  // says so, then the end; the status never said "Connected" nor anything
  // but the chat's state, and nothing after the end.
  await customer.click("#end");
  await customer.locator("#confirm-end:not([hidden])").waitFor();
  await t.screenshot(customer, "widget-confirm-end");
  const clicked = Date.now();
  await customer.click("#end-yes");
  const right = await customer.locator("#state").textContent();
  t.check(right === "Ending the chat…" || right === "Chat ended", `the status right after End chat says ${JSON.stringify(right)}`);
  await t.waitStatus(customer, "Chat ended");
  console.log(JSON.stringify({ endedAfterMs: Date.now() - clicked }));
  await panel.locator(".transcript li", { hasText: "Ann left" }).first().waitFor();
  await t.screenshot(customer, "widget-ended");
  await new Promise((r) => setTimeout(r, 500));
  const said = await t.statusSeen(customer);
  const allowed = /^(|Connecting…|Waiting for an agent…|You are number \d+ in the queue\..*|Chatting with alice|Reconnecting…|Ending the chat…|Chat ended)$/;
  t.check(said.every((x) => allowed.test(x)), `the widget's status said ${JSON.stringify(said)}`);
  t.check(said.at(-1) === "Chat ended", `the widget's status after the end: ${JSON.stringify(said)}`);
  console.log(JSON.stringify({ status: said }));
  console.log(JSON.stringify({ done: "ha", owner }));
} finally {
  await browser.close();
}
