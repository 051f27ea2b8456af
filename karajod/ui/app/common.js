// Pieces shared by the dashboard and the job page: the top bar, toasts,
// the screen-reader announcer, status badges, run chips, action buttons,
// the secret dialog and the /environment poller.

import * as api from './api.js';

const POLL_MS = 3000;
const TOAST_MS = 4000;

/** document.createElement with properties, attributes and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const KINDS = { job: 'Job', job_http: 'HTTP job' };

// Built by hand, not with URLSearchParams: a dashboard of 1,000 jobs
// makes 6,000 of these links, and this is several times faster.
export function jobUrl(kind, id, counter) {
  const c = counter == null ? '' : `&counter=${counter}`;
  return `/karajo/app/job.html?kind=${encodeURIComponent(kind)}&id=${encodeURIComponent(id)}${c}`;
}

/** Compares job names as people sort them (one collator: localeCompare per call is slow). */
export const compareNames = new Intl.Collator().compare;

/** A status badge: colour and word. */
export function statusBadge(status) {
  const s = status || 'started';
  return el('span', { class: `status status-${s}`, 'data-role': 'status' }, s);
}

/** The recent runs as chips, newest last, each linking to its log. */
export function runChips(kind, job, current, limit = 10) {
  const logs = (job.logs || []).slice().sort((a, b) => a.counter - b.counter).slice(-limit);
  if (!logs.length) return el('span', { class: 'none' }, 'no runs yet');
  return el('ul', { class: 'chips', 'aria-label': `recent runs of ${job.name}` },
    logs.map((l) => el('li', {}, el('a', {
      class: `chip status-${l.status}`,
      href: jobUrl(kind, job.id, l.counter),
      title: `run #${l.counter}: ${l.status}`,
      'aria-label': `run ${l.counter}, ${l.status}`,
      'aria-current': current === l.counter ? 'true' : null,
      'data-counter': String(l.counter),
      'data-status': l.status,
    }, `#${l.counter}`))));
}

// ---- toasts and announcements ----

let toastBox;
let announcer;

export function toast(message, bad = false) {
  if (!toastBox) {
    toastBox = el('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const t = el('div', { class: `toast${bad ? ' bad' : ''}` }, message);
  toastBox.append(t);
  setTimeout(() => t.remove(), bad ? TOAST_MS * 2 : TOAST_MS);
}

/** Tells screen readers about a change without moving focus. */
export function announce(message) {
  if (!announcer) {
    announcer = el('div', { class: 'visually-hidden', 'aria-live': 'polite', id: 'announcer' });
    document.body.append(announcer);
  }
  announcer.textContent = message;
}

// ---- the secret dialog (daemons without users) ----

function askSecret() {
  return new Promise((resolve) => {
    const input = el('input', { type: 'password', id: 'secret-input', autocomplete: 'off', required: true });
    const dialog = el('dialog', { 'aria-labelledby': 'secret-title' },
      el('form', { method: 'dialog' },
        el('h2', { id: 'secret-title' }, 'Sign actions'),
        el('p', {}, 'This karajo has no users, so actions are signed with the server secret ([karajo] secret). '
          + 'It stays in this browser tab only.'),
        el('label', { for: 'secret-input' }, 'Secret'),
        input,
        el('div', { class: 'buttons' },
          el('button', { type: 'button', onclick: () => dialog.close('') }, 'Cancel'),
          el('button', { class: 'primary', value: 'ok' }, 'Sign'))));
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok' && input.value !== '';
      dialog.remove();
      resolve(ok ? input.value : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// ---- actions ----

let operate = true; // may the page's user run, pause, resume, cancel?

/**
 * The session's role (`api.role()`), set before the first render: a viewer
 * gets no action buttons at all (SPEC 21), rather than buttons that fail.
 */
export function setRole(role) {
  operate = role !== 'viewer';
}

const VERBS = { run: 'Run now', pause: 'Pause', resume: 'Resume', cancel: 'Cancel' };
const DONE = { run: 'queued', pause: 'paused', resume: 'resumed', cancel: 'cancel sent' };

async function perform(kind, job, action, button, onDone) {
  button.dataset.busy = '1';
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    for (;;) {
      try {
        await api.act(kind, job.id, action);
        break;
      } catch (e) {
        if (!(e instanceof api.NeedSecret)) throw e;
        const secret = await askSecret();
        if (secret == null) return;
        api.saveSecret(secret);
      }
    }
    toast(`${job.name}: ${DONE[action]}`);
    announce(`${job.name}: ${DONE[action]}`);
  } catch (e) {
    if (e.status === 401 && (await api.currentSession())) api.toLogin();
    const why = e.status === 401 ? 'not authorised (wrong secret?)' : e.message;
    toast(`${job.name}: ${VERBS[action].toLowerCase()} failed: ${why}`, true);
  } finally {
    delete button.dataset.busy;
    button.removeAttribute('aria-busy');
    button.disabled = false;
    if (onDone) onDone();
  }
}

/**
 * Run now, pause or resume, cancel (or the `actions` named): buttons for
 * one job, or (`kind` check, `actions` just pause) one check. The returned
 * element has `update(job)`, which changes the buttons in place so that
 * keyboard focus survives the periodic refresh.
 * Cancel is on while a run is active: running, or queued for a slot.
 */
export function actionButtons(kind, initial, onDone, actions = ['run', 'pause', 'cancel']) {
  let job = initial;
  const CLASSES = { run: 'primary', cancel: 'danger' };
  const buttons = (operate ? actions : []).map((action) => {
    const b = el('button', { type: 'button', class: CLASSES[action], 'data-action': action }, VERBS[action]);
    b.addEventListener('click', () => perform(kind, job, b.dataset.action, b, onDone));
    return b;
  });
  const box = el('div', { class: 'job-actions' }, buttons);
  box.update = (j) => {
    job = j;
    for (const b of buttons) {
      if (b.dataset.action === 'pause' || b.dataset.action === 'resume') {
        const action = job.status === 'paused' ? 'resume' : 'pause';
        if (b.dataset.action !== action) {
          b.dataset.action = action;
          b.textContent = VERBS[action];
        }
      }
      b.setAttribute('aria-label', `${VERBS[b.dataset.action]}: ${job.name}`);
      if (b.dataset.action === 'cancel' && !b.dataset.busy) b.disabled = job.status !== 'running' && !job.queued;
    }
  };
  box.update(job);
  return box;
}

// ---- the top bar ----

/** Fills the top bar: server name, connection state, user and logout. */
export async function topbar(envName) {
  const name = document.getElementById('server-name');
  if (name && envName) name.textContent = envName;
  const box = document.getElementById('user-box');
  if (!box || box.dataset.ready) return;
  box.dataset.ready = '1';
  const s = await api.currentSession();
  if (s) {
    box.append(el('span', { class: 'user' }, `Signed in as ${s.name} (${s.role || 'admin'})`),
      el('button', { type: 'button', id: 'logout', onclick: () => api.logout() }, 'Log out'));
  } else {
    const forget = el('button', {
      type: 'button',
      id: 'forget-secret',
      title: 'Forget the signing secret kept in this tab',
      onclick: () => { api.forgetSecret(); toast('Secret forgotten'); },
    }, 'Forget secret');
    box.append(el('span', { class: 'user' }, 'No login configured'), forget);
  }
}

// ---- polling ----

/**
 * Calls `fetchData()` now and every few seconds while the page is visible;
 * `onData(data)` on each answer, `onState(ok)` after each try.
 */
export function poll(fetchData, onData, onState) {
  let timer = null;
  let inFlight = false;
  let again = false; // a refresh asked for while a fetch was in flight
  async function tick() {
    clearTimeout(timer);
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      onData(await fetchData());
      onState(true);
    } catch (e) {
      if (!(e instanceof api.ApiError) && !(e instanceof TypeError && /fetch/i.test(e.message))) {
        console.error(e); // a bug in rendering, not the network
      }
      if (e.status !== 401) onState(false, e);
    } finally {
      inFlight = false;
    }
    if (again) {
      again = false;
      tick();
    } else if (document.visibilityState === 'visible') {
      timer = setTimeout(tick, POLL_MS);
    }
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') tick();
    else clearTimeout(timer);
  });
  tick();
  return { refresh: tick };
}

let wasOk = true;

/** Shows the connection state in the top bar; announces only changes. */
export function connState(ok) {
  const c = document.getElementById('conn');
  if (!c) return;
  c.classList.toggle('offline', !ok);
  c.textContent = ok ? `updated ${new Date().toLocaleTimeString()}` : 'offline: retrying';
  if (ok !== wasOk) announce(ok ? 'connection restored' : 'connection lost, retrying');
  wasOk = ok;
}
