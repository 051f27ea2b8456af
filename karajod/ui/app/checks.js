// The dashboard's "Checks" panel (SPEC 18 and 20): every passive check in
// the `checks` of /environment, those that need someone first (down, then
// late, then never pinged), each with its status as a word and a shape,
// what it expects, its last ping and when the next one is due, and, for
// operators and admins, a pause/resume button. It reads the dashboard's
// one poll and asks nothing itself; it is hidden while no check is
// configured. Rows are kept and updated in place, as the job rows are, so
// focus survives the refresh. The word functions are pure (`now` is
// passed in), for the unit tests.

import * as fmt from './format.js';
import { actionButtons, announce, compareNames, el, statusBadge } from './common.js';

/** Where each status sorts: what needs someone first, a paused check last. */
const RANK = { down: 0, late: 1, new: 2, up: 3, paused: 4 };

/** The panel's order: by RANK, then by name as people sort them. */
export function compareChecks(a, b) {
  return (RANK[a.status] ?? RANK.new) - (RANK[b.status] ?? RANK.new) || compareNames(a.name, b.name);
}

/**
 * What a check waits for, in words: "a ping every hour · grace 5 minutes",
 * or with a schedule "a ping due every day at 03:00 (Europe/Berlin)".
 * A schedule gets the daemon's words when it sends them (`schedule_text`,
 * as for jobs: wording a schedule is proto's job, not the page's), else it
 * is shown as written.
 */
export function expectsWords(c) {
  const zone = c.timezone ? ` (${c.timezone})` : '';
  let when = fmt.intervalWords(c.period);
  // The daemon's words already name a zone other than UTC.
  if (c.schedule) when = c.schedule_text ? `due ${c.schedule_text}` : `by each slot of ${c.schedule}${zone}`;
  const grace = Number(c.grace) > 0 ? `grace ${fmt.spanWords(c.grace)}` : 'no grace';
  return `a ping ${when} · ${grace}`;
}

/** The last ping: "3 min ago · success", "just now · exit 3", or "never". */
export function lastPingWords(c, now) {
  const at = fmt.parseTime(c.last_ping);
  if (!at) return 'never';
  return c.last_ping_kind ? `${fmt.ago(at, now)} · ${c.last_ping_kind}` : fmt.ago(at, now);
}

/** Whether the last ping said fail (`/fail` or a non-zero exit code): down without waiting. */
function failedPing(c) {
  const kind = c.last_ping_kind || '';
  return kind === 'fail' || (kind.startsWith('exit ') && kind !== 'exit 0');
}

/**
 * When the next ping is due: a countdown while up; how long ago it was
 * due while late (the API keeps `next_due` then); else why there is none.
 */
export function nextDueWords(c, now) {
  if (c.status === 'paused') return 'paused';
  const due = fmt.parseTime(c.next_due);
  if (due && due > now) return fmt.countdown(due, now);
  if (due) return `overdue: was due ${fmt.ago(due, now)}`;
  if (c.status === 'new') return 'after the first ping';
  if (c.status === 'down') return failedPing(c) ? 'after a successful ping' : 'overdue, past the grace';
  return '—';
}

function field(area, label) {
  const value = el('span', { class: 'field-value' });
  return { value, cell: el('div', { class: `check-${area}` }, el('span', { class: 'field-label' }, label), value) };
}

function makeRow(check, onDone) {
  const name = el('span', { class: 'check-name' });
  const badge = el('span');
  const expects = el('div', { class: 'check-expects' });
  const last = field('last', 'Last ping');
  const next = field('next', 'Next due');
  const actions = actionButtons('check', check, onDone, ['pause']);
  const li = el('li', { class: 'check-row', 'data-id': check.id },
    el('div', { class: 'check-head' }, el('div', { class: 'check-title' }, name, badge), expects),
    last.cell, next.cell, actions);
  const row = { li, check };
  row.update = (c, announceChange) => {
    if (announceChange && row.check.status !== c.status) announce(`check ${c.name}: ${c.status}`);
    row.check = c;
    li.dataset.status = c.status;
    name.textContent = c.name;
    badge.replaceChildren(statusBadge(c.status));
    expects.textContent = expectsWords(c);
    actions.update(c);
  };
  row.tick = (now) => {
    const c = row.check;
    last.value.textContent = lastPingWords(c, now);
    const at = fmt.parseTime(c.last_ping);
    last.value.title = at ? fmt.exact(at) : '';
    next.value.textContent = nextDueWords(c, now);
    const due = fmt.parseTime(c.next_due);
    next.value.title = due ? fmt.exact(due) : '';
  };
  row.update(check, false);
  return row;
}

/**
 * The panel over `list` (a <ul>) inside `section`; `count` (in the
 * heading) says how many checks there are, and how many down or late;
 * `onDone` runs after a pause or resume.
 */
export function checksPanel(section, list, count, onDone) {
  const rows = new Map(); // id -> row
  let seen = false; // a status change is announced only after the first render

  function update(env) {
    const checks = Object.values(env.checks || {}).sort(compareChecks);
    section.hidden = checks.length === 0;
    const keep = new Set();
    checks.forEach((c, i) => {
      keep.add(c.id);
      let row = rows.get(c.id);
      if (row) row.update(c, seen);
      else rows.set(c.id, (row = makeRow(c, onDone)));
      if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
    });
    for (const [id, row] of rows) {
      if (!keep.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    const n = (status) => checks.filter((c) => c.status === status).length;
    const [down, late] = [n('down'), n('late')];
    count.textContent = [`${checks.length} check${checks.length === 1 ? '' : 's'}`, down && `${down} down`, late && `${late} late`]
      .filter(Boolean).join(' · ');
    seen = true;
  }

  function tick(now) {
    for (const row of rows.values()) row.tick(now);
  }

  return { update, tick };
}
