// The dashboard's audit feed, for admins only (SPEC 21: the audit log is
// an admin read): the newest entries of GET /karajo/api/audit, who did
// what to which job, by which transport and with what result. Fetched
// with each poll of the dashboard; an unchanged answer leaves the DOM be.

import * as api from './api.js';
import * as fmt from './format.js';
import { el } from './common.js';

/** Entries shown. */
export const ENTRIES = 15;

function entry(e) {
  const at = new Date(e.at);
  const ok = e.result === 'ok';
  return el('li', { class: `audit-entry${ok ? '' : ' refused'}`, 'data-seq': String(e.seq), title: `via ${e.via} from ${e.source}` },
    el('time', { class: 'audit-at', datetime: at.toISOString(), title: fmt.exact(at) },
      at.toLocaleTimeString([], { hourCycle: 'h23' })),
    el('span', { class: 'audit-actor' }, e.actor),
    el('span', { class: 'audit-action' }, e.action, e.target ? ` ${e.target}` : ''),
    el('span', { class: 'audit-result' }, ok ? 'ok' : `refused: ${e.result}`));
}

/** The panel over `list` (a <ul>) inside `section`, shown only to admins. */
export function auditPanel(section, list) {
  let key = '';
  let busy = false;
  let admin = false;

  async function refresh() {
    busy = true;
    try {
      const entries = await api.get(`/audit?limit=${ENTRIES}`);
      const k = entries.map((e) => e.seq).join(',');
      if (k === key) return;
      key = k;
      list.replaceChildren(...entries.map(entry));
      if (!entries.length) list.append(el('li', { class: 'none' }, 'Nothing audited yet.'));
    } catch {
      // A role that changed on reload, or the network: the next poll retries.
    } finally {
      busy = false;
    }
  }

  return {
    /**
     * Shows the panel when `session` (or null: no users, secret-signed
     * mode, where nobody may read the audit log) is an admin's.
     */
    setSession(session) {
      admin = Boolean(session) && session.role === 'admin';
      section.hidden = !admin;
      if (!admin) section.remove();
    },
    update() {
      if (admin && !busy) refresh();
    },
    tick() {},
  };
}
