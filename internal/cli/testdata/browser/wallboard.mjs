// The wallboard (docs/stat.md) of a stat server, live: the page is open
// before anything happens; it asks for the admin token, then shows every
// agent logged out. The Go test then plays the scripted day (it waits for
// "ready" on stdout) and the page shows its figures without a reload.
import * as t from "./common.mjs";
import { createInterface } from "node:readline";

const browser = await t.launch();
try {
  const page = await t.newPage(browser, 1100, 700);
  await page.goto(`${t.base}/wallboard/`);
  await page.locator("#token").fill(process.env.PARLEY_ADMIN_TOKEN);
  await page.locator("#login button").click();
  const alice = page.locator('#agents tr[data-agent="alice"]');
  await alice.locator("td", { hasText: "LoggedOut" }).waitFor();
  await t.screenshot(page, "wallboard-before");
  console.log(JSON.stringify({ ready: true }));
  if (process.env.PARLEY_WALLBOARD_MODE === "bench") {
    await duringBench(page);
    process.exit(0);
  }

  const queue = page.locator('#queues tr[data-queue="default"] td');
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#queues tr[data-queue="default"] td')].map((td) => td.textContent);
    return cells[3] === "1" && cells[4] === "1";
  }, null, { timeout: t.timeout });
  const cells = await queue.allTextContents();
  t.check(cells[1] === "0", `chats in queue ${cells[1]}, want 0`);
  t.check(cells[6] === "100.0 %", `service level ${cells[6]}, want 100.0 %`);
  await page.locator('#agents tr[data-agent="bob"] td', { hasText: "WaitForNextCall" }).waitFor();
  const tiles = await t.texts(page, "#tiles .figure");
  t.check(tiles[1] === "2", `agents ready tile ${tiles[1]}, want 2`);
  await t.screenshot(page, "wallboard-after-the-day");
  createInterface({ input: process.stdin }).close();
} finally {
  await browser.close();
}

// duringBench: a parley bench run's chats reach the queue (no agent is
// logged in to the interaction server: the bench's agents join the chats
// directly) and end there, so the queue fills and its abandoned count
// grows, live.
async function duringBench(page) {
  const cell = (i) => page.evaluate((i) => {
    const td = document.querySelectorAll('#queues tr[data-queue="default"] td')[i];
    return td ? Number(td.textContent) : 0;
  }, i);
  await page.waitForFunction(() => {
    const td = document.querySelectorAll('#queues tr[data-queue="default"] td')[1];
    return td && Number(td.textContent) > 0;
  }, null, { timeout: 60000 });
  await t.screenshot(page, "wallboard-during-bench");
  t.check(await cell(1) > 0, "no chat in queue during the bench");
  await page.waitForFunction(() => {
    const td = document.querySelectorAll('#queues tr[data-queue="default"] td')[4];
    return td && Number(td.textContent) > 0;
  }, null, { timeout: 60000 });
  await t.screenshot(page, "wallboard-bench-abandoned");
}
