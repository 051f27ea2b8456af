// The dashboard's second-edition tools, defined once and run at a desktop
// and a phone viewport, each starting from one system colour scheme and
// toggling to the other: the remembered theme, filters kept in the URL, the
// active-and-queued panel with cancel, search inside a live log, download
// of a log's bytes, and an accessibility pass. Every run is made here.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { browserSuite, screenshot, unnamedControls, until } from './harness.mjs';

const SLOW = 'e2e_slow';
const LONG = 'e2e_long';
const FAILING = 'nightly_report'; // its second command is `false`
const BG = { light: 'rgb(245, 246, 248)', dark: 'rgb(13, 17, 23)' };
const STATUS_WORDS = /^(started|running|success|failed|canceled|paused|queued)$/;

/** WCAG contrast ratio of two `rgb(...)` colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The file named `name` anywhere under `dir`. */
function findFile(dir, name) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    }
  }
  return null;
}

/** Registers the journey for one viewport and system scheme; `label` prefixes screenshots. */
export function tools(label, viewport, system) {
  const other = system === 'light' ? 'dark' : 'light';
  describe(`dashboard tools at ${viewport.width}x${viewport.height}, system ${system}`, () => {
    let daemon;
    let browser;
    let page;
    let url;
    const test = browserSuite(viewport, { colorScheme: system, login: true }, (s) => {
      ({ daemon, browser, page, url } = s);
    });

    const row = (kind, id) => page.locator(`li.job[data-kind="${kind}"][data-id="${id}"]`);
    const api = (p) => page.evaluate((x) => fetch(`/karajo/api${x}`).then((r) => r.json()), p);
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const visibleRows = () => page.locator('li.job:visible').evaluateAll(
      (lis) => lis.map((li) => `${li.dataset.kind}:${li.dataset.id}`).sort(),
    );

    /** Text/background pairs that must be readable, with their ratios. */
    const contrasts = () => page.evaluate(() => {
      const bgOf = (e) => {
        for (let n = e; n; n = n.parentElement) {
          const c = getComputedStyle(n).backgroundColor;
          if (c !== 'rgba(0, 0, 0, 0)') return c;
        }
        return getComputedStyle(document.body).backgroundColor;
      };
      const pick = '.job-name, .job-when, .field-label, .status, .chip, .active-detail, h1, h2, button:not(:disabled), .none';
      return [...document.querySelectorAll(pick)].filter((e) => e.offsetParent)
        .map((e) => [e.className || e.tagName, getComputedStyle(e).color, bgOf(e)]);
    });
    const assertReadable = async (theme) => {
      for (const [what, fg, back] of await contrasts()) {
        assert.ok(contrast(fg, back) >= 4.5, `${theme}: ${what} ${fg} on ${back} is ${contrast(fg, back).toFixed(2)}:1`);
      }
    };

    test('the theme follows the system, the toggle switches it and a reload keeps it', async () => {
      const toggle = page.locator('#theme');
      await toggle.waitFor();
      await row('job', SLOW).waitFor();
      assert.equal(await bg(), BG[system]);
      assert.equal(await toggle.getAttribute('aria-pressed'), String(system === 'dark'));
      await assertReadable(system);
      await screenshot(page, `${label}-tools-dashboard-${system}`);
      await toggle.click();
      assert.equal(await bg(), BG[other]);
      assert.equal(await toggle.getAttribute('aria-pressed'), String(other === 'dark'));
      await page.reload();
      await row('job', SLOW).waitFor();
      assert.equal(await bg(), BG[other], 'the toggled theme survives a reload');
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), other);
      await assertReadable(other);
      // The job page reads the same choice (the login page: the last test).
      await page.goto(`${url}/karajo/app/job.html?kind=job&id=${SLOW}`);
      assert.equal(await bg(), BG[other]);
      await page.goto(`${url}/karajo/app/`);
    });

    test('filters by status and kind narrow the list and survive a reload via the URL', async () => {
      const r = row('job', FAILING);
      await r.locator('button[data-action="run"]').click();
      await until(async () => (await r.getAttribute('data-status')) === 'failed', 'the failing job to fail', 20_000);
      const env = (await api('/environment')).data;
      const expect = (pred) => [
        ...Object.values(env.jobs).filter(pred).map((j) => `job:${j.id}`),
        ...Object.values(env.http_jobs).filter(pred).map((j) => `job_http:${j.id}`),
      ].sort();

      await page.selectOption('#f-status', 'failed');
      await until(async () => (await visibleRows()).includes(`job:${FAILING}`), 'the failed rows');
      assert.deepEqual(await visibleRows(), expect((j) => j.status === 'failed'));
      assert.match(page.url(), /[?&]status=failed(&|$)/);
      await screenshot(page, `${label}-tools-filter-${other}`);

      await page.selectOption('#f-status', '');
      await page.selectOption('#f-kind', 'job_http');
      assert.deepEqual(await visibleRows(), expect(() => true).filter((k) => k.startsWith('job_http:')));
      assert.ok(await page.locator('#h-jobs').isHidden(), 'the jobs section is hidden');
      await page.selectOption('#f-status', 'paused');
      assert.deepEqual(await visibleRows(), []);
      assert.ok(await page.locator('#http-jobs + .filtered-none').isVisible(), 'an empty filter says so');

      await page.selectOption('#f-kind', 'job');
      await page.selectOption('#f-status', 'failed');
      const link = page.url();
      assert.match(link, /status=failed/);
      assert.match(link, /kind=job(&|$)/);
      await page.reload();
      await row('job', FAILING).waitFor();
      assert.equal(await page.inputValue('#f-status'), 'failed');
      assert.equal(await page.inputValue('#f-kind'), 'job');
      assert.deepEqual(await visibleRows(), expect((j) => j.status === 'failed').filter((k) => k.startsWith('job:')));
      await page.goto(`${url}/karajo/app/`);
      await row('job', SLOW).waitFor();
      assert.ok((await visibleRows()).length > 5, 'no filter: every row');
    });

    test('the active panel shows a running run and its queued trigger, and cancel ends both', async () => {
      const item = page.locator(`li.active-run[data-kind="job"][data-id="${LONG}"]`);
      assert.equal(await item.count(), 0);
      const run = row('job', LONG).locator('button[data-action="run"]');
      await run.click();
      await until(async () => (await item.getAttribute('data-status')) === 'running', 'the run in the panel');
      assert.equal((await item.locator('[data-role="status"]').textContent()).trim(), 'running');
      await until(() => run.isEnabled(), 'run now to be clickable again');
      await run.click();
      await until(async () => (await item.getAttribute('data-queued')) === 'true', 'the queued trigger');
      assert.match(await item.locator('.active-words').textContent(), /#\d+ running · 1 more queued behind #\d+/);
      assert.match(await item.locator('.active-since').textContent(), /started/);
      assert.equal((await api(`/job_exec?id=${LONG}`)).data.queued, true);
      await screenshot(page, `${label}-tools-active-${other}`);
      await item.locator('button[data-action="cancel"]').click();
      await until(async () => (await item.count()) === 0, 'the panel to empty', 20_000);
      await page.locator('#active li.none').waitFor();
      const job = (await api(`/job_exec?id=${LONG}`)).data;
      assert.equal(job.status, 'canceled');
      assert.equal(job.queued, false, 'the queued trigger went with the cancel');
      assert.equal(job.logs.length, 1, 'the queued trigger never ran');
    });

    test('search in a live log: every match highlighted, next and previous move, lines arriving are searched', async () => {
      await row('job', SLOW).locator('button[data-action="run"]').click();
      await page.goto(`${url}/karajo/app/job.html?kind=job&id=${SLOW}`);
      const log = page.locator('#log');
      await until(async () => /tick 2$/m.test(await log.textContent()), 'the first lines');
      assert.equal(await log.getAttribute('data-status'), 'running');
      await page.fill('#log-q', 'tick');
      const matches = async () => Number(await log.getAttribute('data-matches'));
      const first = await matches();
      assert.ok(first >= 2, `${first} matches so far`);
      await until(async () => (await matches()) > first, 'new lines to be searched as they arrive');
      await until(async () => (await log.getAttribute('data-status')) === 'success', 'the run to end', 30_000);

      const text = await log.textContent();
      await page.fill('#log-q', 'TICK 1');
      const want = text.match(/tick 1/gi).length; // tick 1 and tick 10..19
      assert.equal(want, 11);
      await until(async () => (await page.textContent('#log-hits')).trim() === `1 of ${want}`, '"1 of 11"');
      const painted = () => page.evaluate(() => ({
        all: CSS.highlights.get('log-match').size,
        // The current match's line, from the match on.
        current: [...CSS.highlights.get('log-current')]
          .map((r) => r.startContainer.nodeValue.slice(r.startOffset).split('\n')[0]),
      }));
      assert.deepEqual(await painted(), { all: want, current: ['tick 1'] });
      await page.click('#log-next');
      await page.click('#log-next');
      assert.equal((await page.textContent('#log-hits')).trim(), `3 of ${want}`);
      assert.deepEqual((await painted()).current, ['tick 11']);
      await page.click('#log-prev');
      await page.click('#log-prev');
      await page.click('#log-prev');
      assert.equal((await page.textContent('#log-hits')).trim(), `${want} of ${want}`, 'previous wraps around');
      assert.deepEqual((await painted()).current, ['tick 19']);
      await page.press('#log-q', 'Enter');
      assert.equal((await page.textContent('#log-hits')).trim(), `1 of ${want}`, 'Enter is next');
      assert.equal(await page.locator('#log *').count(), 0, 'the log stays plain text');
      await screenshot(page, `${label}-tools-search-${other}`);
      await page.fill('#log-q', 'no such words');
      assert.equal((await page.textContent('#log-hits')).trim(), 'no match');
    });

    test('download yields the log file\'s bytes, named ID.N.STATUS', async () => {
      const counter = await page.locator('#log').getAttribute('data-counter');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#log-download')]);
      const name = `${SLOW}.${counter}.success`;
      assert.equal(download.suggestedFilename(), name);
      const got = fs.readFileSync(await download.path());
      const onDisk = findFile(daemon.tmp, name);
      assert.ok(onDisk, `${name} is on disk`);
      assert.ok(got.equals(fs.readFileSync(onDisk)), 'the same bytes as the log file');
    });

    test('every control has an accessible name and no status is shown by colour alone', async () => {
      for (const p of [`/karajo/app/`, `/karajo/app/job.html?kind=job&id=${SLOW}`]) {
        await page.goto(url + p);
        await page.locator('#theme').waitFor();
        await page.waitForFunction(() => document.querySelectorAll('[data-role="status"]').length > 0);
        assert.deepEqual(await unnamedControls(page), [], `${p}: controls without a name`);
        const statuses = await page.evaluate(() => [...document.querySelectorAll('[class*="status-"]')]
          .map((e) => [e.className, e.textContent.trim(), e.getAttribute('aria-label') || '', e.title || '']));
        for (const [cls, text, aria, title] of statuses) {
          const word = cls.match(/status-(\w+)/)[1];
          assert.ok(STATUS_WORDS.test(word), cls);
          assert.ok(text.includes(word) || aria.includes(word) || title.includes(word), `${cls} says "${word}" in words`);
        }
      }
    });

    test('the login page keeps the remembered theme', async () => {
      await page.goto(`${url}/karajo/app/`);
      await page.click('#logout');
      await page.waitForURL(/\/karajo\/\?logged_out=1$/);
      assert.equal(await bg(), BG[other]);
      await screenshot(page, `${label}-tools-login-${other}`);
    });

    test('no page error and no request left this origin', () => {
      assert.deepEqual(browser.errors, []);
      assert.deepEqual(browser.foreign, []);
    });
  });
}
