// The job page's run history (SPEC 20): the figures of the last runs
// (success rate, p50, p95), their duration chart, and a table of every
// run of the history database (time, duration, status, trigger, attempts,
// node), newest first, paged with the runs API's `before`. The newest
// page follows the job page's poll; an older page stays as it was fetched.

import * as api from './api.js';
import * as fmt from './format.js';
import { durationChart, durationWords, stats } from './chart.js';
import { el, jobUrl, statusBadge } from './common.js';

/** Rows per page of the table. */
export const PAGE = 20;
/** Runs in the chart. */
export const CHART_RUNS = 50;

/** The chart is never drawn narrower (a box not laid out yet reads 0). */
const MIN_CHART_PX = 280;

const COLUMNS = ['Run', 'Started', 'Duration', 'Status', 'Trigger', 'Attempts', 'Node'];

function cell(label, ...children) {
  return el('td', { 'data-label': label }, ...children);
}

function started(r) {
  const d = fmt.parseTime(r.started_at) || fmt.parseTime(r.slot);
  if (!d) return el('span', { class: 'none' }, r.status === 'missed' ? 'not run' : '—');
  return el('time', { datetime: d.toISOString(), title: fmt.exact(d) }, fmt.utc(d).replace('T', ' '));
}

export class History {
  /**
   * Fills `box` for the job `kind`/`id` called `name`; `onPick(counter,
   * status)` opens a run's log when its link is followed.
   */
  constructor(box, kind, id, onPick) {
    Object.assign(this, { kind, id, onPick, name: id });
    this.figures = el('p', { class: 'history-figures', 'aria-live': 'polite' });
    this.chartBox = el('div', { class: 'chart-box' });
    this.body = el('tbody');
    this.table = el('table', { class: 'history' },
      el('caption', { class: 'visually-hidden' }, 'Runs, newest first'),
      el('thead', {}, el('tr', {}, COLUMNS.map((c) => el('th', { scope: 'col' }, c)))), this.body);
    this.newer = el('button', { type: 'button', id: 'runs-newer', onclick: () => this.go(-1) }, '← Newer runs');
    this.older = el('button', { type: 'button', id: 'runs-older', onclick: () => this.go(1) }, 'Older runs →');
    this.pageWords = el('span', { class: 'history-page', 'aria-live': 'polite' });
    box.replaceChildren(this.figures, this.chartBox, el('div', { class: 'history-scroll' }, this.table),
      el('nav', { class: 'history-pager', 'aria-label': 'run history pages' }, this.newer, this.pageWords, this.older));
    this.latest = null; // the newest rows, from the poll
    this.pages = []; // `before` of each older page shown, deepest last
    this.shown = null; // the rows of the page in the table (PAGE + 1 when there are more)
    this.key = '';
    this.selected = null;
    // The chart is drawn at the box's width: again when that changes.
    window.addEventListener('resize', () => {
      if (this.latest && Number(this.chartBox.dataset.width) !== Math.max(MIN_CHART_PX, this.chartBox.clientWidth)) {
        this.drawFigures();
      }
    });
  }

  /** The poll's newest rows (newest first) and the job's name. */
  update(rows, name) {
    this.name = name;
    const key = `${name}|${rows.map((r) => `${r.counter}:${r.status}:${r.duration_ms}:${r.log}`).join(',')}`;
    if (key === this.key) return;
    this.key = key;
    this.latest = rows;
    this.drawFigures();
    if (!this.pages.length) this.show(rows);
  }

  /** The runs API did not answer: says so, keeping what was shown. */
  unavailable() {
    this.key = '';
    this.figures.replaceChildren(el('span', { class: 'none' }, 'The run history cannot be read now; retrying.'));
  }

  drawFigures() {
    const s = stats(this.latest, CHART_RUNS);
    const rate = s.successRate == null ? 'no ended run yet'
      : `${Math.round(s.successRate * 100)} % success (${s.ended} ended runs)`;
    const value = (v) => (v == null ? '' : String(v));
    this.figures.replaceChildren(
      el('span', { class: 'figure', 'data-figure': 'success-rate', 'data-value': value(s.successRate) }, rate),
      el('span', { class: 'figure', 'data-figure': 'p50', 'data-value': value(s.p50) }, `p50 ${durationWords(s.p50)}`),
      el('span', { class: 'figure', 'data-figure': 'p95', 'data-value': value(s.p95) }, `p95 ${durationWords(s.p95)}`),
      el('span', { class: 'figure' }, `last ${s.runs.length} runs with a duration`));
    const width = Math.max(MIN_CHART_PX, this.chartBox.clientWidth);
    this.chartBox.dataset.width = String(width);
    // The shapes in words once (each point also has its own title).
    const legend = el('p', { class: 'chart-legend' }, 'Points: ● success · ✕ failed · ■ canceled · ◆ other; '
      + 'solid line p50, dashed line p95.');
    this.chartBox.replaceChildren(...(s.runs.length
      ? [durationChart(s, this.name, width), legend] : [el('p', { class: 'none' }, 'No run has ended yet.')]));
  }

  /** Marks the run whose log is open. */
  select(counter) {
    this.selected = counter;
    for (const tr of this.body.children) {
      if (Number(tr.dataset.counter) === counter) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
  }

  show(rows) {
    this.shown = rows;
    const page = rows.slice(0, PAGE);
    this.body.replaceChildren(...page.map((r) => this.row(r)));
    if (!page.length) this.body.append(el('tr', {}, el('td', { colspan: COLUMNS.length, class: 'none' }, 'No runs yet.')));
    this.newer.disabled = !this.pages.length;
    this.older.disabled = rows.length <= PAGE;
    this.pageWords.textContent = page.length
      ? `#${page[0].counter} to #${page[page.length - 1].counter}${this.pages.length ? '' : ' (newest)'}` : '';
    this.select(this.selected);
  }

  row(r) {
    const run = r.log
      ? el('a', {
        href: jobUrl(this.kind, this.id, r.counter),
        'aria-label': `run ${r.counter}, ${r.status}: open its log`,
        onclick: (ev) => {
          if (ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
          ev.preventDefault();
          this.onPick(r.counter, r.status);
        },
      }, `#${r.counter}`)
      : el('span', { title: 'log deleted by log_retention' }, `#${r.counter}`, el('span', { class: 'none' }, ' no log'));
    return el('tr', { 'data-counter': String(r.counter), 'data-status': r.status },
      cell('Run', run), cell('Started', started(r)), cell('Duration', durationWords(r.duration_ms)),
      cell('Status', statusBadge(r.status)), cell('Trigger', r.trigger || '—'), cell('Attempts', String(r.attempts)),
      cell('Node', r.node || '—'));
  }

  /** One page older (+1) or newer (-1). */
  async go(step) {
    if (step > 0) {
      const page = this.shown.slice(0, PAGE);
      this.pages.push(page[page.length - 1].counter);
    } else {
      this.pages.pop();
    }
    const before = this.pages[this.pages.length - 1];
    if (before == null) {
      this.show(this.latest);
      return;
    }
    this.older.disabled = true;
    this.newer.disabled = true;
    try {
      this.show(await api.runs(this.kind, this.id, PAGE + 1, before));
    } catch (e) {
      this.pageWords.textContent = `cannot load the runs (${e.message})`;
      this.newer.disabled = false;
    }
  }
}
