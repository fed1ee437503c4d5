// The supervisor (issue 24): a customer in the widget, alice on the desktop
// and sue, a supervisor, on a second desktop. Sue finds the chat in her
// Supervisor panel's live chats and monitors it silently (the customer sees
// no one join), leaves, coaches alice (alice sees the note, the customer
// does not), leaves, and barges in (the customer sees her message). axe-core
// finds no WCAG A/AA violation in the panel with its live chats.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const alice = await t.newPage(browser, 1000, 700);
  const sue = await t.newPage(browser, 1100, 800);
  const customer = await t.newPage(browser, 420, 700);
  await t.agentLogin(alice, "alice");
  await t.agentLogin(sue, "sue");
  await t.setState(sue, "sue", "Break", "Not ready: Break"); // the chat goes to alice
  await t.customerStart(customer, "Ben", "Refund");
  const alicePanel = await t.accept(alice, "Ben");
  await t.customerSays(customer, "Where is my refund?");
  await t.agentSays(alicePanel, "Let me check, Ben");
  await customer.locator("#transcript li.msg .text", { hasText: "Let me check" }).waitFor();

  // join opens sue's panel, finds alice's chat among the live chats and
  // joins it with the button label; it returns sue's chat panel.
  const join = async (label) => {
    await t.supervisorShows(sue, "chats", ["alice"]);
    const row = sue.locator("#overview-chats tr", { hasText: "alice" });
    await row.getByRole("button", { name: new RegExp(`^${label}`) }).click();
    const panel = sue.locator(".panel:not([hidden])");
    await panel.locator(".supervising").waitFor();
    await panel.locator("li.ev-Message .text", { hasText: "Let me check, Ben" }).waitFor();
    return panel;
  };
  const leave = async (panel) => {
    await panel.locator(".leave").click();
    await panel.waitFor({ state: "detached" });
  };

  await t.supervisorShows(sue, "chats", ["alice"]);
  await t.axeCheck(sue.mainFrame(), "the supervisor panel with live chats");

  let panel = await join("Monitor");
  t.check(await panel.locator(".composer").isHidden(), "monitoring shows a message box");
  const load = await sue.locator("#load").textContent();
  t.check(load === "0 of 3 chats", `a monitored chat counts in the supervisor's load: ${load}`);
  await t.customerSays(customer, "Hello?");
  await panel.locator("li.ev-Message .text", { hasText: "Hello?" }).waitFor();
  await t.screenshot(sue, "supervisor-monitor");
  await leave(panel);

  panel = await join("Coach");
  t.check(await panel.locator(".internal").isChecked(), "coaching does not send internal messages");
  await panel.locator("textarea").fill("Offer the 10% voucher");
  await panel.locator("textarea").press("Enter");
  await alicePanel.locator("li.ev-Message .text", { hasText: "Offer the 10% voucher" }).waitFor();
  await t.screenshot(alice, "agent-coached");
  await t.agentSays(alicePanel, "We can offer you a voucher");
  await customer.locator("#transcript li.msg .text", { hasText: "voucher" }).waitFor();
  await leave(panel);
  const before = (await t.texts(customer, "#transcript li")).join("\n");
  t.check(!/sue/i.test(before), `the customer saw the monitoring or coaching supervisor:\n${before}`);

  panel = await join("Barge in");
  await panel.locator("textarea").fill("Hi Ben, I am Sue, the team lead");
  await panel.locator("textarea").press("Enter");
  await customer.locator("#transcript li.msg .text", { hasText: "I am Sue" }).waitFor();
  await alicePanel.locator("li.ev-Message .text", { hasText: "I am Sue" }).waitFor();
  await t.screenshot(sue, "supervisor-barge-in");
  await t.screenshot(customer, "widget-barge-in");
  await leave(panel);

  const seen = await t.customerTexts(customer);
  const want = ["Where is my refund?", "Let me check, Ben", "Hello?", "We can offer you a voucher", "Hi Ben, I am Sue, the team lead"];
  t.check(JSON.stringify(seen) === JSON.stringify(want), `customer transcript ${JSON.stringify(seen)}, want ${JSON.stringify(want)}`);
  // The customer saw sue join only when she barged in.
  const all = (await t.texts(customer, "#transcript li")).join("\n");
  const joins = (all.match(/sue joined/gi) || []).length;
  t.check(joins <= 1, `the customer saw the supervisor join ${joins} times:\n${all}`);
  console.log(JSON.stringify({ done: "supervisor" }));
} finally {
  await browser.close();
}
