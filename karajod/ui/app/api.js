// The karajo API as the dashboard uses it (SPEC 7): reads, the four job
// actions, the session, and the signing secret for daemons without users.
//
// Authorisation of actions: a logged-in session sends its CSRF token in
// X-Karajo-Csrf; without users, actions carry the signature that binds
// the action (SPEC 21: X-Karajo-Signature: t=EPOCH,v1=HEX over
// METHOD\nPATH?QUERY\nEPOCH\nBODY), so they keep working with
// `classic_signatures = false` and a captured pause is no resume. The
// secret is the one the user typed, kept in sessionStorage so it dies with
// the tab.

import { hmacHex } from './sign.js';

export const API = '/karajo/api';
export const LOGIN_PAGE = '/karajo/';
const SECRET_KEY = 'karajo.secret';

/** An API error: HTTP status, the `ERR_*` name and the server's message. */
export class ApiError extends Error {
  constructor(status, name, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.errName = name || '';
  }
}

async function decode(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // Not JSON (a proxy page, an empty body): the status says enough.
  }
  if (!resp.ok) {
    throw new ApiError(resp.status, body && body.name, body && body.message);
  }
  return body ? body.data : null;
}

/** GET an API path; the `data` of the answer. A 401 goes to the login page. */
export async function get(path) {
  const resp = await fetch(API + path, { credentials: 'same-origin', cache: 'no-store' });
  if (resp.status === 401) {
    toLogin();
    throw new ApiError(401, 'ERR_AUTH', 'login required');
  }
  return decode(resp);
}

export function toLogin(query = '') {
  window.location.assign(LOGIN_PAGE + query);
}

let session; // undefined: not asked yet; null: no session

/** `{name, csrf_token, role}` of the logged-in user, or null. */
export async function currentSession() {
  if (session !== undefined) return session;
  const resp = await fetch(`${API}/auth/session`, { credentials: 'same-origin', cache: 'no-store' });
  session = resp.ok ? (await resp.json()).data : null;
  return session;
}

export async function logout() {
  const s = await currentSession();
  const headers = s ? { 'X-Karajo-Csrf': s.csrf_token } : {};
  await fetch(`${API}/auth/logout`, { method: 'POST', credentials: 'same-origin', headers });
  session = null;
  toLogin('?logged_out=1');
}

export function savedSecret() {
  return sessionStorage.getItem(SECRET_KEY);
}
export function saveSecret(secret) {
  sessionStorage.setItem(SECRET_KEY, secret);
}
export function forgetSecret() {
  sessionStorage.removeItem(SECRET_KEY);
}

/** Thrown when an action needs the secret and none is saved. */
export class NeedSecret extends Error {}

/**
 * The role whose controls the page shows: the session's, or `admin` when
 * the daemon has no users (anyone holding the secret may do everything,
 * as before roles existed).
 */
export async function role() {
  const s = await currentSession();
  return s ? s.role || 'admin' : 'admin';
}

/** The bound signature header of a POST to `pathQuery` with `body`. */
export async function boundSignature(secret, pathQuery, epoch, body) {
  const hex = await hmacHex(secret, `POST\n${pathQuery}\n${epoch}\n${body}`);
  return { 'X-Karajo-Signature': `t=${epoch},v1=${hex}` };
}

async function authHeader(pathQuery, epoch, body) {
  const s = await currentSession();
  if (s) return { 'X-Karajo-Csrf': s.csrf_token };
  const secret = savedSecret();
  if (secret === null) throw new NeedSecret('the secret is needed to sign this action');
  return boundSignature(secret, pathQuery, epoch, body);
}

/** 16 random hex digits: two equal calls in one second are no exact replay (409). */
function nonce() {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Runs `action` (run, pause, resume, cancel) on a job of `kind`
 * (`job` or `job_http`), or pauses or resumes a check (`check`: SPEC 18,
 * named by `name=` and signed over the query, as job_http); the job or
 * check as it is now.
 */
export async function act(kind, id, action) {
  const epoch = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams({ _karajo_epoch: String(epoch), id, _karajo_nonce: nonce() }).toString();
  let url;
  let init;
  if (kind === 'job_http' || kind === 'check') {
    const key = kind === 'check' ? 'name' : 'id';
    const query = new URLSearchParams({ [key]: id, _karajo_epoch: String(epoch), _karajo_nonce: nonce() }).toString();
    url = `${API}/${kind}/${action}?${query}`;
    init = { method: 'POST', headers: await authHeader(url, epoch, '') };
  } else {
    url = `${API}/job_exec/${action}`;
    init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(await authHeader(url, epoch, params)) },
      body: params,
    };
  }
  const resp = await fetch(url, { ...init, credentials: 'same-origin' });
  if (resp.status === 401 && !(await currentSession())) forgetSecret();
  return decode(resp);
}

/** The API path segment of a kind. */
export function segment(kind) {
  return kind === 'job_http' ? 'job_http' : 'job_exec';
}

/** One job (`kind` job or job_http) by ID. */
export function job(kind, id) {
  return get(`/${segment(kind)}?id=${encodeURIComponent(id)}`);
}

/**
 * History rows of a job (SPEC 15), newest first: at most `limit`, with a
 * counter below `before` when given.
 */
export function runs(kind, id, limit, before) {
  const b = before == null ? '' : `&before=${before}`;
  return get(`/${segment(kind)}/runs?id=${encodeURIComponent(id)}&limit=${limit}${b}`);
}

/** One run's log: its file's `bytes` and those as `text`. */
export async function log(kind, id, counter) {
  const data = await get(`/${segment(kind)}/log?id=${encodeURIComponent(id)}&counter=${counter}`);
  const bin = atob(data.content || '');
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return { ...data, bytes, text: new TextDecoder().decode(bytes) };
}

/** The SSE URL of a run's live log (no counter: the latest run). */
export function streamUrl(kind, id, counter) {
  const c = counter == null ? '' : `&counter=${counter}`;
  return `${API}/${segment(kind)}/log/stream?id=${encodeURIComponent(id)}${c}`;
}
