// The log viewer: one run's log as plain text (never HTML). A finished run
// is fetched whole; a running one is followed over SSE until its `end`
// event. Lines are appended in batches, once per animation frame;
// `onText()` runs after every change of the text (the log search hooks in).

import * as api from './api.js';

const RETRY_MS = 2000;

export class LogView {
  /**
   * `pre` receives the text, `state` the run's status line; `onEnd(status)`
   * runs when a followed run ends.
   */
  constructor(pre, state, kind, id, onEnd) {
    Object.assign(this, { pre, state, kind, id, onEnd });
    this.es = null;
    this.counter = null;
    this.pending = [];
    this.frame = 0;
    this.follow = true;
    this.generation = 0; // bumps on every show(), so stale callbacks do nothing
    this.onText = () => {};
  }

  /** Shows run `counter` whose status is `status` (from the job's logs). */
  async show(counter, status) {
    this.close();
    const gen = ++this.generation;
    this.counter = counter;
    this.pre.textContent = '';
    this.pre.dataset.counter = String(counter);
    this.pre.dataset.status = status;
    this.onText();
    if (status === 'running') {
      this.stream(gen);
      return;
    }
    this.setState(`#${counter} · ${status}`);
    try {
      const data = await api.log(this.kind, this.id, counter);
      if (gen !== this.generation) return;
      this.pre.textContent = data.text;
      this.pre.dataset.status = data.status;
      this.onText();
      this.setState(`#${counter} · ${data.status}`);
      if (data.status === 'running') this.show(counter, 'running');
      else this.scrollEnd();
    } catch (e) {
      if (gen === this.generation) this.setState(`#${counter}: cannot load the log (${e.message})`);
    }
  }

  stream(gen) {
    this.setState(`#${this.counter} · running · following live`);
    const es = new EventSource(api.streamUrl(this.kind, this.id, this.counter));
    this.es = es;
    es.onmessage = (ev) => {
      this.pending.push(`${ev.data}\n`);
      if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
    };
    es.addEventListener('end', (ev) => {
      es.close();
      this.flush();
      let status = 'done';
      try {
        status = JSON.parse(ev.data).status || status;
      } catch {
        // An end without a body still ends the run.
      }
      this.pre.dataset.status = status;
      this.setState(`#${this.counter} · ${status}`);
      if (this.onEnd) this.onEnd(status);
    });
    es.onerror = () => {
      // EventSource would reconnect and replay the log from the top, so
      // close it and start over on a clean view instead.
      es.close();
      if (gen !== this.generation) return;
      this.setState(`#${this.counter} · connection lost, retrying…`);
      setTimeout(() => {
        if (gen === this.generation) this.show(this.counter, 'running');
      }, RETRY_MS);
    };
  }

  flush() {
    this.frame = 0;
    if (!this.pending.length) return;
    const atEnd = this.pre.scrollHeight - this.pre.scrollTop - this.pre.clientHeight < 40;
    this.pre.append(document.createTextNode(this.pending.join('')));
    this.pending = [];
    this.onText();
    if (this.follow && atEnd) this.scrollEnd();
  }

  /**
   * Saves the shown run's log file as `ID.N.STATUS`: its exact bytes, from
   * the daemon's `…/log` (so also what a live run wrote so far), handed to
   * the browser as a Blob.
   */
  async download() {
    if (this.counter == null) return;
    const data = await api.log(this.kind, this.id, this.counter);
    const url = URL.createObjectURL(new Blob([data.bytes], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${data.job_id}.${data.counter}.${data.status}`;
    document.body.append(a);
    a.click();
    a.remove();
    // Revoked later, not at once: the download reads the Blob after click().
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  scrollEnd() {
    this.pre.scrollTop = this.pre.scrollHeight;
  }

  setState(text) {
    this.state.textContent = text;
  }

  close() {
    if (this.es) this.es.close();
    this.es = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.pending = [];
  }
}
