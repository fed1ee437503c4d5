// Scenario (a) and (d): the seed's "Run a Test" with a customer in the
// widget and an agent in the desktop. They talk, the agent adds an internal
// (INT) note, the chat server that owns the chat is killed, both pages show
// the reconnect, they talk again, and each transcript is complete, in order,
// without duplicates; the customer never sees the INT note.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const agent = await t.newPage(browser, 1100, 760);
  const customer = await t.newPage(browser, 420, 760);
  await t.agentLogin(agent, "alice");
  await t.screenshot(agent, "desktop-ready");
  await t.customerStart(customer, "Ann", "Order 42");
  await agent.locator(".invite", { hasText: "Ann" }).waitFor();
  await t.screenshot(agent, "desktop-invitation");
  const panel = await t.accept(agent, "Ann");

  await t.customerSays(customer, "Hello, my order 42 is late");
  await panel.locator("li.ev-Message .text", { hasText: "my order 42 is late" }).waitFor();
  await t.agentSays(panel, "Hi Ann, let me check that for you");
  await customer.locator("#transcript li.msg .text", { hasText: "let me check" }).waitFor();
  await t.agentSays(panel, "INT: customer is a VIP", true);
  await t.screenshot(agent, "desktop-chatting");
  await t.screenshot(customer, "widget-chatting");

  const owner = (await panel.locator(".server").textContent()).replace(/^on /, "");
  await t.kill(owner);
  await panel.locator("li.note", { hasText: "Reconnected" }).waitFor();
  await customer.locator("#transcript li", { hasText: "alice joined the chat" }).nth(1).waitFor();
  await t.screenshot(agent, "desktop-reconnected");
  await t.screenshot(customer, "widget-reconnected");

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
  console.log(JSON.stringify({ done: "ha", owner }));
} finally {
  await browser.close();
}
