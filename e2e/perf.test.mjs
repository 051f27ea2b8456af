// The dashboard with 1,000 jobs (bench/gen_tree.py: 5 logs each, so every
// row has status and run chips) renders in under 500 ms in Chromium,
// measured with the performance API from navigation start (dashboard.js
// marks each point): `data` the /environment answer is in, `rendered` the
// first pass of rows (more than a screenful) is built, `painted` that pass
// is on screen, `complete` every row is built. The figures are printed as
// test diagnostics; after one cold load (reported, not counted),
// `PERF_RUNS` (default 3) loads are measured and the median first paint is
// checked; every row must be built within 2 s.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { REPO, screenshot, startBrowser, startDaemonOn, testsAfter } from './harness.mjs';

const JOBS = 1000;
const BUDGET_MS = 500;
const COMPLETE_MS = 2000;
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
    const load = async () => {
      await page.goto(`${daemon.url}/karajo/app/`);
      await page.waitForFunction(() => ['karajo:painted', 'karajo:complete']
        .every((n) => performance.getEntriesByName(n).length > 0), null, { timeout: 30_000 });
      const f = await page.evaluate(() => {
        const at = (n) => performance.getEntriesByName(n)[0].startTime.toFixed(0);
        return {
          rows: document.querySelectorAll('li.job').length,
          data: at('karajo:data'),
          rendered: at('karajo:rendered'),
          painted: Number(at('karajo:painted')),
          complete: Number(at('karajo:complete')),
        };
      });
      assert.ok(f.rows >= JOBS, `${f.rows} rows`);
      return f;
    };
    const say = (what, f) => t.diagnostic(`${what}: ${f.rows} rows, data at ${f.data} ms, rendered at ${f.rendered} ms, `
      + `painted at ${f.painted} ms, every row built at ${f.complete} ms`);
    // The first load of a fresh profile (cold caches, first compile) is
    // reported, not counted: on a shared machine it swings the most.
    say('cold load', await load());
    const figures = [];
    for (let i = 0; i < RUNS; i += 1) {
      figures.push(await load());
      say(`load ${i + 1}`, figures[i]);
    }
    await screenshot(page, 'perf-dashboard-1000', { fullPage: false });
    const median = (key) => figures.map((f) => f[key]).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    t.diagnostic(`median: first paint ${median('painted')} ms, every row built ${median('complete')} ms`);
    assert.ok(median('painted') < BUDGET_MS, `first paint at ${median('painted')} ms`);
    assert.ok(median('complete') < COMPLETE_MS, `every row at ${median('complete')} ms`);
    assert.deepEqual(browser.errors, []);
    assert.deepEqual(browser.foreign, []);
  });
});
