// The dashboard with 1,000 jobs (bench/gen_tree.py: 5 logs each, so every
// row has status and run chips) renders in under 500 ms in Chromium,
// measured with the performance API: navigation start to the first paint
// after the first full render (dashboard.js marks both). The figures are
// printed as test diagnostics; `PERF_RUNS` (default 3) loads are measured
// and the median is checked.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { REPO, screenshot, startBrowser, startDaemonOn, testsAfter } from './harness.mjs';

const JOBS = 1000;
const BUDGET_MS = 500;
const RUNS = Number(process.env.PERF_RUNS || 3);

describe(`dashboard with ${JOBS} jobs`, () => {
  let daemon;
  let browser;

  const test = testsAfter(async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'karajo-e2e-perf-'));
    execFileSync('python3', [path.join(REPO, 'bench', 'gen_tree.py'), tmp, '--jobs', String(JOBS), '--logs', '5']);
    daemon = await startDaemonOn({ tmp, conf: path.join(tmp, 'etc', 'karajo', 'karajo.conf') });
    browser = await startBrowser(daemon.url, { width: 1280, height: 860 });
  });

  after(async () => {
    if (browser) await browser.close();
    if (daemon) await daemon.stop();
  });

  test(`renders in under ${BUDGET_MS} ms (median of ${RUNS} loads)`, async (t) => {
    const { page } = browser;
    const figures = [];
    for (let i = 0; i < RUNS; i += 1) {
      await page.goto(`${daemon.url}/karajo/app/`);
      await page.waitForFunction(() => performance.getEntriesByName('karajo:painted').length > 0, null, { timeout: 30_000 });
      const f = await page.evaluate(() => ({
        rows: document.querySelectorAll('li.job').length,
        data: performance.getEntriesByName('karajo:data')[0].startTime,
        rendered: performance.getEntriesByName('karajo:rendered')[0].startTime,
        painted: performance.getEntriesByName('karajo:painted')[0].startTime,
      }));
      assert.ok(f.rows >= JOBS, `${f.rows} rows`);
      figures.push(f);
      t.diagnostic(`load ${i + 1}: ${f.rows} rows, data at ${f.data.toFixed(0)} ms, rendered at ${f.rendered.toFixed(0)} ms, painted at ${f.painted.toFixed(0)} ms`);
    }
    await screenshot(page, 'perf-dashboard-1000', { fullPage: false });
    const median = figures.map((f) => f.painted).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    t.diagnostic(`median: ${median.toFixed(0)} ms from navigation start to the first paint of ${JOBS} jobs`);
    assert.ok(median < BUDGET_MS, `${median.toFixed(0)} ms`);
    assert.deepEqual(browser.errors, []);
    assert.deepEqual(browser.foreign, []);
  });
});
