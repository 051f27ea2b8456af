// Without users (no user.conf) the dashboard is public and actions are
// signed with the server secret, which the page asks for once per tab. The
// daemon runs with `classic_signatures = false`: the dashboard signs with
// the form that binds the action (X-Karajo-Signature), and a classic
// X-Karajo-Sign of the same call is refused. A check's pause is signed
// the same way.

import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { SECRET, startBrowser, startDaemon, testsAfter, until } from './harness.mjs';

const CHECK = `
[check "Offsite copy"]
key = e2e-offsite-0123456789abcdef
period = 1h
`;

describe('dashboard without users, classic signatures off', () => {
  let daemon;
  let browser;
  let page;

  const test = testsAfter(async () => {
    daemon = await startDaemon({ users: false, karajo: { classic_signatures: 'false' }, extra: CHECK });
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

  test('pause and resume signed with the secret (job, HTTP job and check)', async () => {
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

    const check = page.locator('#checks li.check-row[data-id="offsite_copy"]');
    await check.locator('button[data-action="pause"]').click();
    await until(async () => (await check.getAttribute('data-status')) === 'paused', 'check paused');
    await check.locator('button[data-action="resume"]').click();
    await until(async () => (await check.getAttribute('data-status')) === 'new', 'check resumed (never pinged: new)');
    assert.equal(await page.locator('dialog').count(), 0);
  });

  test('the dashboard signs with X-Karajo-Signature; the classic X-Karajo-Sign is refused', async () => {
    const signed = [];
    const seen = (req) => {
      if (req.method() === 'POST') signed.push(Object.keys(req.headers()).filter((h) => h.startsWith('x-karajo-')));
    };
    page.on('request', seen);
    await row('monthly').locator('button[data-action="pause"]').click();
    await until(async () => (await row('monthly').getAttribute('data-status')) === 'paused', 'paused');
    await row('monthly').locator('button[data-action="resume"]').click();
    await until(async () => (await row('monthly').getAttribute('data-status')) !== 'paused', 'resumed');
    page.off('request', seen);
    assert.deepEqual(signed, [['x-karajo-signature'], ['x-karajo-signature']]);
    const classic = await page.evaluate(async (secret) => {
      const { hmacHex } = await import('/karajo/app/sign.js');
      const body = `_karajo_epoch=${Math.floor(Date.now() / 1000)}&id=monthly`;
      const r = await fetch('/karajo/api/job_exec/pause', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Karajo-Sign': await hmacHex(secret, body) },
        body,
      });
      return r.status;
    }, SECRET);
    assert.equal(classic, 401);
    assert.notEqual((await page.evaluate(() => fetch('/karajo/api/job_exec?id=monthly').then((r) => r.json()))).data.status, 'paused');
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
