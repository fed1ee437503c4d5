// Scenarios (b) and (c), with a rejected invitation: alice and bob are
// ready; the router invites alice (idle the longest), who rejects, so the
// chat goes to bob. Bob transfers it to alice, who places it on hold in her
// workbin (async hold); the customer writes meanwhile; alice picks it up
// from the workbin and answers. The customer's transcript stays complete, in
// order, without duplicates.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const alice = await t.newPage(browser, 1000, 700);
  const bob = await t.newPage(browser, 1000, 700);
  const customer = await t.newPage(browser, 420, 700);
  await t.agentLogin(alice, "alice");
  await t.agentLogin(bob, "bob");
  await t.customerStart(customer, "Ben", "Refund");
  const rejected = alice.locator(".invite", { hasText: "Ben" });
  await rejected.locator(".reject").click();
  await rejected.waitFor({ state: "detached" });
  await bob.locator(".invite", { hasText: "Ben" }).waitFor();
  t.check(await alice.locator(".invite").count() === 0, "alice was invited again to the chat she rejected");
  await t.screenshot(bob, "desktop-rerouted-invitation");
  const bobPanel = await t.accept(bob, "Ben");
  await t.customerSays(customer, "I need help with a refund");
  await bobPanel.locator("li.ev-Message .text", { hasText: "refund" }).waitFor();
  await t.agentSays(bobPanel, "Passing you to our refunds expert");

  await bobPanel.locator(".target").fill("alice");
  await bobPanel.locator(".transfer-agent").click();
  await alice.locator(".invite", { hasText: "Transfer from bob" }).waitFor();
  await t.screenshot(alice, "desktop-transfer-invitation");
  const alicePanel = await t.accept(alice, "Ben");
  await bobPanel.locator("li.note", { hasText: "no longer handle" }).waitFor();
  await t.screenshot(bob, "desktop-transferred-away");
  await alicePanel.locator("li.ev-Message .text", { hasText: "I need help with a refund" }).waitFor();
  await t.agentSays(alicePanel, "Hi Ben, Alice here");
  await customer.locator("#transcript li.msg .text", { hasText: "Alice here" }).waitFor();

  await alicePanel.locator(".hold").click();
  await alice.locator("#workbin li", { hasText: "Ben" }).waitFor();
  await t.screenshot(alice, "desktop-on-hold");
  await t.customerSays(customer, "Any news?");
  await alice.locator("#workbin li", { hasText: "Ben" }).locator(".pickup").click();
  const resumed = alice.locator(".panel:not([hidden])");
  await resumed.locator("li.ev-Message .text", { hasText: "Any news?" }).waitFor();
  await t.agentSays(resumed, "Yes: your refund was sent");
  await customer.locator("#transcript li.msg .text", { hasText: "refund was sent" }).waitFor();
  await t.screenshot(alice, "desktop-picked-up");
  await t.screenshot(customer, "widget-after-hold");

  const want = ["I need help with a refund", "Passing you to our refunds expert", "Hi Ben, Alice here", "Any news?", "Yes: your refund was sent"];
  const seen = await t.customerTexts(customer);
  t.check(JSON.stringify(seen) === JSON.stringify(want), `customer transcript ${JSON.stringify(seen)}`);
  const aliceSeen = await t.agentTexts(resumed);
  t.check(JSON.stringify(aliceSeen) === JSON.stringify(want), `alice's transcript ${JSON.stringify(aliceSeen)}`);
  console.log(JSON.stringify({ done: "transfer" }));
} finally {
  await browser.close();
}
