// Search inside the log viewer: every match highlighted, one of them
// current ("3 of 12"), next/previous moving between them. The log stays
// plain text: matches are painted with the CSS Custom Highlight API over
// Ranges of the log's text nodes, so nothing is inserted into it. Calling
// `refresh()` after lines are appended keeps a live log searched; the
// current match stays where it was. Screen readers hear the count when
// the person searches or moves, not on every line a live log adds.

import { announce } from './common.js';

const MATCHES = 'log-match';
const CURRENT = 'log-current';
const painted = typeof CSS !== 'undefined' && 'highlights' in CSS && typeof Highlight === 'function';

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every [start, end) of `query` in `text`, case-insensitive. */
export function findAll(text, query) {
  if (!query) return [];
  const re = new RegExp(escapeRegExp(query), 'gi');
  const out = [];
  for (let m = re.exec(text); m; m = re.exec(text)) out.push([m.index, m.index + m[0].length]);
  return out;
}

export class LogSearch {
  /** `pre` is the log; `input`, `hits`, `prev`, `next` the search controls. */
  constructor(pre, { input, hits, prev, next }) {
    Object.assign(this, { pre, input, hits, prev, next });
    this.matches = []; // [start, end) offsets into the log's text
    this.current = -1;
    this.query = '';
    input.addEventListener('input', () => this.refresh(true));
    input.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      this.move(ev.shiftKey ? -1 : 1);
    });
    prev.addEventListener('click', () => this.move(-1));
    next.addEventListener('click', () => this.move(1));
    this.render();
  }

  /** Searches the log again; `fresh` (a new query) starts at the first match. */
  refresh(fresh = false) {
    this.query = this.input.value;
    this.matches = this.query ? findAll(this.pre.textContent, this.query) : [];
    if (fresh || this.current >= this.matches.length) this.current = this.matches.length ? 0 : -1;
    else if (this.current < 0 && this.matches.length) this.current = 0;
    this.render();
    if (fresh && this.current >= 0) this.reveal();
    if (fresh) announce(this.hits.textContent);
  }

  /** Moves the current match by `step`, wrapping around. */
  move(step) {
    const n = this.matches.length;
    if (!n) return;
    this.current = (this.current + step + n) % n;
    this.render();
    this.reveal();
    announce(this.hits.textContent);
  }

  /**
   * A Range per match, in one walk over the log's text nodes (one per
   * appended batch; a match may span two of them).
   */
  ranges() {
    const nodes = [...this.pre.childNodes];
    let i = 0;
    let pos = 0;
    const at = (off) => {
      while (i < nodes.length - 1 && off >= pos + nodes[i].nodeValue.length) {
        pos += nodes[i].nodeValue.length;
        i += 1;
      }
      return [nodes[i], off - pos];
    };
    return this.matches.map(([s, e]) => {
      const r = document.createRange();
      r.setStart(...at(s));
      r.setEnd(...at(e));
      return r;
    });
  }

  render() {
    const n = this.matches.length;
    this.hits.textContent = !this.query ? '' : n ? `${this.current + 1} of ${n}` : 'no match';
    this.pre.dataset.matches = String(n);
    this.pre.dataset.current = String(this.current + 1);
    this.prev.disabled = n < 2;
    this.next.disabled = n < 2;
    if (!painted) return;
    const ranges = this.ranges();
    CSS.highlights.set(MATCHES, new Highlight(...ranges));
    const cur = ranges[this.current];
    CSS.highlights.set(CURRENT, cur ? new Highlight(cur) : new Highlight());
  }

  /** Scrolls the log so that the current match is in the middle. */
  reveal() {
    const r = this.ranges()[this.current];
    if (!r) return;
    const box = this.pre.getBoundingClientRect();
    const at = r.getBoundingClientRect();
    this.pre.scrollTop += at.top - box.top - this.pre.clientHeight / 2;
  }
}
