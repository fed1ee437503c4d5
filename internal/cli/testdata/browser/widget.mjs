// The embedded widget (issue 24): a shop's page on another origin, under
// its own strict CSP, embeds the chat with one script tag. The launcher
// opens the panel with the shop's title, colour and pre-chat field; axe-core
// finds no WCAG 2.1 A/AA violation in each state; the agent sees the field;
// with the panel closed an agent message shows as an unread count on the
// launcher and in the page title; the customer rates the chat as they end
// it and downloads the transcript; on a phone the panel fills the screen;
// the agent, notified of the invitation, sees the customer leave and is
// done with a disposition; with WebSockets refused, the widget's Bayeux
// client chats over long polling, and with CometD unreachable the widget
// chats over REST; the returning customer's earlier chat shows in the
// customer panel, and a standard response is kept, found and inserted.
// Usage: node widget.mjs <web API base> <screenshot dir> <shop page URL>.
// It prints "chat <id>" for the Go test, which checks the filed interaction.
import * as t from "./common.mjs";
import { readFileSync } from "node:fs";

const shopURL = process.argv[4];
const axeCheck = t.axeCheck;

// pageErrors are the uncaught errors of every page: none is allowed.
const pageErrors = [];
const watch = (page) => { page.on("pageerror", (err) => pageErrors.push(`${page.url()}: ${err.message}`)); return page; };

// exchange has the agent (panel) and the customer (page) each say a line
// the other sees, and checks the customer's status line.
async function exchange(page, panel, agentText, customerText) {
  await t.agentSays(panel, agentText);
  await page.locator("#transcript li.msg .text", { hasText: agentText }).waitFor();
  await t.customerSays(page, customerText);
  await panel.locator("li.ev-Message .text", { hasText: customerText }).waitFor();
  await t.waitStatus(page, "Chatting with alice");
}

async function openPanel(shop) {
  await shop.click("#parley-launcher");
  const el = shop.locator("#parley-chat");
  await el.waitFor();
  const frame = await (await el.elementHandle()).contentFrame();
  await frame.waitForSelector("html[data-ready]");
  return frame;
}

const browser = await t.launch();
try {
  const agent = watch(await t.newPage(browser, 1100, 760));
  await agent.context().grantPermissions(["notifications"], { origin: new URL(t.base).origin });
  await t.agentLogin(agent, "alice");
  // The desktop notifies a new invitation: the notifications it shows are kept.
  await agent.evaluate(() => {
    window.notified = [];
    window.Notification = class { static permission = "granted"; constructor(title) { window.notified.push(title); } close() {} };
  });
  await t.setState(agent, "alice", "ready", "Ready");

  const shop = watch(await t.newPage(browser, 1000, 760));
  const refused = [];
  shop.on("console", (m) => { if (/Content Security Policy|Refused/i.test(m.text())) refused.push(m.text()); });
  await shop.goto(shopURL);
  const launcher = shop.locator("#parley-launcher");
  await launcher.waitFor();
  t.check(await shop.locator("#parley-chat").isHidden(), "the panel shows before the launcher is clicked");
  await t.screenshot(shop, "shop-launcher");

  const frame = await openPanel(shop);
  const title = await frame.locator("#title").textContent();
  t.check(title === "Acme help", `the panel's title is ${JSON.stringify(title)}`);
  const bar = await frame.locator(".bar").evaluate((el) => getComputedStyle(el).backgroundColor);
  t.check(bar === "rgb(122, 31, 162)", `the panel's colour is ${bar}`);
  await t.recordStatus(frame);
  await axeCheck(frame, "the pre-chat form");
  await t.screenshot(shop, "shop-prechat");

  await frame.fill("#nickname", "Ann");
  await frame.click("#start");
  await frame.locator("#prechat-error", { hasText: "Order number" }).waitFor();
  await frame.fill("#field-OrderNumber", "A-1001");
  await frame.click("#start");
  await frame.waitForSelector("#chat:not([hidden])");

  await agent.locator(".invite", { hasText: "Ann" }).waitFor();
  const notified = await agent.evaluate(() => window.notified);
  t.check(notified.includes("Chat: Ann"), `the desktop notified ${JSON.stringify(notified)}`);
  const panel = await t.accept(agent, "Ann");
  await panel.locator(".userdata dd", { hasText: "A-1001" }).waitFor();
  console.log(`chat ${await panel.getAttribute("data-id")}`);
  await t.agentSays(panel, "Hello Ann, how can I help?");
  await frame.locator("#transcript li.msg .text", { hasText: "how can I help" }).waitFor();
  await t.waitStatus(frame, "Chatting with alice");
  await axeCheck(frame, "the conversation");
  await t.screenshot(shop, "shop-chatting");
  await t.screenshot(agent, "desktop-userdata");

  // Closed, the panel counts what the customer has not seen.
  await launcher.click();
  await shop.locator("#parley-chat").waitFor({ state: "hidden" });
  await t.agentSays(panel, "Your order ships today");
  await shop.locator("#parley-unread", { hasText: "1" }).waitFor();
  await shop.waitForFunction(() => document.title === "(1) Acme shop");
  const label = await launcher.getAttribute("aria-label");
  t.check(label.includes("1 unread"), `the launcher's label is ${JSON.stringify(label)}`);
  await t.screenshot(shop, "shop-unread");
  await launcher.click();
  await shop.locator("#parley-unread").waitFor({ state: "hidden" });
  await shop.waitForFunction(() => document.title === "Acme shop");

  // Ending: a rating in the confirmation, then the transcript.
  await frame.click("#end");
  await frame.locator("#rating:not([hidden])").waitFor();
  await frame.check('#rating input[value="4"]');
  await axeCheck(frame, "the end confirmation");
  await t.screenshot(shop, "shop-rating");
  await frame.click("#end-yes");
  await t.waitStatus(frame, "Chat ended");
  await panel.locator(".transcript li", { hasText: "Ann left" }).first().waitFor();
  const [download] = await Promise.all([shop.waitForEvent("download"), frame.click("#save-transcript")]);
  const saved = readFileSync(await download.path(), "utf8");
  t.check(saved.includes("Hello Ann, how can I help?") && saved.includes("Your order ships today") && saved.startsWith("Acme help"),
    `the downloaded transcript: ${JSON.stringify(saved)}`);
  await axeCheck(frame, "the ended chat");
  await t.screenshot(shop, "shop-ended");
  t.check(refused.length === 0, `the shop's CSP refused: ${refused.join("; ")}`);

  // The customer left: the desktop says so, the chat is no longer
  // writable, and Done needs a disposition; Done ends the chat, whose final
  // transcript is filed.
  const wrapup = panel.locator(".wrapup");
  await wrapup.locator(".wrapup-why", { hasText: "Ann left the chat" }).waitFor();
  t.check(await panel.locator("textarea").isDisabled(), "the agent can still write to a customer who left");
  t.check(await panel.locator(".transfer-agent").isVisible(), "the transfer controls are folded away");
  await t.screenshot(agent, "desktop-customer-left");
  await axeCheck(agent.mainFrame(), "the desktop's wrap-up");
  await wrapup.locator(".done").click();
  await agent.locator("#alert", { hasText: "Pick a disposition" }).waitFor();
  await wrapup.locator(".disposition").selectOption("Resolved");
  await wrapup.locator(".done").click();
  await panel.locator(".transcript li.note", { hasText: "Done: Resolved." }).waitFor();
  t.check(await agent.locator("#alert", { hasText: "no longer handle" }).count() === 0, "Done says the agent no longer handles the chat");
  await t.screenshot(agent, "desktop-done");

  // On a phone the panel fills the screen and minimizes from its header.
  const phone = watch(await t.newPage(browser, 390, 760));
  await phone.goto(shopURL);
  const small = await openPanel(phone);
  const box = await phone.locator("#parley-chat").boundingBox();
  t.check(box.width === 390 && box.height === 760, `the panel on a phone is ${JSON.stringify(box)}`);
  t.check(await phone.locator("#parley-launcher").isHidden(), "the launcher covers the panel on a phone");
  await axeCheck(small, "the pre-chat form on a phone");
  await t.screenshot(phone, "phone-prechat");
  await small.click("#minimize");
  await phone.locator("#parley-chat").waitFor({ state: "hidden" });
  await phone.locator("#parley-launcher").waitFor();

  // Where WebSockets are refused (a proxy that does not pass them), the
  // widget's own Bayeux client holds the chat over long polling.
  const lp = watch(await t.newPage(browser, 420, 760));
  await lp.addInitScript(() => {
    window.WebSocket = class {
      static OPEN = 1;
      constructor() { this.readyState = 0; setTimeout(() => { this.readyState = 3; if (this.onclose) this.onclose({ code: 1006 }); }, 10); }
      send() { throw new Error("not open"); }
      close() {}
    };
  });
  const lpStart = Date.now();
  await t.customerStart(lp, "Bo", "Long polling", "bo@example.com");
  const conn = await lp.locator("#state").evaluate((el) => [el.dataset.transport, el.dataset.connection]);
  t.check(conn[0] === "cometd" && conn[1] === "long-polling", `with WebSockets refused the widget uses ${conn}`);
  const bo = await t.accept(agent, "Bo");
  await exchange(lp, bo, "Hello Bo, over long polling", "Thanks, it works");
  await t.screenshot(lp, "widget-long-polling");
  // The agent ends it: End chat asks for the disposition too.
  await bo.locator(".end").click();
  await bo.locator(".wrapup .disposition").selectOption("Escalated");
  await bo.locator(".wrapup .done").click();
  await bo.locator(".transcript li.note", { hasText: "Done: Escalated." }).waitFor();
  console.log(JSON.stringify({ longPollingChatMs: Date.now() - lpStart }));

  // Where CometD cannot be reached at all, the widget falls back on REST
  // polling.
  const rest = watch(await t.newPage(browser, 420, 760));
  await rest.route("**/genesys/cometd**", (route) => route.abort());
  await rest.routeWebSocket(/\/genesys\/cometd/, (ws) => ws.close());
  await t.customerStart(rest, "Cy", "REST", "bo@example.com");
  const restConn = await rest.locator("#state").evaluate((el) => el.dataset.transport);
  t.check(restConn === "rest", `with CometD unreachable the widget uses ${restConn}`);
  const cy = await t.accept(agent, "Cy");
  // The same e-mail address: the customer panel shows the contact and the
  // chat before, with its transcript.
  await cy.locator(".contact", { hasText: "Known customer" }).waitFor();
  const contactLine = await cy.locator(".contact").textContent();
  t.check(contactLine.includes("bo@example.com") && contactLine.includes("1 earlier chat"), `the customer panel says ${JSON.stringify(contactLine)}`);
  await cy.locator(".history summary").first().click();
  const past = cy.locator(".history-list > li").first();
  await past.locator("summary").click();
  await past.locator(".past-transcript li", { hasText: "Hello Bo, over long polling" }).waitFor();
  t.check((await past.locator("summary").textContent()).includes("Escalated"), "the previous chat does not show its disposition");
  await t.screenshot(agent, "desktop-customer-history");

  // Standard responses: the agent keeps a message as one, then finds it
  // with Ctrl+/ and inserts it with Enter.
  const entry = cy.locator("textarea");
  await entry.fill("Thank you for your patience!");
  await cy.locator(".response-new summary").click();
  await cy.locator(".response-name").fill("Patience");
  await cy.locator(".response-save").click();
  await cy.locator(".transcript li.note", { hasText: 'Saved the standard response "Patience"' }).waitFor();
  await entry.fill("");
  await entry.press("Control+/");
  await cy.locator(".response-search").pressSequentially("PATIENCE");
  await cy.locator(".response-list li", { hasText: "Patience" }).waitFor();
  await axeCheck(agent.mainFrame(), "the desktop's standard responses");
  await t.screenshot(agent, "desktop-standard-responses");
  await cy.locator(".response-search").press("Enter");
  const inserted = await entry.inputValue();
  t.check(inserted === "Thank you for your patience!", `the response inserted ${JSON.stringify(inserted)}`);
  await entry.press("Enter");
  await rest.locator("#transcript li.msg .text", { hasText: "Thank you for your patience!" }).waitFor();
  await exchange(rest, cy, "Hello Cy, over REST", "REST works too");
  await t.screenshot(rest, "widget-rest");
  t.check(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join("; ")}`);
  console.log(JSON.stringify({ done: "widget", status: await t.statusSeen(frame) }));
} finally {
  await browser.close();
}
