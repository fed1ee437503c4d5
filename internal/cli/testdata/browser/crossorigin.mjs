// The customer page of another origin than the web API's (issue 20, "Done
// when"): for each mode (REST, then the official CometD client forced to
// websocket, long-polling and callback-polling) a whole chat, with a page
// reload in the middle that resumes it with the key of the latest reply.
// Usage: node crossorigin.mjs <web API base> <screenshot dir> <page URL>.
// It prints {"chat": {...}} and waits for a line on stdin once the Go test's
// agent joined; the agent answers each customer message with "re: " + it.
import { base, launch, newPage, screenshot, timeout } from "./common.mjs";
import { createInterface } from "node:readline";

const pageURL = process.argv[4];
const lines = createInterface({ input: process.stdin });
const line = () => new Promise((resolve) => lines.once("line", resolve));

const browser = await launch();
let failed = false;
try {
  for (const mode of ["rest", "websocket", "long-polling", "callback-polling"]) {
    const page = await newPage(browser, 480, 640);
    const url = `${pageURL}?mode=${mode}&api=${encodeURIComponent(base)}`;
    await page.goto(url);
    await page.waitForFunction(() => window.ready === true);
    const chat = await page.evaluate(() => window.start());
    if (chat.transport !== mode) throw new Error(`${mode}: the client uses ${chat.transport}`);
    console.log(JSON.stringify({ chat: { ...chat, mode } }));
    await line();
    const exchange = async (text) => {
      await page.evaluate((t) => window.say(t), text);
      await page.waitForFunction((t) => window.seen.includes("re: " + t), text, { timeout });
    };
    await exchange(`hello over ${mode}`);
    await screenshot(page, `${mode}-chat`);
    const before = await page.evaluate(() => window.keys[window.keys.length - 1]);
    await page.reload();
    await page.waitForFunction(() => window.ready === true);
    const resumed = await page.evaluate(() => window.resume());
    if (resumed.secureKey !== before) throw new Error(`${mode}: resumed with key ${resumed.secureKey}, the latest reply had ${before}`);
    console.log(JSON.stringify({ resumed: { mode, pos: resumed.pos, transport: resumed.transport } }));
    await exchange(`after reload over ${mode}`);
    const errors = await page.evaluate(() => window.seen.filter((s) => s.startsWith("error")));
    if (errors.length) throw new Error(`${mode}: ${errors.join("; ")}`);
    await screenshot(page, `${mode}-resumed`);
    await page.context().close();
  }
} catch (err) {
  console.error(String(err && err.stack || err));
  failed = true;
} finally {
  await browser.close();
  lines.close();
}
process.exit(failed ? 1 : 0);
