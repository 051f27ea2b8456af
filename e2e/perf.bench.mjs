// The dashboard with 1,000 jobs (bench/gen_tree.py: 5 logs each, so every
// row has status and run chips) renders in under 500 ms in Chromium,
// measured with the performance API from navigation start (dashboard.js
// marks each point): `data` the /environment answer is in, `rendered` the
// first pass of rows (more than a screenful) is built, `painted` that pass
// is on screen, `complete` every row is built. The figures are printed as
// test diagnostics; after one cold load (reported, not counted),
// `PERF_RUNS` (default 3) loads are measured and the median first paint is
// checked; every row must be built within 2 s.
//
// A job page with 1,000 runs (1,000 logs `ID.N.STATUS` written before the
// start, which the history reconcile imports as rows) renders in under
// 300 ms, measured the same way (job.js marks `history` when the history
// table and the duration chart are built, and `history-painted` when
// that is on screen).
//
// A benchmark, not a test of `run.sh`: its budgets are figures of an idle
// machine, and CI's shared cores moved the job page's 300 ms to 309 ms.
// Run it with `KARAJOD_BIN=../target/debug/karajod node --test perf.bench.mjs`.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { REPO, screenshot, startBrowser, startDaemonOn, testsAfter } from './harness.mjs';

const JOBS = 1000;
const RUNS_OF_JOB = 1000;
const JOB_BUDGET_MS = 300;
const BUDGET_MS = 500;
const COMPLETE_MS = 2000;
const RUNS = Number(process.env.PERF_RUNS || 3);

/**
 * For the describe block it is called in: a daemon on the tree
 * `makeTree()` returns (`{tmp, conf}`) and a 1280 px browser, stopped
 * after the block. Returns the block's `test` and `s`, which holds
 * `daemon` and `browser` once they are up.
 */
function perfSuite(makeTree) {
  const s = {};
  const test = testsAfter(async () => {
    s.daemon = await startDaemonOn(makeTree());
    s.browser = await startBrowser(s.daemon.url, { width: 1280, height: 860 });
  });
  after(async () => {
    if (s.browser) await s.browser.close();
    if (s.daemon) await s.daemon.stop();
  });
  return { test, s };
}

/** bench/gen_tree.py's tree of JOBS jobs with 5 logs each. */
function treeOfJobs() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'karajo-e2e-perf-'));
  execFileSync('python3', [path.join(REPO, 'bench', 'gen_tree.py'), tmp, '--jobs', String(JOBS), '--logs', '5']);
  return { tmp, conf: path.join(tmp, 'etc', 'karajo', 'karajo.conf') };
}

describe(`dashboard with ${JOBS} jobs`, () => {
  const { test, s } = perfSuite(treeOfJobs);

  test(`renders in under ${BUDGET_MS} ms (median of ${RUNS} loads)`, async (t) => {
    const { daemon, browser } = s;
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

/** A tree with one job of RUNS_OF_JOB finished runs (every tenth failed), each 0-6 s long. */
function treeWithRuns() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'karajo-e2e-perf-runs-'));
  const etc = path.join(tmp, 'etc', 'karajo');
  fs.mkdirSync(etc, { recursive: true });
  const conf = path.join(etc, 'karajo.conf');
  fs.writeFileSync(conf, `[karajo]\nname = perf\nlisten_address = 127.0.0.1:0\ndir_base = ${tmp}\nsecret = s3cret\n`
    + `[job "perf runs"]\ncommand = true\nlog_retention = ${RUNS_OF_JOB}\n`);
  const dir = path.join(tmp, 'var', 'log', 'karajo', 'job', 'perf_runs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const first = Date.now() - RUNS_OF_JOB * 60_000;
  const stamp = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC job: perf_runs: `;
  for (let n = 1; n <= RUNS_OF_JOB; n += 1) {
    const start = first + n * 60_000;
    const status = n % 10 === 0 ? 'failed' : 'success';
    const end = start + (n % 7) * 1000;
    const text = `${stamp(start)}=== BEGIN #${n} (trigger: timer)\n${stamp(start)}--- Execute  0: true\n`
      + `${stamp(end)}${status === 'success' ? '=== DONE' : '!!! command 0 failed: exit status 1'}\n`;
    fs.writeFileSync(path.join(dir, `perf_runs.${n}.${status}`), text, { mode: 0o600 });
  }
  return { tmp, conf };
}

describe(`job page with ${RUNS_OF_JOB} runs`, () => {
  const { test, s } = perfSuite(treeWithRuns);

  test(`renders in under ${JOB_BUDGET_MS} ms (median of ${RUNS} loads)`, async (t) => {
    const { daemon, browser } = s;
    const { page } = browser;
    const load = async () => {
      await page.goto(`${daemon.url}/karajo/app/job.html?kind=job&id=perf_runs`);
      await page.waitForFunction(() => performance.getEntriesByName('karajo:history-painted').length > 0, null,
        { timeout: 30_000 });
      return page.evaluate(() => {
        const at = (n) => Number(performance.getEntriesByName(n)[0].startTime.toFixed(0));
        return {
          rows: document.querySelectorAll('table.history tbody tr[data-counter]').length,
          points: document.querySelectorAll('svg.chart g.pt').length,
          built: at('karajo:history'),
          painted: at('karajo:history-painted'),
        };
      });
    };
    const say = (what, f) => t.diagnostic(`${what}: ${f.rows} table rows, ${f.points} chart points, `
      + `history built at ${f.built} ms, painted at ${f.painted} ms`);
    say('cold load', await load());
    const runs = await page.evaluate(() => fetch('/karajo/api/job_exec/runs?id=perf_runs&limit=1000')
      .then((r) => r.json()).then((b) => b.data.length));
    assert.equal(runs, RUNS_OF_JOB, 'the history holds every imported run');
    const figures = [];
    for (let i = 0; i < RUNS; i += 1) {
      figures.push(await load());
      say(`load ${i + 1}`, figures[i]);
    }
    await screenshot(page, 'perf-job-1000-runs', { fullPage: false });
    for (const f of figures) {
      assert.equal(f.rows, 20, 'one page of the table');
      assert.equal(f.points, 50, 'the last 50 runs in the chart');
    }
    const median = figures.map((f) => f.painted).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    t.diagnostic(`median: history painted at ${median} ms`);
    assert.ok(median < JOB_BUDGET_MS, `painted at ${median} ms`);
    assert.deepEqual(browser.errors, []);
    assert.deepEqual(browser.foreign, []);
  });
});
