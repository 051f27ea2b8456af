// The dashboard's checks panel (SPEC 18 and 20), defined once and run at a
// desktop and a phone viewport, each from one system colour scheme with
// screenshots in both: three real [check]s, pinged by this test over real
// HTTP (/karajo/ping/KEY), must show in the panel with the status words of
// /karajo/api/environment, the ones that need someone first; a check of a
// 2 s period turns late, then down, and moves to the top; an admin pauses
// and resumes a check from the panel and /environment agrees; a viewer
// sees the panel without a pause or resume button, an operator with them.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe } from 'node:test';
import { SCREENSHOTS, browserSuite, logIn, screenshot, unnamedControls, until } from './harness.mjs';

/** The checks, by name: their ping key and ID. */
const BACKUPS = { name: 'Backups', id: 'backups', key: 'e2e-backups-0123456789abcdef' };
const OFFSITE = { name: 'Offsite copy', id: 'offsite_copy', key: 'e2e-offsite-0123456789abcdef' };
const HEARTBEAT = { name: 'Worker heartbeat', id: 'worker_heartbeat', key: 'e2e-heartbeat-0123456789abcdef' };

// The heartbeat is up for PERIOD_S after a ping, late for GRACE_S, then
// down: the late window is longer than the dashboard's 3 s poll, so the
// panel shows it, and the whole walk stays under 10 s.
const PERIOD_S = 2;
const GRACE_S = 4;

const CHECKS = `
[check "${BACKUPS.name}"]
key = ${BACKUPS.key}
period = 1h

[check "${OFFSITE.name}"]
key = ${OFFSITE.key}
schedule = daily@03:00
timezone = Europe/Berlin
grace = 30m

[check "${HEARTBEAT.name}"]
key = ${HEARTBEAT.key}
period = ${PERIOD_S}s
grace = ${GRACE_S}s
`;

/** Registers the suite for one viewport and system scheme; `label` prefixes screenshots. */
export function checks(label, viewport, system) {
  const other = system === 'light' ? 'dark' : 'light';
  describe(`checks panel at ${viewport.width}x${viewport.height}, system ${system}`, () => {
    let browser;
    let page;
    let url;
    const test = browserSuite(viewport, { colorScheme: system, login: true, daemon: { extra: CHECKS } }, (s) => {
      ({ browser, page, url } = s);
    });

    const panel = () => page.locator('#checks-panel');
    const row = (c) => page.locator(`#checks li.check-row[data-id="${c.id}"]`);
    /** The panel's rows as `id:status`, top to bottom. */
    const shown = () => page.locator('#checks li.check-row').evaluateAll((lis) => lis.map((li) => `${li.dataset.id}:${li.dataset.status}`));
    const statusWord = async (c) => (await row(c).locator('[data-role="status"]').textContent()).trim();
    const env = async () => (await page.evaluate(() => fetch('/karajo/api/environment').then((r) => r.json()))).data;
    /** A ping from this test (not the page): real HTTP, no credentials. */
    const ping = async (c, suffix = '') => {
      const r = await fetch(`${url}/karajo/ping/${c.key}${suffix}`, { method: 'POST', body: 'ok\n' });
      assert.equal(r.status, 200, `ping ${c.name}`);
    };
    /** Screenshots in the system scheme, then the other (toggled), then back; the panel alone too. */
    const bothThemes = async (name) => {
      await page.evaluate(() => window.scrollTo(0, 0));
      for (const scheme of [system, other]) {
        await screenshot(page, `${label}-${name}-${scheme}`);
        await panel().screenshot({ path: path.join(SCREENSHOTS, `${label}-${name}-panel-${scheme}.png`) });
        await page.click('#theme');
      }
    };

    test('every check is listed with the status words of /environment, new ones until pinged', async () => {
      await page.goto(`${url}/karajo/app/`);
      await until(async () => (await shown()).length === 3, 'three checks in the panel');
      assert.ok(await panel().isVisible());
      assert.deepEqual(await shown(), ['backups:new', 'offsite_copy:new', 'worker_heartbeat:new'], 'by name');

      await ping(BACKUPS);
      await until(async () => (await row(BACKUPS).getAttribute('data-status')) === 'up', 'Backups up');
      assert.equal(await statusWord(BACKUPS), 'up');
      assert.equal(await statusWord(OFFSITE), 'new');
      // New ones before up ones; ties by name.
      assert.deepEqual(await shown(), ['offsite_copy:new', 'worker_heartbeat:new', 'backups:up']);
      const e = await env();
      for (const entry of await shown()) {
        const [id, status] = entry.split(':');
        const c = Object.values(e.checks).find((x) => x.id === id);
        assert.equal(c.status, status, `${id} as /environment says`);
      }

      const text = (c, part) => row(c).locator(`.check-${part}`).textContent();
      assert.equal((await text(BACKUPS, 'expects')).trim(), 'a ping every hour · grace 5 minutes');
      assert.match(await text(BACKUPS, 'last'), /Last ping\s*(just now|\d+ s ago) · success$/);
      assert.match(await text(BACKUPS, 'next'), /Next due\s*in 59:\d\d$/);
      assert.equal((await text(OFFSITE, 'expects')).trim(), 'a ping due every day at 03:00 (Europe/Berlin) · grace 30 minutes');
      assert.match(await text(OFFSITE, 'last'), /Last ping\s*never$/);
      assert.match(await text(OFFSITE, 'next'), /Next due\s*after the first ping$/);
      assert.match(await page.locator('#checks-count').textContent(), /^3 checks$/);
    });

    test(`a check ${PERIOD_S} s past its ping is late, then down, and goes to the top`, async () => {
      await ping(HEARTBEAT);
      // Up for 2 s only, maybe between two polls of the page: asked at once.
      assert.equal((await env()).checks[HEARTBEAT.name].status, 'up');
      await until(async () => (await shown())[0] === 'worker_heartbeat:late', 'the heartbeat late, first', 8_000);
      assert.equal(await statusWord(HEARTBEAT), 'late');
      assert.match(await row(HEARTBEAT).locator('.check-next').textContent(), /overdue: was due (just now|\d+ s ago)$/);
      assert.match(await page.locator('#checks-count').textContent(), /1 late/);
      await until(async () => (await shown())[0] === 'worker_heartbeat:down', 'the heartbeat down, first', 9_000);
      assert.equal(await statusWord(HEARTBEAT), 'down');
      assert.match(await row(HEARTBEAT).locator('.check-next').textContent(), /overdue, past the grace$/);
      assert.deepEqual(await shown(), ['worker_heartbeat:down', 'offsite_copy:new', 'backups:up']);
      assert.match(await page.locator('#checks-count').textContent(), /^3 checks · 1 down$/);
      await bothThemes('checks');
    });

    test('an admin pauses a check from the panel and /environment says paused; resume undoes it', async () => {
      const button = row(BACKUPS).locator('button[data-action]');
      assert.equal(await button.getAttribute('aria-label'), `Pause: ${BACKUPS.name}`);
      await button.click();
      await until(async () => (await env()).checks[BACKUPS.name].status === 'paused', '/environment: paused');
      await until(async () => (await row(BACKUPS).getAttribute('data-status')) === 'paused', 'the row paused');
      assert.equal(await statusWord(BACKUPS), 'paused');
      assert.equal(await button.getAttribute('aria-label'), `Resume: ${BACKUPS.name}`);
      assert.equal((await shown()).at(-1), 'backups:paused', 'a paused check sorts last');
      await button.click();
      await until(async () => (await env()).checks[BACKUPS.name].status === 'up', '/environment: up again');
      await until(async () => (await row(BACKUPS).getAttribute('data-status')) === 'up', 'the row up again');
      const audit = (await page.evaluate(() => fetch('/karajo/api/audit?limit=20').then((r) => r.json()))).data;
      const did = audit.filter((a) => a.target === BACKUPS.id && a.result === 'ok').map((a) => `${a.actor} ${a.action}`);
      assert.deepEqual(did.slice(0, 2).sort(), ['user:admin check/pause', 'user:admin check/resume']);
    });

    test('every control has a name, and the page fits the screen', async () => {
      assert.deepEqual(await unnamedControls(page), []);
      const labels = await page.locator('#checks button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label')));
      assert.deepEqual(labels.sort(), [`Pause: ${BACKUPS.name}`, `Pause: ${OFFSITE.name}`, `Pause: ${HEARTBEAT.name}`].sort());
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    });

    for (const [who, buttons] of [['viewer', 0], ['operator', 3]]) {
      test(`the ${who} sees the checks with ${buttons ? 'pause buttons' : 'no pause or resume button'}`, async () => {
        await page.click('#logout');
        await page.waitForURL(/logged_out=1/);
        await logIn(page, url, who);
        await until(async () => (await shown()).length === 3, 'three checks in the panel');
        assert.equal(await page.locator('#checks button').count(), buttons);
        if (!buttons) assert.equal(await page.locator('button[data-action="pause"], button[data-action="resume"]').count(), 0);
        await screenshot(page, `${label}-checks-${who}-${system}`);
        await panel().screenshot({ path: path.join(SCREENSHOTS, `${label}-checks-panel-${who}-${system}.png`) });
      });
    }

    test('no page error and no request left this origin', () => {
      assert.deepEqual(browser.errors, []);
      assert.deepEqual(browser.foreign, []);
    });
  });
}
