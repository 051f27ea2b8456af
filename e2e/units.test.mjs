// The dashboard's pure modules tested inside Chromium: schedule and time
// words, a check's words and order, log search matching, the plain-JS HMAC fallback against
// WebCrypto, the bound signature against node's crypto, and the
// chart's percentiles and success rate. The files are served straight from karajod/ui/ (no daemon
// needed), and every page must load without a script error.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe } from 'node:test';
import { REPO, startBrowser, testsAfter } from './harness.mjs';

const UI = path.join(REPO, 'karajod', 'ui');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Serves karajod/ui at /karajo/ and answers every API call with 401. */
function staticServer() {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p.startsWith('/karajo/api/')) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"code":401,"message":"login required"}');
      return;
    }
    const rel = p === '/karajo/' ? 'index.html' : p.replace(/^\/karajo\//, '');
    const file = path.join(UI, rel);
    if (!file.startsWith(UI) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('UI modules in the browser', () => {
  let server;
  let browser;
  let page;
  let url;

  const test = testsAfter(async () => {
    server = await staticServer();
    url = `http://127.0.0.1:${server.address().port}`;
    browser = await startBrowser(url, { width: 1000, height: 700 });
    page = browser.page;
    await page.goto(`${url}/karajo/`);
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) server.close();
  });

  test('schedules as the daemon words them, and times in words', async () => {
    const got = await page.evaluate(async () => {
      const f = await import('/karajo/app/format.js');
      const now = Date.parse('2024-02-29T12:00:00Z');
      return {
        daemonWords: f.whenWords({ schedule: 'daily@06:00', schedule_text: 'every day at 06:00', interval: 0 }),
        oldDaemon: f.whenWords({ schedule: 'daily@06:00', interval: 0, path: '' }),
        oldInterval: f.whenWords({ schedule: '', interval: 90e9, path: '' }),
        ago: f.ago(now - 180e3, now),
        agoH: f.ago(now - 5 * 3600e3, now),
        count: f.countdown(now + 272e3, now),
        countH: f.countdown(now + 3 * 3600e3 + 120e3, now),
        due: f.countdown(now - 1000, now),
        never: f.parseTime('0001-01-01T00:00:00Z'),
        hand: f.whenWords({ schedule: '', interval: 0, path: '' }),
        hook: f.whenWords({ schedule: '', interval: 0, path: '/x' }),
        go: [f.goDuration(30e9), f.goDuration(300e9), f.goDuration(5400e9)],
        every: [f.intervalWords(60e9), f.intervalWords(300e9), f.intervalWords(5400e9), f.intervalWords(86_401e9), f.intervalWords(0)],
        span: [f.spanWords(1e9), f.spanWords(3600e9), f.spanWords(3661e9), f.spanWords(0)],
      };
    });
    assert.deepEqual(got, {
      daemonWords: 'every day at 06:00',
      oldDaemon: 'daily@06:00',
      oldInterval: 'every 1m30s',
      ago: '3 min ago',
      agoH: '5 h ago',
      count: 'in 4:32',
      countH: 'in 3 h 02 min',
      due: 'due now',
      never: null,
      hand: 'by hand only',
      hook: 'on webhook',
      go: ['30s', '5m0s', '1h30m0s'],
      every: ['every minute', 'every 5 minutes', 'every 1 hour 30 minutes', 'every 1 day 1 second', 'every moment'],
      span: ['1 second', '1 hour', '1 hour 1 minute 1 second', '0 seconds'],
    });
  });

  test("a check's words: what it expects, its last ping, when it is due; down and late first", async () => {
    const got = await page.evaluate(async () => {
      const c = await import('/karajo/app/checks.js');
      const now = Date.parse('2024-02-29T12:00:00Z');
      const at = (ms) => new Date(now + ms).toISOString();
      const check = (name, status, more = {}) => ({
        name, status, period: 3600e9, schedule: '', timezone: 'UTC', grace: 300e9,
        last_ping: null, last_ping_kind: '', next_due: null, ...more,
      });
      return {
        expects: [
          c.expectsWords(check('a', 'new')),
          c.expectsWords(check('a', 'new', { period: 0, schedule: 'daily@03:00', timezone: 'Europe/Berlin', grace: 0 })),
          c.expectsWords(check('a', 'new', {
            period: 0, schedule: 'daily@03:00', schedule_text: 'every day at 03:00 (Europe/Berlin)', timezone: 'Europe/Berlin', grace: 5400e9,
          })),
          c.expectsWords(check('a', 'new', { period: 90e9, grace: 2e9 })),
        ],
        last: [
          c.lastPingWords(check('a', 'new'), now),
          c.lastPingWords(check('a', 'up', { last_ping: at(-180e3), last_ping_kind: 'success' }), now),
          c.lastPingWords(check('a', 'down', { last_ping: at(-2000), last_ping_kind: 'exit 3' }), now),
        ],
        next: [
          c.nextDueWords(check('a', 'up', { next_due: at(272e3) }), now),
          c.nextDueWords(check('a', 'late', { next_due: at(-42e3) }), now),
          c.nextDueWords(check('a', 'down'), now),
          c.nextDueWords(check('a', 'down', { last_ping_kind: 'fail' }), now),
          c.nextDueWords(check('a', 'down', { last_ping_kind: 'exit 1' }), now),
          c.nextDueWords(check('a', 'new'), now),
          c.nextDueWords(check('a', 'paused', { next_due: at(10e3) }), now),
        ],
        order: ['up', 'paused', 'new', 'late', 'down', 'up']
          .map((s, i) => check(`${'fedcba'[i]}`, s)).sort(c.compareChecks).map((x) => `${x.name}:${x.status}`),
      };
    });
    assert.deepEqual(got, {
      expects: [
        'a ping every hour · grace 5 minutes',
        'a ping by each slot of daily@03:00 (Europe/Berlin) · no grace',
        'a ping due every day at 03:00 (Europe/Berlin) · grace 1 hour 30 minutes',
        'a ping every 1 minute 30 seconds · grace 2 seconds',
      ],
      last: ['never', '3 min ago · success', 'just now · exit 3'],
      next: ['in 4:32', 'overdue: was due 42 s ago', 'overdue, past the grace', 'after a successful ping',
        'after a successful ping', 'after the first ping', 'paused'],
      order: ['b:down', 'c:late', 'd:new', 'a:up', 'f:up', 'e:paused'],
    });
  });

  test('the signature header shown is the one each auth kind checks', async () => {
    const got = await page.evaluate(async () => {
      const f = await import('/karajo/app/format.js');
      return [
        f.signatureHeaders({ auth_kind: 'github', header_sign: 'X-Karajo-Sign' }),
        f.signatureHeaders({ auth_kind: 'sourcehut', header_sign: 'X-Karajo-Sign' }),
        f.signatureHeaders({ auth_kind: 'hmac-sha256', header_sign: 'X-Signature' }),
        f.signatureHeaders({}),
      ];
    });
    assert.deepEqual(got, [
      ['X-Hub-Signature-256', 'X-Hub-Signature'],
      ['X-Payload-Signature'],
      ['X-Signature'],
      ['X-Karajo-Sign'],
    ]);
  });

  test('log search finds every match, case-insensitive, with regex characters taken literally', async () => {
    const got = await page.evaluate(async () => {
      const { findAll } = await import('/karajo/app/search.js');
      return [findAll('Tick tick TICK', 'tick'), findAll('a.b axb a.b', 'a.b'), findAll('x', ''), findAll('(x) (x', '(x')];
    });
    assert.deepEqual(got, [[[0, 4], [5, 9], [10, 14]], [[0, 3], [8, 11]], [], [[0, 2], [4, 6]]]);
  });

  test('the plain-JS HMAC-SHA256 matches WebCrypto', async () => {
    const got = await page.evaluate(async () => {
      const s = await import('/karajo/app/sign.js');
      const res = [];
      for (const [k, m] of [['s3cret', '_karajo_epoch=1700000000&id=test_job_success'],
        ['k'.repeat(100), 'm'.repeat(1000)], ['key', 'x'.repeat(55)], ['key', 'x'.repeat(64)], ['ключ', 'данные']]) {
        res.push([await s.hmacHex(k, m), s.hmacHexJs(k, m)]);
      }
      return res;
    });
    for (const [webcrypto, js] of got) assert.equal(js, webcrypto);
    // RFC 4231 test case 2.
    const rfc = await page.evaluate(async () => (await import('/karajo/app/sign.js')).hmacHexJs('Jefe', 'what do ya want for nothing?'));
    assert.equal(rfc, '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  test('the bound signature covers METHOD, PATH with query, EPOCH and BODY (SPEC 21)', async () => {
    const [pathQuery, epoch, body] = ['/karajo/api/job_http/pause?id=ping&_karajo_epoch=1700000000', 1700000000, ''];
    const got = await page.evaluate(async (a) => {
      const api = await import('/karajo/app/api.js');
      return api.boundSignature('s3cret', ...a);
    }, [pathQuery, epoch, body]);
    const hex = crypto.createHmac('sha256', 's3cret').update(`POST\n${pathQuery}\n${epoch}\n${body}`).digest('hex');
    assert.deepEqual(got, { 'X-Karajo-Signature': `t=${epoch},v1=${hex}` });
  });

  test('the chart: nearest-rank p50 and p95, one point per run with a duration, the success rate', async () => {
    const got = await page.evaluate(async () => {
      const c = await import('/karajo/app/chart.js');
      // Newest first, as the runs API answers.
      const rows = [
        { counter: 5, status: 'running', duration_ms: null },
        { counter: 4, status: 'failed', duration_ms: 400 },
        { counter: 3, status: 'success', duration_ms: 100 },
        { counter: 2, status: 'missed', duration_ms: null },
        { counter: 1, status: 'success', duration_ms: 250 },
      ];
      const s = c.stats(rows);
      const svg = c.durationChart(s, 'x', 500);
      return {
        p50: s.p50, p95: s.p95, rate: s.successRate, order: s.runs.map((r) => r.counter),
        points: svg.querySelectorAll('g.pt').length,
        words: [c.durationWords(850), c.durationWords(12_345), c.durationWords(245_000), c.durationWords(null)],
        empty: [c.percentile([], 50), c.stats([]).successRate],
      };
    });
    assert.deepEqual(got, {
      p50: 250, p95: 400, rate: 2 / 3, order: [1, 3, 4], points: 3,
      words: ['850 ms', '12.3 s', '4 min 05 s', '—'], empty: [null, null],
    });
  });

  test('every page loads without a script error and links only this origin', async () => {
    for (const p of ['/karajo/', '/karajo/app/index.html', '/karajo/app/job.html?kind=job&id=x']) {
      await page.goto(url + p);
      await page.waitForLoadState('networkidle');
    }
    assert.deepEqual(browser.errors, []);
    assert.deepEqual(browser.foreign, []);
  });
});
