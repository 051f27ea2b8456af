// Test harness: the real karajod on a copy of testdata/ in a temp dir,
// and a fresh headless Chromium. Waits are conditions with deadlines,
// never fixed sleeps.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCREENSHOTS = path.join(REPO, 'target', 'ui-screenshots');

/**
 * Where cargo puts its builds: what `cargo metadata` says (it honours
 * CARGO_TARGET_DIR and .cargo/config), else CARGO_TARGET_DIR, else target/.
 */
function targetDir() {
  try {
    const meta = execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps', '--offline'], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(meta).target_directory;
  } catch {
    return path.resolve(REPO, process.env.CARGO_TARGET_DIR || 'target');
  }
}

// Absolute: the daemon is spawned in its temp dir, where a relative path would not resolve.
const KARAJOD = path.resolve(process.env.KARAJOD_BIN || path.join(targetDir(), 'debug', 'karajod'));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const START_DEADLINE_MS = 20_000;

export const SECRET = 's3cret';

/**
 * Jobs added to the copied config: a slow job whose log grows line by line
 * (run live), a long one (to cancel), and a description full of things the
 * sanitiser must remove.
 */
const EXTRA_JOBS = `
[job "e2e slow"]
description = "<b>Slow</b> <i>ticker</i> <a href=\\"https://example.com/docs\\" onclick=\\"alert(1)\\">docs</a> <a href=\\"javascript:alert(2)\\">bad</a> <img src=x onerror=\\"alert(3)\\"><script>alert(4)</script><style>body{display:none}</style>"
command = "for i in $(seq 1 20); do echo tick $i; sleep 0.5; done"

[job "e2e long"]
description = Sleeps for a minute unless canceled.
command = "echo long job started"
command = "sleep 60"

[job "e2e quick"]
description = Runs 0 to 0.3 s; every fourth run fails.
command = "sleep 0.$((KARAJO_JOB_COUNTER % 4))"
command = "test $((KARAJO_JOB_COUNTER % 4)) -ne 0"
`;

/** Users beside the example's admin, with its password (karajo). */
const EXTRA_USERS = ['viewer', 'operator'];

/**
 * Copies testdata/ into a temp dir and points the config at it; `karajo`
 * holds more `[karajo]` keys (e.g. `classic_signatures: 'false'`), `extra`
 * more sections (e.g. `[check]`s) appended after EXTRA_JOBS. With
 * `users`, user.conf also gets a user of each role in EXTRA_USERS.
 */
function prepareTree({ users, karajo = {}, extra = '' }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'karajo-e2e-'));
  const base = path.join(tmp, 'testdata');
  fs.cpSync(path.join(REPO, 'testdata'), base, {
    recursive: true,
    filter: (src) => !/[/\\]testdata[/\\](broken|var)(\/|$)/.test(src.slice(REPO.length)),
  });
  const conf = path.join(base, 'etc', 'karajo', 'karajo.conf');
  let text = fs.readFileSync(conf, 'utf8');
  const set = (key, value) => {
    const re = new RegExp(`^${key}\\s*=.*$`, 'm');
    text = re.test(text) ? text.replace(re, `${key} = ${value}`) : text.replace('[karajo]', `[karajo]\n${key} = ${value}`);
  };
  set('dir_base', base);
  set('dir_public', path.join(base, 'srv', 'karajo'));
  set('listen_address', '127.0.0.1:0');
  for (const [key, value] of Object.entries(karajo)) set(key, value);
  fs.writeFileSync(conf, text + EXTRA_JOBS + extra);
  const userConf = path.join(base, 'etc', 'karajo', 'user.conf');
  if (!users) fs.rmSync(userConf);
  else {
    const hash = /^password\s*=\s*(\S+)/m.exec(fs.readFileSync(userConf, 'utf8'))[1];
    fs.appendFileSync(userConf, EXTRA_USERS.map((u) => `\n[user "${u}"]\npassword = ${hash}\nrole = ${u}\n`).join(''));
  }
  return { tmp, conf };
}

/**
 * `test` whose tests first await `setup` (run once, shared). Used instead
 * of `before`: when a `before` hook throws, node cancels the tests and its
 * summary says `fail 0` while it exits 1; a failed setup here fails every
 * test with the setup's error, so the summary and the exit code agree.
 */
export function testsAfter(setup) {
  let ready;
  return (name, fn) => test(name, async (t) => {
    ready ??= setup();
    await ready;
    return fn(t);
  });
}

/** Starts karajod on a copy of testdata/ (see prepareTree); resolves once it printed its address. */
export function startDaemon({ users = true, karajo = {}, extra = '' } = {}) {
  return startDaemonOn(prepareTree({ users, karajo, extra }));
}

/**
 * Starts karajod on the config `conf` (in the temp dir `tmp`, removed by
 * `stop()`); resolves once it printed its address.
 */
export async function startDaemonOn({ tmp, conf }) {
  if (!fs.existsSync(KARAJOD)) {
    throw new Error(`${KARAJOD} is missing: run \`cargo build -p karajod\` or set KARAJOD_BIN`);
  }
  const child = spawn(KARAJOD, ['--config', conf], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`karajod did not listen within ${START_DEADLINE_MS} ms:\n${stderr}`)), START_DEADLINE_MS);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = /^karajod: listening on (http:\/\/\S+)/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`karajod exited (${code}) before listening:\n${stderr}`));
    });
  });
  return {
    url,
    tmp,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh Chromium profile with one page at the given viewport and system
 * colour scheme. Records uncaught page errors and every request that
 * leaves `origin` (a `blob:` URL the page made is of its own origin).
 */
export async function startBrowser(origin, viewport, { colorScheme = 'light' } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'karajo-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport,
    isMobile: viewport.width < 500,
    hasTouch: viewport.width < 500,
    reducedMotion: 'reduce',
    colorScheme,
    acceptDownloads: true,
  });
  const errors = [];
  const foreign = [];
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith(`blob:${origin}/`)) foreign.push(u);
  });
  context.on('dialog', (d) => {
    errors.push(`unexpected dialog: ${d.message()}`);
    d.dismiss();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => errors.push(String(e)));
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    errors,
    foreign,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One daemon on testdata/ (`daemon`: the options of startDaemon) and one
 * browser (`viewport`, system `colorScheme`) for the describe block this
 * is called in, logged in as admin when `login`; stopped after the block.
 * `onReady({daemon, browser, page, url})` runs once both are up. Returns
 * the block's `test`.
 */
export function browserSuite(viewport, { colorScheme = 'light', login = false, daemon: options = {} } = {}, onReady = () => {}) {
  let daemon;
  let browser;
  const test = testsAfter(async () => {
    daemon = await startDaemon(options);
    browser = await startBrowser(daemon.url, viewport, { colorScheme });
    if (login) await logIn(browser.page, daemon.url);
    onReady({ daemon, browser, page: browser.page, url: daemon.url });
  });
  after(async () => {
    if (browser) await browser.close();
    if (daemon) await daemon.stop();
  });
  return test;
}

/** Logs in as `name` (admin, or one of EXTRA_USERS; password karajo) from the login page. */
export async function logIn(page, url, name = 'admin') {
  await page.goto(`${url}/karajo/`);
  await page.fill('#name', name);
  await page.fill('#password', 'karajo');
  await page.click('#submit');
  await page.waitForURL(`${url}/karajo/app/`);
}

/**
 * The controls of the page (buttons, inputs, selects, links, SVG images)
 * that have no accessible name: no label, aria-label, text or image alt.
 */
export function unnamedControls(page) {
  return page.evaluate(() => [...document.querySelectorAll('button, input, select, a[href], svg[role]')]
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()
      && !e.querySelector('img[alt]:not([alt=""])'))
    .map((e) => e.outerHTML.slice(0, 80)));
}

/** Polls `fn` until it returns a truthy value; that value. */
export async function until(fn, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A PNG under target/ui-screenshots/: the whole page, or with `fullPage: false` the viewport. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}
