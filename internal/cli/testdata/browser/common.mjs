// Helpers shared by the browser scenarios: Debian's chromium driven by
// playwright-core, screenshots, and the line protocol with the Go test
// (a scenario writes {"kill": "<app>"} on stdout and waits for a line on
// stdin once the Go test has killed that application).
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node <scenario>.mjs <web-api base url> <screenshot dir>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

// Waits are bounded: a scenario fails rather than hangs.
export const timeout = 20000;

const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
// Over https the Go test pins the web API's certificate: chromium accepts
// a certificate with that public key (base64 SHA-256 of its
// SubjectPublicKeyInfo) from the test CA it does not know, and nothing else.
if (process.env.PARLEY_SPKI_PIN) flags.push(`--ignore-certificate-errors-spki-list=${process.env.PARLEY_SPKI_PIN}`);

// launch starts chromium; playwright gives it a fresh temporary
// --user-data-dir, and each context is a separate profile.
export async function launch() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: flags, timeout });
}

export async function newPage(browser, width, height) {
  const context = await browser.newContext({ viewport: { width, height } });
  context.setDefaultTimeout(timeout);
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`page error on ${page.url()}: ${err.message}`));
  return page;
}

let shot = 0;
export async function screenshot(page, name) {
  shot++;
  const file = path.join(outDir, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// sideBySide renders the screenshots files next to each other into one
// image, name.png (the README's picture comes from the HA scenario).
export async function sideBySide(browser, files, name) {
  const page = await newPage(browser, 1560, 780);
  const imgs = files.map((f) => `<img src="data:image/png;base64,${readFileSync(f).toString("base64")}">`).join("");
  await page.setContent(`<body style="margin:0;padding:10px;background:#dfe3e8;display:flex;gap:10px;align-items:flex-start">${imgs}</body>`);
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
  await page.context().close();
}

// kill asks the Go test to SIGKILL application name and waits until it did.
// stdin is read only meanwhile, so that it does not keep node running.
export async function kill(name) {
  const rl = createInterface({ input: process.stdin });
  const line = new Promise((resolve) => {
    rl.once("line", resolve);
    rl.once("close", () => resolve(null));
  });
  console.log(JSON.stringify({ kill: name }));
  const answer = await line;
  rl.close();
  process.stdin.pause();
  if (answer === null) throw new Error("the Go test closed stdin");
}

// texts returns the text of every element matching selector, in order.
export async function texts(page, selector) {
  return page.locator(selector).allTextContents();
}

export function check(cond, what) {
  if (!cond) throw new Error(what);
}

// noDuplicates fails when a text appears twice.
export function noDuplicates(list, who) {
  const seen = new Set();
  for (const t of list) {
    check(!seen.has(t), `${who} shows ${JSON.stringify(t)} twice: ${JSON.stringify(list)}`);
    seen.add(t);
  }
}

// inOrder fails unless want appears in list as a subsequence, in order.
export function inOrder(list, want, who) {
  let i = 0;
  for (const t of list) if (t === want[i]) i++;
  check(i === want.length, `${who} transcript ${JSON.stringify(list)} lacks, in order, ${JSON.stringify(want)}`);
}

// Desktop and widget actions.

export async function agentLogin(page, agent) {
  await page.goto(`${base}/desktop/`);
  await page.fill("#agent-id", agent);
  await page.fill("#password", agent);
  await page.click("#login-button");
  await page.waitForSelector("#agent-bar:not([hidden])");
}

// setState picks value in the desktop's state menu, then checks, in the
// supervisor panel, that the interaction server has the agent in the state
// shown (a refused change puts the menu back, with an alert).
export async function setState(page, agent, value, shown) {
  await page.selectOption("#state", value);
  await supervisorShows(page, "agents", [agent, shown]);
  const menu = await page.locator("#state").evaluate((s) => ({ value: s.value, text: s.selectedOptions[0].textContent }));
  check(menu.value === value, `the state menu shows ${JSON.stringify(menu)}, want ${value}`);
  check(await page.locator("#alert:not([hidden])").count() === 0, "the desktop shows an alert");
}

// supervisorShows opens the desktop's supervisor panel and refreshes it
// until a row of table ("queues" or "agents") has a cell for each of cells.
export async function supervisorShows(page, table, cells) {
  const panel = page.locator("#supervisor");
  if (!(await panel.evaluate((d) => d.open))) await panel.locator("summary").click();
  let row = page.locator(`#overview-${table} tr`);
  for (const c of cells) row = row.filter({ has: page.getByRole("cell", { name: c, exact: true }) });
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.click("#supervisor-refresh");
    try {
      await row.first().waitFor({ timeout: 1000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        const seen = await page.locator(`#overview-${table} tr`).allTextContents();
        throw new Error(`the supervisor's ${table} never showed ${JSON.stringify(cells)}: ${JSON.stringify(seen)}`);
      }
    }
  }
}

export async function customerStart(page, nickname, subject, email = "") {
  await page.goto(`${base}/widget/`);
  await page.waitForSelector("html[data-ready]");
  await recordStatus(page);
  await page.fill("#nickname", nickname);
  await page.fill("#subject", subject);
  if (email) await page.fill("#emailAddress", email);
  await page.click("#start");
  await page.waitForSelector("#chat:not([hidden])");
}

// accept accepts the invitation from nickname and returns the chat panel.
// recordStatus keeps every text the widget's status line shows in
// window.statusSeen, for checks of what it never said.
export async function recordStatus(page, selector = "#state") {
  await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    window.statusSeen = [];
    const note = () => { if (window.statusSeen.at(-1) !== el.textContent) window.statusSeen.push(el.textContent); };
    new MutationObserver(note).observe(el, { childList: true, characterData: true, subtree: true });
  }, selector);
}

export const statusSeen = (page) => page.evaluate(() => window.statusSeen);

// waitStatus waits until the widget's status line reads text (a string it
// contains, or a RegExp).
export async function waitStatus(page, text) {
  try {
    await page.waitForFunction((want) => {
      const now = document.querySelector("#state").textContent;
      return want.re ? new RegExp(want.re).test(now) : now.includes(want.s);
    }, text instanceof RegExp ? { re: text.source } : { s: text }, { timeout });
  } catch {
    throw new Error(`the widget's status never read ${text}: ${JSON.stringify(await statusSeen(page))}`);
  }
}

export async function accept(page, nickname) {
  const invite = page.locator(".invite", { hasText: nickname });
  await invite.locator(".accept").click();
  const panel = page.locator(".panel:not([hidden])");
  await panel.locator(".transcript li", { hasText: `${nickname} joined` }).first().waitFor();
  return panel;
}

export async function agentSays(panel, text, internal = false) {
  await panel.locator(".internal").setChecked(internal);
  await panel.locator("textarea").fill(text);
  await panel.locator("textarea").press("Enter");
  await panel.locator("li.ev-Message .text", { hasText: text }).first().waitFor();
}

export async function customerSays(page, text) {
  await page.fill("#message", text);
  await page.click("#send");
  await page.locator("#transcript li.msg .text", { hasText: text }).first().waitFor();
}

export const agentTexts = (panel) => panel.locator("li.ev-Message .text").allTextContents();
export const customerTexts = (page) => texts(page, "#transcript li.msg .text");

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const wcag = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// axeCheck runs axe-core in frame and fails on any WCAG A/AA violation.
export async function axeCheck(frame, what) {
  await frame.evaluate(axeSource);
  const res = await frame.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), wcag);
  const found = res.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  check(found.length === 0, `axe-core on ${what}: ${found.join("; ")}`);
  console.log(`axe-core on ${what}: ${res.passes.length} rules pass, no violation`);
}
