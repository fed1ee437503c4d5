// An agent Not Ready on chat with a reason is not offered chats: alice, idle
// the longest, goes Not Ready for chat (lunch), so the first customer's chat
// goes to bob; bob goes Not Ready (break) and alice Ready for chat again, so
// the second customer's chat goes to her.
import * as t from "./common.mjs";

const browser = await t.launch();
try {
  const alice = await t.newPage(browser, 1000, 700);
  const bob = await t.newPage(browser, 1000, 700);
  const ann = await t.newPage(browser, 420, 700);
  const ben = await t.newPage(browser, 420, 700);
  await t.agentLogin(alice, "alice");
  await t.agentLogin(bob, "bob");
  await alice.locator("#chat-state").selectOption("Lunch");
  await alice.locator('#chat-state[data-server="Lunch"]').waitFor({ state: "attached" });
  await t.screenshot(alice, "desktop-not-ready-for-chat");

  await t.customerStart(ann, "Ann", "Order");
  await bob.locator(".invite", { hasText: "Ann" }).waitFor();
  t.check(await alice.locator(".invite").count() === 0, "alice, Not Ready for chat, was invited");
  await t.accept(bob, "Ann");
  await bob.locator("#state").selectOption("Break");
  await bob.locator('#state[data-server="Break"]').waitFor({ state: "attached" });

  await alice.locator("#chat-state").selectOption("ready");
  await t.customerStart(ben, "Ben", "Refund");
  await alice.locator(".invite", { hasText: "Ben" }).waitFor();
  t.check(await bob.locator(".invite").count() === 0, "bob, Not Ready, was invited");
  console.log(JSON.stringify({ done: "notready" }));
} finally {
  await browser.close();
}
