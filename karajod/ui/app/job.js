// The job page (`job.html?kind=job|job_http&id=ID[&counter=N]`): the
// job's configuration, its runs (from the history database's runs API),
// the run history with its chart, and the log viewer. Polls the one job
// and its newest runs; with "Follow new runs" on, a new run is opened as
// soon as it appears.

import * as api from './api.js';
import * as fmt from './format.js';
import { LogView } from './logview.js';
import { LogSearch } from './search.js';
import { CHART_RUNS, History } from './history.js';
import {
  KINDS, actionButtons, announce, connState, el, jobUrl, poll, runChips, setRole, statusBadge, topbar,
} from './common.js';

const params = new URLSearchParams(window.location.search);
const kind = params.get('kind') === 'job_http' ? 'job_http' : 'job';
const id = params.get('id') || '';

const $ = (x) => document.getElementById(x);
const view = new LogView($('log'), $('log-state'), kind, id, () => poller.refresh());
const search = new LogSearch($('log'), { input: $('log-q'), hits: $('log-hits'), prev: $('log-prev'), next: $('log-next') });
view.onText = () => search.refresh();
const runHistory = new History($('history'), kind, id, (counter, status) => {
  $('follow').checked = false;
  select(counter, true, status);
  $('log').scrollIntoView({ block: 'nearest' });
});
let job = null;
let latestRuns = []; // the newest history rows, newest first
let actions = null;
let selected = params.has('counter') ? Number(params.get('counter')) : null;
let highest = null; // the highest counter seen, to spot new runs
let poller;

// An explicitly opened run stays open; only the latest-run view follows.
$('follow').checked = selected === null;

function row(term, ...value) {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}

function code(text) {
  return el('code', {}, text);
}

function list(items, empty = 'none') {
  if (!items || !items.length) return el('span', { class: 'none' }, empty);
  return el('ul', { class: 'commands' }, items.map((x) => el('li', {}, code(x))));
}

const TICK_MS = 1000;
const WORDS = { ago: fmt.ago, countdown: fmt.countdown };

/** A time as words that the ticker keeps current, and the exact UTC time. */
function timeValue(s, mode) {
  const d = fmt.parseTime(s);
  if (!d) return el('span', { class: 'none' }, 'never');
  return el('span', { title: fmt.exact(d) },
    el('span', { 'data-time': d.toISOString(), 'data-words': mode }, WORDS[mode](d, Date.now())),
    ` · ${fmt.utc(d)}`);
}

function tick() {
  const now = Date.now();
  for (const span of document.querySelectorAll('[data-time]')) {
    span.textContent = WORDS[span.dataset.words](new Date(span.dataset.time), now);
  }
}

function webhookUrl(path) {
  return `${window.location.origin}/karajo/api/job_exec/run${path.startsWith('/') ? '' : '/'}${path}`;
}

function httpTimeout(ns) {
  if (Number(ns) === 0) return 'the global http_timeout';
  if (Number(ns) < 0) return 'none';
  return fmt.goDuration(ns);
}

function configRows(j) {
  const rows = [
    row('ID', code(j.id)),
    row('Kind', KINDS[kind]),
    row('Runs', fmt.whenWords(j)),
  ];
  if (j.schedule) rows.push(row('Schedule', code(j.schedule)));
  if (!j.schedule && Number(j.interval) > 0) rows.push(row('Interval', code(fmt.goDuration(j.interval))));
  if (j.schedule && j.timezone) rows.push(row('Time zone', code(j.timezone)));
  if (Number(j.jitter) > 0) rows.push(row('Jitter', 'starts up to ', code(fmt.goDuration(j.jitter)), ' after its slot'));
  rows.push(row('Last run', timeValue(j.last_run, 'ago')));
  rows.push(row('Next run', timeValue(j.next_run, 'countdown')));
  if (kind === 'job') {
    if (j.path) {
      rows.push(row('Webhook', code(`POST ${webhookUrl(j.path)}`)));
      const headers = fmt.signatureHeaders(j).flatMap((h, i) => (i ? [' or else ', code(h)] : [code(h)]));
      rows.push(row('Auth', code(j.auth_kind || 'hmac-sha256'), ' · header ', ...headers));
    }
    rows.push(row('Commands', el('ol', { class: 'commands' }, (j.commands || []).map((c) => el('li', {}, el('pre', {}, c))))));
    if (j.dir) rows.push(row('Directory', code(j.dir)));
    if (j.user) rows.push(row('Runs as', code(`${j.user}:${j.group}`)));
    if ((j.env_names || []).length) rows.push(row('Environment', list(j.env_names), ' (values hidden)'));
    if (j.env_file) rows.push(row('Env file', code(j.env_file)));
  } else {
    rows.push(row('Request', code(`${j.http_method || 'GET'} ${j.http_url}`)));
    rows.push(row('Sent as', code(j.http_request_type || 'query'), ' · signed in ', code(j.header_sign || 'X-Karajo-Sign')));
    rows.push(row('Headers', list(j.http_headers)));
    rows.push(row('Timeout', httpTimeout(j.http_timeout)));
    rows.push(row('TLS', j.http_insecure ? 'any certificate accepted (insecure)' : 'certificates verified'));
  }
  if (j.overlap && (j.overlap !== 'queue' || Number(j.queue_size) !== 1)) {
    const size = j.overlap === 'queue' ? ` (up to ${j.queue_size} waiting)` : '';
    rows.push(row('While running', code(j.overlap), size));
  }
  if (Number(j.retry) > 0) {
    const waits = `${fmt.goDuration(j.retry_delay)} ×${j.retry_backoff} up to ${fmt.goDuration(j.retry_max_delay)}`;
    rows.push(row('Retries', `${j.retry} times, waiting `, code(waits), ' on ', code(j.retry_on || 'any failure')));
  }
  const timed = Number(j.interval) > 0 || j.schedule;
  if (timed && j.catch_up && j.catch_up !== (Number(j.interval) > 0 ? 'latest' : 'none')) {
    rows.push(row('Missed slots', code(j.catch_up), ' within ', code(fmt.goDuration(j.catch_up_window))));
  }
  rows.push(row('Keeps', `the last ${j.log_retention} logs`));
  rows.push(row('Mail on success', list(j.notif_on_success)));
  rows.push(row('Mail on failure', list(j.notif_on_failed)));
  return rows.flat();
}

/**
 * The runs whose log can be opened, oldest first: the history rows that
 * still have their log, and any run of the job's `logs` the rows do not
 * hold yet (a run that started since the rows were read).
 */
function runsOf(j) {
  const byCounter = new Map((j.logs || []).map((l) => [l.counter, l]));
  for (const r of latestRuns) {
    if (r.log) byCounter.set(r.counter, r);
    else byCounter.delete(r.counter);
  }
  return [...byCounter.values()].sort((a, b) => a.counter - b.counter);
}

/**
 * Opens run `counter` in the viewer and marks it in the lists; `status`
 * for a run of an older history page, which the newest runs do not hold.
 */
function select(counter, push, status) {
  const run = runsOf(job).find((l) => l.counter === counter);
  if (!run && !status) return;
  selected = counter;
  if (push) window.history.pushState({ counter }, '', jobUrl(kind, id, counter));
  view.show(counter, run ? run.status : status);
  runHistory.select(counter);
  renderRuns();
}

// The chips are the quick switcher; the history table below holds every run.
const CHIPS = 20;

function renderRuns() {
  const chips = runChips(kind, { ...job, logs: runsOf(job) }, selected, CHIPS);
  chips.addEventListener('click', (ev) => {
    const a = ev.target.closest('a.chip');
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    $('follow').checked = false;
    view.follow = true;
    select(Number(a.dataset.counter), true);
  });
  $('runs').replaceChildren(chips);
}

let runsKey = null;
let configKey = '';

function onJob({ job: j, runs: rows }) {
  const before = job;
  job = j;
  latestRuns = rows || [];
  if (!rows) runHistory.unavailable();
  document.title = `${j.name} · karajo`;
  $('job-name').textContent = j.name;
  $('job-status').replaceChildren(statusBadge(j.status));
  if (before && before.status !== j.status) announce(`${j.name}: ${j.status}`);
  if (!actions) {
    actions = actionButtons(kind, j, () => poller.refresh());
    $('job-actions').replaceWith(actions);
  }
  actions.update(j);

  const ck = JSON.stringify({ ...j, logs: null, status: null });
  if (ck !== configKey) {
    configKey = ck;
    // Sanitised by the daemon (ammonia, once per config load).
    $('description').innerHTML = j.description_html || '';
    $('config').replaceChildren(...configRows(j));
  }

  const runs = runsOf(j);
  const top = runs.length ? runs[runs.length - 1].counter : null;
  const isNew = highest !== null && top !== null && top > highest;
  highest = top;
  if (selected === null || (isNew && $('follow').checked)) {
    if (top !== null) select(top, false);
    else view.setState('No runs yet.');
  } else if (view.counter !== selected) {
    select(selected, false, 'loading');
  } else {
    const cur = runs.find((l) => l.counter === selected);
    // A run that was shown as finished before it was listed, or the
    // other way round: reopen it with its real status.
    if (cur && cur.status === 'running' && !view.es && $('log').dataset.status !== 'running') {
      view.show(selected, 'running');
    }
  }
  const rk = runs.map((l) => `${l.counter}:${l.status}`).join(',');
  if (rk !== runsKey) {
    runsKey = rk;
    renderRuns();
  }
  if (rows) runHistory.update(latestRuns, j.name);
  if (!performance.getEntriesByName('karajo:history').length) {
    // For the e2e figure: the history table and chart are built.
    performance.mark('karajo:history');
    requestAnimationFrame(() => setTimeout(() => performance.mark('karajo:history-painted')));
  }
}

// Asked once, before the first render: a viewer's page has no action buttons.
const roleReady = api.role().then(setRole);

async function fetchJob() {
  try {
    // A history database that cannot answer (503) leaves the page its log
    // viewer and the job's own `logs`; a lost session still goes to login.
    const rows = api.runs(kind, id, CHART_RUNS).catch((e) => (e.status === 401 ? Promise.reject(e) : null));
    const [j, r] = await Promise.all([api.job(kind, id), rows, roleReady]);
    return { job: j, runs: r };
  } catch (e) {
    if (e.status === 404 || e.status === 400) {
      $('job-error').textContent = `No ${KINDS[kind].toLowerCase()} with ID "${id}".`;
    }
    throw e;
  }
}

$('log-download').addEventListener('click', () => view.download().catch((e) => {
  $('log-state').textContent = `cannot download the log (${e.message})`;
}));

window.addEventListener('popstate', () => {
  const c = new URLSearchParams(window.location.search).get('counter');
  if (c !== null && job) select(Number(c), false, 'loading');
});

topbar();
api.get('/environment').then((env) => topbar(env.name)).catch(() => {});
poller = poll(fetchJob, onJob, connState);
setInterval(tick, TICK_MS);
