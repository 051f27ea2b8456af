// The dashboard's "Upcoming (next 24 h)" panel: the timer runs of
// GET /karajo/api/upcoming (SPEC 16), soonest first, each with its start
// time, a countdown and its job. The first few show; a button shows all.
// The list is fetched again when a job's next run or status changes (a
// run started, a job paused) and at least once a minute.

import * as api from './api.js';
import * as fmt from './format.js';
import { KINDS, el, jobUrl } from './common.js';

const HOURS = 24;
const LIMIT = 500;
const FIRST = 8;
const REFRESH_MS = 60_000;

const CLOCK = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

function item(u) {
  const at = new Date(u.at);
  const when = el('span', { class: 'upcoming-in', 'data-at': at.toISOString() });
  // A start off the slot is the job's jitter: the slot is said too.
  const jitter = u.at !== u.slot ? `, slot ${new Date(u.slot).toLocaleTimeString([], CLOCK)}` : '';
  const clock = at.toLocaleTimeString([], at.getSeconds() ? { ...CLOCK, second: '2-digit' } : CLOCK);
  return el('li', { class: 'upcoming-run', 'data-kind': u.kind, 'data-id': u.id, 'data-at': at.toISOString() },
    el('time', { class: 'upcoming-at', datetime: at.toISOString(), title: fmt.exact(at) }, clock),
    when,
    el('span', { class: 'upcoming-job' }, el('a', { class: 'upcoming-name', href: jobUrl(u.kind, u.id) }, u.name),
      el('span', { class: 'upcoming-kind' }, ` ${KINDS[u.kind] || u.kind}${jitter}`)));
}

/**
 * The panel over `list` (a <ul>), its show-all `toggle` button and `note`
 * (says when the list is cut at the API's limit).
 */
export function upcomingPanel(list, toggle, note) {
  let runs = [];
  let key = null;
  let fetchedAt = 0;
  let open = false;
  let busy = false;

  function render() {
    const shown = open ? runs : runs.slice(0, FIRST);
    list.replaceChildren(...shown.map(item));
    if (!runs.length) list.append(el('li', { class: 'none' }, `No timer run in the next ${HOURS} h.`));
    toggle.hidden = runs.length <= FIRST;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? `Show the first ${FIRST} only` : `Show all ${runs.length}`;
    note.textContent = runs.length >= LIMIT ? `The first ${LIMIT} runs of the next ${HOURS} h.` : '';
    list.dataset.count = String(runs.length);
    tick(Date.now());
  }

  async function refresh() {
    busy = true;
    try {
      runs = await api.get(`/upcoming?hours=${HOURS}&limit=${LIMIT}`);
      fetchedAt = Date.now();
      render();
    } catch {
      // The environment poll shows the connection state; the next change retries.
      key = null;
    } finally {
      busy = false;
    }
  }

  toggle.addEventListener('click', () => {
    open = !open;
    render();
  });

  function update(env) {
    const parts = [];
    for (const jobs of [env.jobs, env.http_jobs]) {
      for (const j of Object.values(jobs || {})) parts.push(`${j.id}:${j.next_run}:${j.status === 'paused'}`);
    }
    const k = parts.join(',');
    if (busy || (k === key && Date.now() - fetchedAt < REFRESH_MS)) return;
    key = k;
    refresh();
  }

  function tick(now) {
    for (const span of list.querySelectorAll('.upcoming-in')) {
      span.textContent = fmt.countdown(new Date(span.dataset.at), now);
    }
  }

  return { update, tick };
}
