// Without users (no user.conf) the dashboard is public and actions are
// signed with the server secret, which the page asks for once per tab.

import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { SECRET, startBrowser, startDaemon, testsAfter, until } from './harness.mjs';

describe('dashboard without users', () => {
  let daemon;
  let browser;
  let page;

  const test = testsAfter(async () => {
    daemon = await startDaemon({ users: false });
    browser = await startBrowser(daemon.url, { width: 1280, height: 860 });
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (daemon) await daemon.stop();
  });

  const row = (id) => page.locator(`li.job[data-kind="job"][data-id="${id}"]`);

  test('the login page opens the dashboard at once', async () => {
    await page.goto(`${daemon.url}/karajo/`);
    await page.waitForURL(`${daemon.url}/karajo/app/`);
    await row('monthly').waitFor();
    assert.equal(await page.locator('#logout').count(), 0);
  });

  test('a wrong secret is refused and asked for again', async () => {
    await row('monthly').locator('button[data-action="pause"]').click();
    await page.locator('dialog #secret-input').fill('not-the-secret');
    await page.locator('dialog button[value="ok"]').click();
    await page.locator('.toast.bad').first().waitFor();
    assert.notEqual(await row('monthly').getAttribute('data-status'), 'paused');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('karajo.secret')), null);
  });

  test('pause and resume signed with the secret (job and HTTP job)', async () => {
    await row('monthly').locator('button[data-action="pause"]').click();
    await page.locator('dialog #secret-input').fill(SECRET);
    await page.locator('dialog button[value="ok"]').click();
    await until(async () => (await row('monthly').getAttribute('data-status')) === 'paused', 'paused');
    // The secret is kept for the tab: no dialog the second time.
    await row('monthly').locator('button[data-action="resume"]').click();
    await until(async () => (await row('monthly').getAttribute('data-status')) !== 'paused', 'resumed');
    assert.equal(await page.locator('dialog').count(), 0);

    const http = page.locator('li.job[data-kind="job_http"][data-id="health_probe"]');
    await http.locator('button[data-action="pause"]').click();
    await until(async () => (await http.getAttribute('data-status')) === 'paused', 'HTTP job paused');
    await http.locator('button[data-action="resume"]').click();
    await until(async () => (await http.getAttribute('data-status')) !== 'paused', 'HTTP job resumed');
  });

  test('the active panel cancels a run, signed with the kept secret', async () => {
    await row('e2e_long').locator('button[data-action="run"]').click();
    const item = page.locator('li.active-run[data-kind="job"][data-id="e2e_long"]');
    await until(async () => (await item.getAttribute('data-status')) === 'running', 'the run in the panel');
    await item.locator('button[data-action="cancel"]').click();
    await until(async () => (await row('e2e_long').getAttribute('data-status')) === 'canceled', 'canceled', 20_000);
    assert.equal(await item.count(), 0);
    assert.equal(await page.locator('dialog').count(), 0, 'no second ask for the secret');
  });

  test('no page error and no request left this origin', () => {
    assert.deepEqual(browser.errors, []);
    assert.deepEqual(browser.foreign, []);
  });
});
