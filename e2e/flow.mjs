// The dashboard journey, defined once and run at a desktop and a phone
// viewport: log in, see every job, run one and follow its log live, pause
// and resume, cancel a running one, open an old log, log out.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { browserSuite, screenshot, until } from './harness.mjs';

const SLOW = 'e2e_slow';
const LONG = 'e2e_long';
const FIVE = 'every_five_minutes';

/** Registers the journey for one viewport; `label` prefixes screenshots. */
export function journey(label, viewport) {
  describe(`dashboard at ${viewport.width}x${viewport.height}`, () => {
    let browser;
    let page;
    let url;
    const test = browserSuite(viewport, {}, (s) => {
      ({ browser, page, url } = s);
    });

    const row = (kind, id) => page.locator(`li.job[data-kind="${kind}"][data-id="${id}"]`);
    const api = (path) => page.evaluate((p) => fetch(`/karajo/api${p}`).then((r) => r.json()), path);
    const noHorizontalScroll = () => page.evaluate(
      () => document.documentElement.scrollWidth <= window.innerWidth + 1,
    );

    test('without a session the dashboard sends the browser to the login page', async () => {
      await page.goto(`${url}/karajo/app/`);
      await page.waitForURL(`${url}/karajo/`);
      await page.locator('#name').waitFor();
      assert.equal(await page.locator('label[for="name"]').count(), 1);
      assert.equal(await page.locator('label[for="password"]').count(), 1);
      await screenshot(page, `${label}-login`);
    });

    test('log in: a wrong password is refused, admin/karajo opens the dashboard', async () => {
      await page.fill('#name', 'admin');
      await page.fill('#password', 'wrong');
      await page.click('#submit');
      await until(async () => (await page.textContent('#error')).trim() !== '', 'the login error');
      assert.equal(page.url(), `${url}/karajo/`);
      await page.fill('#password', 'karajo');
      await page.click('#submit');
      await page.waitForURL(`${url}/karajo/app/`);
      await page.locator('#logout').waitFor();
    });

    test('the dashboard shows every job with status, schedule, last and next run', async () => {
      const env = (await api('/environment')).data;
      const jobs = Object.values(env.jobs);
      const httpJobs = Object.values(env.http_jobs);
      assert.ok(jobs.length >= 9 && httpJobs.length >= 2, 'the example tree has its jobs');
      for (const [kind, list] of [['job', jobs], ['job_http', httpJobs]]) {
        for (const j of list) {
          const r = row(kind, j.id);
          await r.waitFor();
          assert.equal((await r.locator('.job-name').textContent()).trim(), j.name);
          const status = (await r.locator('[data-role="status"]').textContent()).trim();
          assert.match(status, /^(started|running|success|failed|canceled|paused)$/);
          assert.ok((await r.locator('.job-when').textContent()).trim(), `${j.name} says when it runs`);
        }
      }
      assert.equal((await row('job', FIVE).locator('.job-when').textContent()).trim(),
        'every hour at :00 :05 :10 :15 :20 :25 :30 :35 :40 :45 :50 :55');
      assert.equal((await row('job', 'test_job_success').locator('.job-when').textContent()).trim(), 'every minute');
      assert.equal((await row('job_http', 'trigger_hello-world').locator('.job-when').textContent()).trim(),
        'every 1 minute 30 seconds');

      // The next run counts down live, with the exact time on hover.
      const next = row('job', FIVE).locator('.job-next .field-value');
      assert.ok(await next.getAttribute('title'), 'the next run has its exact time as a tooltip');
      const first = await next.textContent();
      await until(async () => (await next.textContent()) !== first, 'the countdown to tick');
      assert.ok(await noHorizontalScroll(), 'the dashboard fits the width');
      // Every control has an accessible name.
      const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, a')]
        .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()
          && !e.querySelector('img[alt]:not([alt=""])') && !e.querySelector('span:not(:empty)'))
        .map((e) => e.outerHTML.slice(0, 80)));
      assert.deepEqual(unnamed, []);
      // Run chips keep their white text (light scheme), not the link colour.
      const chip = page.locator('li.job .chip').first();
      await chip.waitFor();
      assert.equal(await chip.evaluate((c) => getComputedStyle(c).color), 'rgb(255, 255, 255)');
      await screenshot(page, `${label}-dashboard`);
    });

    test('run now: the job runs and its log lines appear live', async () => {
      const r = row('job', SLOW);
      await r.locator('button[data-action="run"]').click();
      await until(async () => (await r.getAttribute('data-status')) === 'running', 'the job to run');
      await r.locator('.job-name').click();
      await page.waitForURL(/job\.html\?kind=job&id=e2e_slow/);
      const log = page.locator('#log');
      // Live: an early line is there while the last is not written yet.
      await until(async () => /tick 2$/m.test(await log.textContent()), 'the first lines');
      const early = await log.textContent();
      assert.doesNotMatch(early, /tick 20$/m, 'the log is followed live, not loaded after the end');
      assert.equal(await log.getAttribute('data-status'), 'running');
      await screenshot(page, `${label}-job-live`);
      await until(async () => (await log.getAttribute('data-status')) === 'success', 'the run to end', 30_000);
      const text = await log.textContent();
      for (const n of [1, 5, 20]) {
        assert.equal(text.match(new RegExp(`tick ${n}$`, 'gm'))?.length, 1, `line "tick ${n}" once`);
      }
      await until(async () => (await page.textContent('#job-status')).trim() === 'success', 'the page status');
    });

    test('the description is sanitised HTML and the log is plain text', async () => {
      const d = page.locator('#description');
      assert.equal(await d.locator('b').textContent(), 'Slow');
      assert.equal(await d.locator('script, style, img, [onclick], [onerror]').count(), 0);
      const hrefs = await d.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(hrefs, ['https://example.com/docs']);
      assert.equal(await page.locator('#log *').count(), 0, 'no elements inside the log');
      assert.ok(await noHorizontalScroll(), 'the job page fits the width');
    });

    test('pause and resume a job', async () => {
      await page.goto(`${url}/karajo/app/`);
      const r = row('job', FIVE);
      const before = await r.getAttribute('data-status');
      await r.locator('button[data-action="pause"]').click();
      await until(async () => (await r.getAttribute('data-status')) === 'paused', 'paused');
      assert.equal((await r.locator('[data-role="status"]').textContent()).trim(), 'paused');
      assert.equal((await api(`/job_exec?id=${FIVE}`)).data.status, 'paused');
      await page.reload();
      await until(async () => (await r.getAttribute('data-status')) === 'paused', 'paused after reload');
      await r.locator('button[data-action="resume"]').click();
      await until(async () => (await r.getAttribute('data-status')) === before, 'resumed');
      await r.locator('button[data-action="pause"]').waitFor();
    });

    test('cancel a running job', async () => {
      const r = row('job', LONG);
      const cancel = r.locator('button[data-action="cancel"]');
      assert.ok(await cancel.isDisabled(), 'cancel is off while the job is idle');
      await r.locator('button[data-action="run"]').click();
      await until(async () => (await r.getAttribute('data-status')) === 'running', 'the long job to run');
      await until(() => cancel.isEnabled(), 'cancel to be enabled');
      await cancel.click();
      await until(async () => (await r.getAttribute('data-status')) === 'canceled', 'canceled', 20_000);
      await r.locator('.chip[data-counter="1"][data-status="canceled"]').waitFor();
    });

    test('open an old log while another run is live, and switch back', async () => {
      await page.goto(`${url}/karajo/app/job.html?kind=job&id=${LONG}`);
      const log = page.locator('#log');
      await until(async () => (await log.getAttribute('data-counter')) === '1', 'the latest run');
      await page.locator('.page-head button[data-action="run"]').click();
      await until(async () => (await log.getAttribute('data-counter')) === '2'
        && (await log.getAttribute('data-status')) === 'running', 'the new run to open');
      await until(async () => /long job started/.test(await log.textContent()), 'the live run to print');

      await page.locator('#runs .chip[data-counter="1"]').click();
      await until(async () => (await log.getAttribute('data-counter')) === '1'
        && (await log.getAttribute('data-status')) === 'canceled', 'the old log');
      // The viewer marks the run at once and fills its text when it arrives.
      await until(async () => /=== BEGIN #1 /.test(await log.textContent()), 'the old log\'s text');
      assert.doesNotMatch(await log.textContent(), /BEGIN #2 /, 'only the old run\'s text');
      assert.match(page.url(), /counter=1/);
      assert.equal(await page.locator('#runs .chip[aria-current="true"]').getAttribute('data-counter'), '1');

      await page.locator('#runs .chip[data-counter="2"]').click();
      await until(async () => (await log.getAttribute('data-status')) === 'running', 'back to the live run');
      await page.locator('.page-head button[data-action="cancel"]').click();
      await until(async () => (await log.getAttribute('data-status')) === 'canceled', 'the live run canceled', 20_000);
      await screenshot(page, `${label}-job`);
    });

    test('a webhook job page names the header its auth kind really checks', async () => {
      const auth = async (id) => {
        await page.goto(`${url}/karajo/app/job.html?kind=job&id=${id}`);
        const dd = page.locator('#config dt:text-is("Auth") + dd');
        await dd.waitFor();
        return (await dd.textContent()).trim();
      };
      const github = await auth('deploy_from_github');
      assert.match(github, /X-Hub-Signature-256/);
      assert.doesNotMatch(github, /X-Karajo-Sign/);
      assert.match(await auth('sourcehut_build'), /X-Payload-Signature/);
      assert.match(await auth('custom_header'), /X-Signature/);
    });

    test('a job page shows its overlap policy and environment names, never the values', async () => {
      await page.goto(`${url}/karajo/app/job.html?kind=job&id=backup`);
      const value = async (term) => {
        const dd = page.locator(`#config dt:text-is("${term}") + dd`);
        await dd.waitFor();
        return (await dd.textContent()).trim();
      };
      assert.match(await value('While running'), /^skip/);
      assert.match(await value('Environment'), /BACKUP_NAME/);
      assert.doesNotMatch(await page.textContent('#config'), /etc-backup\.tgz/);
    });

    test('log out: back at the login page, and the dashboard is closed', async () => {
      await page.click('#logout');
      await page.waitForURL(/\/karajo\/\?logged_out=1$/);
      assert.ok((await page.textContent('#notice')).trim());
      const status = await page.evaluate(() => fetch('/karajo/api/environment').then((r) => r.status));
      assert.equal(status, 401);
      await page.goto(`${url}/karajo/app/`);
      await page.waitForURL(`${url}/karajo/`);
    });

    test('no page error and no request left this origin', () => {
      assert.deepEqual(browser.errors, []);
      assert.deepEqual(browser.foreign, []);
    });
  });
}
