// The dashboard's "Active and queued now" panel: every job with a run
// going (status running) or a trigger waiting (`queued`: behind its
// running run, or for a free slot of max_job_running), with how long it has
// run and a cancel button. Items are kept and updated in place, as the job
// rows are, so focus survives the refresh.

import * as fmt from './format.js';
import { KINDS, actionButtons, compareNames, el, jobUrl, statusBadge } from './common.js';

/** The counter of a job's running run, or null. */
function runningCounter(job) {
  const run = (job.logs || []).find((l) => l.status === 'running');
  return run ? run.counter : null;
}

/** What the run is doing, in words (without the time, which ticks). */
function stateWords(job) {
  const n = runningCounter(job);
  if (job.status === 'running' && job.queued) return `#${n} running · 1 more queued behind #${n}`;
  if (job.status === 'running') return `#${n} running`;
  return 'queued: waits for a free slot';
}

function makeItem(kind, job, onDone) {
  const name = el('a', { class: 'active-name', href: jobUrl(kind, job.id) });
  const badge = el('span');
  const words = el('span', { class: 'active-words' });
  const since = el('span', { class: 'active-since' });
  const cancel = actionButtons(kind, job, onDone, ['cancel']);
  const li = el('li', { class: 'active-run', 'data-kind': kind, 'data-id': job.id },
    el('div', { class: 'active-title' }, name, badge, el('span', { class: 'active-kind' }, KINDS[kind])),
    el('div', { class: 'active-detail' }, words, since), cancel);
  const item = { li, job };
  item.update = (j) => {
    item.job = j;
    li.dataset.status = j.status;
    li.dataset.queued = String(Boolean(j.queued));
    name.textContent = j.name;
    badge.replaceChildren(statusBadge(j.status === 'running' ? 'running' : 'queued'));
    words.textContent = stateWords(j);
    cancel.update(j);
  };
  item.tick = (now) => {
    const started = item.job.status === 'running' ? fmt.parseTime(item.job.last_run) : null;
    since.textContent = started ? ` · started ${fmt.ago(started, now)}` : '';
    since.title = started ? fmt.exact(started) : '';
  };
  item.update(job);
  return item;
}

/** The panel over `list` (a <ul>); `onDone` runs after a cancel. */
export function activePanel(list, onDone) {
  const items = new Map(); // "kind:id" -> item
  const empty = el('li', { class: 'none' }, 'Nothing is running or queued.');
  list.replaceChildren(empty);

  function update(env) {
    const now = [];
    for (const [kind, jobs] of [['job', env.jobs], ['job_http', env.http_jobs]]) {
      for (const j of Object.values(jobs || {})) {
        if (j.status === 'running' || j.queued) now.push([kind, j]);
      }
    }
    now.sort((a, b) => compareNames(a[1].name, b[1].name));
    const keep = new Set();
    now.forEach(([kind, j], i) => {
      const key = `${kind}:${j.id}`;
      keep.add(key);
      let item = items.get(key);
      if (item) item.update(j);
      else items.set(key, (item = makeItem(kind, j, onDone)));
      if (list.children[i] !== item.li) list.insertBefore(item.li, list.children[i] || null);
    });
    for (const [key, item] of items) {
      if (!keep.has(key)) {
        item.li.remove();
        items.delete(key);
      }
    }
    if (now.length) empty.remove();
    else list.append(empty);
  }

  function tick(now) {
    for (const item of items.values()) item.tick(now);
  }

  return { update, tick };
}
