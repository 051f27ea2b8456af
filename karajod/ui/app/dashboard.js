// The dashboard: every job and HTTP job as a row that is built once and
// then updated in place on each poll, so focus and scroll survive. The
// filters (name, status, kind) live in the URL query (`?q=&status=&kind=`),
// so a link reproduces the view. Panels above the lists (active and queued
// now, passive checks, upcoming runs, the audit feed for admins) each get
// `update(env)` and `tick(now)` from the one poll. The session's role is
// asked before the first render: a viewer gets no action buttons, only an
// admin the audit feed.

import * as api from './api.js';
import * as fmt from './format.js';
import { activePanel } from './active.js';
import { auditPanel } from './audit.js';
import { checksPanel } from './checks.js';
import { upcomingPanel } from './upcoming.js';
import {
  KINDS, actionButtons, announce, compareNames, connState, el, jobUrl, poll, runChips, setRole, statusBadge, topbar,
} from './common.js';

const TICK_MS = 1000;
const rows = new Map(); // "kind:id" -> row
let poller;
let seenOnce = false;
const $ = (x) => document.getElementById(x);
const audit = auditPanel($('audit-panel'), $('audit'));
const panels = [
  activePanel($('active'), () => poller.refresh()),
  checksPanel($('checks-panel'), $('checks'), $('checks-count'), () => poller.refresh()),
  upcomingPanel($('upcoming'), $('upcoming-all'), $('upcoming-note')),
  audit,
];
const sessionReady = api.currentSession().then((s) => {
  setRole(s ? s.role : 'admin');
  audit.setSession(s);
});
// The filter controls, by the URL query key each is kept under.
const FILTERS = { q: $('filter'), status: $('f-status'), kind: $('f-kind') };

function timeCell(area, label) {
  const value = el('span', { class: 'field-value' });
  const cell = el('div', { class: `job-${area}` }, el('span', { class: 'field-label' }, label), value);
  return { cell, value };
}

/**
 * Sets a time cell: relative words, the exact time on hover (worded only
 * when the time changes: toLocaleString is slow, and this runs every
 * second for every row).
 */
function showTime(value, date, words) {
  if (!date) {
    value.textContent = 'never';
    value.removeAttribute('title');
    delete value.dataset.at;
    return;
  }
  value.textContent = words;
  const at = String(date.getTime());
  if (value.dataset.at !== at) {
    value.dataset.at = at;
    value.title = fmt.exact(date);
  }
}

function makeRow(kind, job) {
  const name = el('a', { class: 'job-name', href: jobUrl(kind, job.id) });
  const badge = el('span');
  const when = el('div', { class: 'job-when' });
  const last = timeCell('last', 'Last run');
  const next = timeCell('next', 'Next run');
  const runs = el('div', { class: 'job-runs' }, el('span', { class: 'field-label' }, 'Recent runs'), el('span'));
  const actions = actionButtons(kind, job, () => poller.refresh());
  const li = el('li', { class: 'job', 'data-kind': kind, 'data-id': job.id },
    el('div', { class: 'job-head' }, el('div', { class: 'job-title' }, name, badge), when),
    last.cell, next.cell, runs, actions);
  const row = { li, job, lastRun: null, nextRun: null, runsKey: null };

  row.update = (j) => {
    const before = row.job.status;
    row.job = j;
    li.dataset.status = j.status;
    li.dataset.name = j.name.toLowerCase();
    name.textContent = j.name;
    badge.replaceChildren(statusBadge(j.status));
    when.textContent = fmt.whenWords(j);
    when.title = j.schedule ? `schedule = ${j.schedule}` : (j.path ? `path = ${j.path}` : '');
    row.lastRun = fmt.parseTime(j.last_run);
    row.nextRun = fmt.parseTime(j.next_run);
    const key = (j.logs || []).map((l) => `${l.counter}:${l.status}`).join(',');
    if (key !== row.runsKey) {
      row.runsKey = key;
      runs.lastElementChild.replaceWith(runChips(kind, j));
    }
    actions.update(j);
    if (seenOnce && before !== j.status) announce(`${j.name}: ${j.status}`);
  };
  row.tick = (now) => {
    showTime(last.value, row.lastRun, row.lastRun && fmt.ago(row.lastRun, now));
    const paused = row.job.status === 'paused';
    const words = row.nextRun && (paused ? `paused (${fmt.countdown(row.nextRun, now)})` : fmt.countdown(row.nextRun, now));
    showTime(next.value, row.nextRun, words);
    if (!row.nextRun) next.value.textContent = row.job.path ? 'on webhook' : '—';
  };
  row.update(job);
  return row;
}

/**
 * Syncs `list` with `jobs`, creating at most `budget.rows` new rows (the
 * rest on a later pass: `budget.more` is set); returns nothing.
 */
function renderList(kind, list, jobs, budget) {
  const sorted = Object.values(jobs || {}).sort((a, b) => compareNames(a.name, b.name));
  const keep = new Set();
  let placed = 0;
  for (const job of sorted) {
    const key = `${kind}:${job.id}`;
    keep.add(key);
    let row = rows.get(key);
    if (!row && budget.rows <= 0) {
      budget.more = true;
      continue;
    }
    if (row) row.update(job);
    else {
      rows.set(key, (row = makeRow(kind, job)));
      budget.rows -= 1;
    }
    if (list.children[placed] !== row.li) list.insertBefore(row.li, list.children[placed] || null);
    placed += 1;
  }
  for (const [key, row] of rows) {
    if (key.startsWith(`${kind}:`) && !keep.has(key)) {
      row.li.remove();
      rows.delete(key);
    }
  }
  if (!sorted.length && !list.children.length) {
    list.append(el('li', { class: 'none' }, `No ${KINDS[kind].toLowerCase()}s configured.`));
  } else if (sorted.length) {
    for (const li of list.querySelectorAll(':scope > li.none')) li.remove();
  }
}

function renderSummary(env) {
  const all = [...Object.values(env.jobs || {}), ...Object.values(env.http_jobs || {})];
  const counts = {};
  for (const j of all) counts[j.status] = (counts[j.status] || 0) + 1;
  const items = [el('li', {}, `${all.length} jobs`)];
  for (const s of ['running', 'failed', 'canceled', 'paused', 'success', 'started']) {
    if (counts[s]) items.push(el('li', {}, el('span', { class: `status status-${s}` }, `${counts[s]} ${s}`)));
  }
  $('summary').replaceChildren(...items);
}

function matches(row, f) {
  const j = row.job;
  if (f.q && !row.li.dataset.name.includes(f.q) && !j.id.includes(f.q)) return false;
  if (f.status === 'queued') return Boolean(j.queued);
  return !f.status || j.status === f.status;
}

function applyFilter() {
  const f = {
    q: FILTERS.q.value.trim().toLowerCase(),
    status: FILTERS.status.value,
    kind: FILTERS.kind.value,
  };
  const shown = { job: 0, job_http: 0 };
  for (const row of rows.values()) {
    row.li.hidden = !matches(row, f);
    if (!row.li.hidden) shown[row.li.dataset.kind] += 1;
  }
  for (const list of document.querySelectorAll('ul.jobs')) {
    const kind = list.dataset.kind;
    list.closest('section').hidden = f.kind !== '' && f.kind !== kind;
    const none = list.parentElement.querySelector('.filtered-none');
    const hasRows = [...rows.keys()].some((k) => k.startsWith(`${kind}:`));
    none.hidden = !(hasRows && shown[kind] === 0);
  }
}

/** The filters into the URL (replacing the entry: typing is not history). */
function saveFilters() {
  const q = new URLSearchParams();
  for (const [key, input] of Object.entries(FILTERS)) if (input.value.trim()) q.set(key, input.value.trim());
  const query = q.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}`);
}

function loadFilters() {
  const q = new URLSearchParams(window.location.search);
  for (const [key, input] of Object.entries(FILTERS)) {
    const v = q.get(key) || '';
    // A select keeps only values it offers; a stale link falls back to "any".
    input.value = v;
    if (input.value !== v) input.value = '';
  }
}

function tick() {
  const now = Date.now();
  for (const row of rows.values()) row.tick(now);
  for (const p of panels) p.tick(now);
}

// Rows built per pass: the first pass fills more than a screen, so it
// paints at once; the rest follow in later tasks, the page staying live.
const FIRST_ROWS = 60;
const MORE_ROWS = 250;
let latest = null; // the newest /environment, for the passes that follow

function onEnvironment(env) {
  if (!seenOnce) performance.mark('karajo:data');
  latest = env;
  const failed = [...Object.values(env.jobs || {}), ...Object.values(env.http_jobs || {})]
    .filter((j) => j.status === 'failed').length;
  // The tab title tells a person with many tabs open that something failed.
  document.title = `${failed ? `(${failed} failed) ` : ''}${env.name || 'karajo'} · jobs`;
  topbar(env.name);
  const budget = { rows: seenOnce ? MORE_ROWS : FIRST_ROWS, more: false };
  renderList('job', $('jobs'), env.jobs, budget);
  renderList('job_http', $('http-jobs'), env.http_jobs, budget);
  renderSummary(env);
  for (const p of panels) p.update(env);
  applyFilter();
  tick();
  if (!seenOnce) {
    // For the e2e figure: the first render, then its first paint.
    performance.mark('karajo:rendered');
    requestAnimationFrame(() => setTimeout(() => performance.mark('karajo:painted')));
  }
  seenOnce = true;
  // The next pass after this one is painted (a bare setTimeout could run first).
  if (budget.more) requestAnimationFrame(() => setTimeout(() => onEnvironment(latest)));
  else if (!performance.getEntriesByName('karajo:complete').length) performance.mark('karajo:complete');
}

loadFilters();
for (const input of Object.values(FILTERS)) {
  input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', () => {
    applyFilter();
    saveFilters();
  });
}
// "/" jumps to the filter, as on many dashboards.
document.addEventListener('keydown', (ev) => {
  const t = ev.target;
  if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement) return;
  ev.preventDefault();
  FILTERS.q.focus();
});
poller = poll(async () => (await Promise.all([api.get('/environment'), sessionReady]))[0], onEnvironment, connState);
setInterval(tick, TICK_MS);
