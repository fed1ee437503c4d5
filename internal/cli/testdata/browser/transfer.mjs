// Scenarios (b) and (c): alice transfers a chat to bob, who places it on
// hold in his workbin (async hold); the customer writes meanwhile; bob picks
// it up from the workbin and answers. The customer's transcript stays
// complete, in order, without duplicates.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const alice = await t.newPage(browser, 1000, 700);
  const bob = await t.newPage(browser, 1000, 700);
  const customer = await t.newPage(browser, 420, 700);
  await t.agentLogin(alice, "alice");
  await t.customerStart(customer, "Ben", "Refund");
  await alice.locator(".invite", { hasText: "Ben" }).waitFor();
  const alicePanel = await t.accept(alice, "Ben");
  await t.agentLogin(bob, "bob");
  await t.customerSays(customer, "I need help with a refund");
  await alicePanel.locator("li.ev-Message .text", { hasText: "refund" }).waitFor();
  await t.agentSays(alicePanel, "Passing you to our refunds expert");

  await alicePanel.locator(".actions summary").click();
  await alicePanel.locator(".target").fill("bob");
  await alicePanel.locator(".transfer-agent").click();
  await bob.locator(".invite", { hasText: "Transfer from alice" }).waitFor();
  await t.screenshot(bob, "desktop-transfer-invitation");
  const bobPanel = await t.accept(bob, "Ben");
  await alicePanel.locator("li.note", { hasText: "no longer handle" }).waitFor();
  await t.screenshot(alice, "desktop-transferred-away");
  await bobPanel.locator("li.ev-Message .text", { hasText: "I need help with a refund" }).waitFor();
  await t.agentSays(bobPanel, "Hi Ben, Bob here");
  await customer.locator("#transcript li.msg .text", { hasText: "Bob here" }).waitFor();

  await bobPanel.locator(".actions summary").click();
  await bobPanel.locator(".hold").click();
  await bob.locator("#workbin li", { hasText: "Ben" }).waitFor();
  await t.screenshot(bob, "desktop-on-hold");
  await t.customerSays(customer, "Any news?");
  await bob.locator("#workbin li", { hasText: "Ben" }).locator(".pickup").click();
  const resumed = bob.locator(".panel:not([hidden])");
  await resumed.locator("li.ev-Message .text", { hasText: "Any news?" }).waitFor();
  await t.agentSays(resumed, "Yes: your refund was sent");
  await customer.locator("#transcript li.msg .text", { hasText: "refund was sent" }).waitFor();
  await t.screenshot(bob, "desktop-picked-up");
  await t.screenshot(customer, "widget-after-hold");

  const want = ["I need help with a refund", "Passing you to our refunds expert", "Hi Ben, Bob here", "Any news?", "Yes: your refund was sent"];
  const seen = await t.customerTexts(customer);
  t.check(JSON.stringify(seen) === JSON.stringify(want), `customer transcript ${JSON.stringify(seen)}`);
  const bobSeen = await t.agentTexts(resumed);
  t.check(JSON.stringify(bobSeen) === JSON.stringify(want), `bob's transcript ${JSON.stringify(bobSeen)}`);
  console.log(JSON.stringify({ done: "transfer" }));
} finally {
  await browser.close();
}
