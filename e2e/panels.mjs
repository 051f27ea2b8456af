// The panels that show the history database, the schedules and the audit
// log, defined once and run at a desktop and a phone viewport, each
// starting from one system colour scheme with screenshots in both: the job
// page's run history (table pages and chart points equal the runs this
// test made, counted through the runs API; p50, p95 and the success rate
// as computed from those rows), the upcoming runs (equal to
// /karajo/api/upcoming), the audit feed of an admin (with this test's own
// actions in it), and the controls of each role (a viewer sees no action
// button and no audit feed, an operator no audit feed).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { browserSuite, logIn, screenshot, unnamedControls, until } from './harness.mjs';

const QUICK = 'e2e_quick'; // 0 to 0.3 s; every fourth run fails
const RUNS = 24; // more than one page of the table (20)

/** The nearest-rank percentile, as the page computes it. */
function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Registers the suite for one viewport and system scheme; `label` prefixes screenshots. */
export function panels(label, viewport, system) {
  const other = system === 'light' ? 'dark' : 'light';
  describe(`history, upcoming and audit panels at ${viewport.width}x${viewport.height}, system ${system}`, () => {
    let browser;
    let page;
    let url;
    const test = browserSuite(viewport, { colorScheme: system, login: true }, (s) => {
      ({ browser, page, url } = s);
    });

    const api = (p) => page.evaluate((x) => fetch(`/karajo/api${x}`).then((r) => r.json()), p);
    const allRuns = async () => (await api(`/job_exec/runs?id=${QUICK}&limit=1000`)).data;
    /** Screenshots in the system scheme, then the other (toggled), then back. */
    const bothThemes = async (name) => {
      // From the top: a full-page shot of a scrolled page draws the sticky bar mid-page.
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, `${label}-${name}-${system}`);
      await page.click('#theme');
      await screenshot(page, `${label}-${name}-${other}`);
      await page.click('#theme');
    };
    /** Runs QUICK once through the API with the page's session; waits for its end. */
    const runOnce = async () => {
      const before = (await allRuns()).length;
      const status = await page.evaluate(async (id) => {
        const s = (await (await fetch('/karajo/api/auth/session')).json()).data;
        const body = `_karajo_epoch=${Math.floor(Date.now() / 1000)}&id=${id}`;
        const r = await fetch('/karajo/api/job_exec/run', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Karajo-Csrf': s.csrf_token },
          body,
        });
        return r.status;
      }, QUICK);
      assert.equal(status, 200);
      await until(async () => {
        const rows = await allRuns();
        return rows.length === before + 1 && rows[0].status !== 'running';
      }, 'the run to end', 20_000);
    };

    test(`the job page's history table and chart hold exactly the ${RUNS} runs made here`, async () => {
      for (let i = 0; i < RUNS; i += 1) await runOnce();
      const rows = await allRuns();
      assert.equal(rows.length, RUNS);
      await page.goto(`${url}/karajo/app/job.html?kind=job&id=${QUICK}`);
      const points = page.locator('svg.chart g.pt');
      await until(async () => (await points.count()) === RUNS, `${RUNS} chart points`);
      const charted = await points.evaluateAll((gs) => gs.map((g) => Number(g.dataset.counter)));
      assert.deepEqual(charted, rows.map((r) => r.counter).reverse(), 'one point per run, oldest first');
      assert.equal(await page.locator('svg.chart').getAttribute('role'), 'img');

      const sorted = rows.map((r) => r.duration_ms).sort((a, b) => a - b);
      const figure = (name) => page.locator(`[data-figure="${name}"]`);
      assert.equal(Number(await figure('p50').getAttribute('data-value')), percentile(sorted, 50));
      assert.equal(Number(await figure('p95').getAttribute('data-value')), percentile(sorted, 95));
      assert.match(await figure('p50').textContent(), /^p50 \d/);
      assert.match(await figure('p95').textContent(), /^p95 \d/);
      assert.equal(await page.locator('svg.chart .chart-line.p50').count(), 1);
      assert.equal(await page.locator('svg.chart .chart-line.p95').count(), 1);
      const ok = rows.filter((r) => r.status === 'success').length;
      assert.ok(ok < RUNS, 'some runs failed');
      assert.match(await figure('success-rate').textContent(), new RegExp(`^${Math.round((ok / RUNS) * 100)} % success`));

      // Every page of the table, newest first, equals the runs API.
      const seen = [];
      const older = page.locator('#runs-older');
      for (;;) {
        const counters = await page.locator('table.history tbody tr').evaluateAll(
          (trs) => trs.map((tr) => [Number(tr.dataset.counter), tr.dataset.status]),
        );
        seen.push(...counters);
        if (await older.isDisabled()) break;
        await older.click();
        await until(async () => Number(await page.locator('table.history tbody tr').first().getAttribute('data-counter'))
          < counters[counters.length - 1][0], 'the older page');
      }
      assert.deepEqual(seen, rows.map((r) => [r.counter, r.status]));
      const lastPage = await page.locator('table.history tbody tr').count();
      assert.equal(lastPage, RUNS - 20);
      await page.click('#runs-newer');
      await until(async () => (await page.locator('table.history tbody tr').count()) === 20, 'the newest page');
      const cells = await page.locator('table.history tbody tr').first().locator('td').allTextContents();
      assert.equal(cells.length, 7, 'run, started, duration, status, trigger, attempts, node');
      assert.match(cells[0], new RegExp(`#${rows[0].counter}`));
      assert.equal(cells[3].trim(), rows[0].status, 'the status in words');
      assert.equal(cells[4].trim(), 'manual');
      await bothThemes('history');
    });

    test('a run of the history table opens its log', async () => {
      const rows = await allRuns();
      const older = rows.find((r) => r.log && r.counter !== rows[0].counter);
      await page.locator(`table.history tr[data-counter="${older.counter}"] a`).click();
      await until(async () => (await page.locator('#log').getAttribute('data-counter')) === String(older.counter), 'its log');
      await until(async () => /=== (DONE|BEGIN)/.test(await page.locator('#log').textContent()), 'the log text');
      assert.equal(await page.locator(`table.history tr[data-counter="${older.counter}"]`).getAttribute('aria-current'), 'true');
      assert.match(page.url(), new RegExp(`counter=${older.counter}`));
    });

    test('the upcoming panel lists what /karajo/api/upcoming answers', async () => {
      await page.goto(`${url}/karajo/app/`);
      const items = page.locator('#upcoming li.upcoming-run');
      await items.first().waitFor();
      await bothThemes('dashboard-panels');
      const all = page.locator('#upcoming-all');
      if (await all.isVisible()) {
        await all.click();
        assert.equal(await all.getAttribute('aria-expanded'), 'true');
      }
      // A minute boundary may pass between the two reads: compare until they agree.
      await until(async () => {
        const want = (await api('/upcoming?hours=24&limit=500')).data.map((u) => `${u.kind}:${u.id}@${new Date(u.at).toISOString()}`);
        const got = await items.evaluateAll((lis) => lis.map((li) => `${li.dataset.kind}:${li.dataset.id}@${li.dataset.at}`));
        return want.length > 0 && JSON.stringify(got) === JSON.stringify(want);
      }, 'the panel to equal the API');
      if (await all.isVisible()) {
        await all.click();
        assert.equal(await items.count(), 8, 'folded again');
      }
    });

    test("an admin sees the audit feed, with this test's own actions in it", async () => {
      const feed = page.locator('#audit li.audit-entry');
      assert.ok(await page.locator('#audit-panel').isVisible());
      // One more action, from the dashboard's own button.
      const row = page.locator(`li.job[data-kind="job"][data-id="${QUICK}"]`);
      await row.locator('button[data-action="pause"]').click();
      await until(async () => (await row.getAttribute('data-status')) === 'paused', 'paused');
      await row.locator('button[data-action="resume"]').click();
      await until(async () => (await row.getAttribute('data-status')) !== 'paused', 'resumed');
      // And a refusal: the session without its CSRF token.
      const refused = await page.evaluate((id) => fetch('/karajo/api/job_exec/pause', {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `id=${id}`,
      }).then((r) => r.status), QUICK);
      assert.equal(refused, 403);
      await until(async () => {
        const want = (await api('/audit?limit=15')).data.map((e) => String(e.seq));
        const got = await feed.evaluateAll((lis) => lis.map((li) => li.dataset.seq));
        return JSON.stringify(got) === JSON.stringify(want);
      }, 'the feed to equal /karajo/api/audit');
      const text = (await feed.allTextContents()).join('\n');
      assert.match(text, new RegExp(`user:admin[^\\n]*job_exec/resume ${QUICK}[^\\n]*ok`));
      assert.match(text, new RegExp(`user:admin[^\\n]*job_exec/pause ${QUICK}`));
      assert.match(text, new RegExp(`job_exec/run ${QUICK}`));
      const no = page.locator('#audit li.audit-entry.refused').first();
      assert.match(await no.textContent(), /user:admin.*job_exec\/pause.*refused: ERR_\w+/);
      await screenshot(page, `${label}-audit-${system}`);
    });

    test('every control on both pages has a name; no status by colour alone', async () => {
      for (const p of ['/karajo/app/', `/karajo/app/job.html?kind=job&id=${QUICK}`]) {
        await page.goto(url + p);
        await page.waitForFunction(() => document.querySelectorAll('[data-role="status"]').length > 0);
        assert.deepEqual(await unnamedControls(page), [], `${p}: controls without a name`);
        // Each chart point says its run and status in its title.
        const untitled = await page.evaluate(() => [...document.querySelectorAll('svg.chart g.pt')]
          .filter((g) => !g.querySelector('title')?.textContent.includes(g.dataset.status)).length);
        assert.equal(untitled, 0);
      }
    });

    for (const [who, buttons, audit] of [['viewer', false, false], ['operator', true, false]]) {
      test(`the ${who} sees ${buttons ? 'the action buttons' : 'no action button'} and no audit feed`, async () => {
        await page.goto(`${url}/karajo/app/`);
        await page.click('#logout');
        await page.waitForURL(/logged_out=1/);
        await logIn(page, url, who);
        await page.locator(`li.job[data-id="${QUICK}"]`).waitFor();
        await page.locator('#upcoming li').first().waitFor();
        assert.equal(await page.locator('#audit-panel').count() > 0 && await page.locator('#audit-panel').isVisible(), audit);
        const actions = () => page.locator('button[data-action]').count();
        assert.equal((await actions()) > 0, buttons, 'the dashboard');
        assert.match(await page.locator('#user-box .user').textContent(), new RegExp(`\\(${who}\\)`));
        await screenshot(page, `${label}-${who}-${system}`);
        await page.goto(`${url}/karajo/app/job.html?kind=job&id=${QUICK}`);
        await page.locator('svg.chart').waitFor();
        assert.equal((await actions()) > 0, buttons, 'the job page');
        const audited = await page.evaluate(() => fetch('/karajo/api/audit').then((r) => r.status));
        assert.equal(audited, 403, 'and the API agrees');
      });
    }

    test('no page error and no request left this origin', () => {
      assert.deepEqual(browser.errors, []);
      assert.deepEqual(browser.foreign, []);
    });
  });
}
