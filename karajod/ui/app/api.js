// The karajo API as the dashboard uses it (SPEC 7): reads, the four job
// actions, the session, and the signing secret for daemons without users.
//
// Authorisation of actions: a logged-in session sends its CSRF token in
// X-Karajo-Csrf; without users, actions are signed (X-Karajo-Sign = hex
// HMAC-SHA256 over the exact form body of job_exec calls, or the exact
// query string of job_http calls) with the secret the user typed, kept in
// sessionStorage so it dies with the tab.

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

/** `{name, csrf_token}` of the logged-in user, or null. */
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

async function authHeader(signed) {
  const s = await currentSession();
  if (s) return { 'X-Karajo-Csrf': s.csrf_token };
  const secret = savedSecret();
  if (secret === null) throw new NeedSecret('the secret is needed to sign this action');
  return { 'X-Karajo-Sign': await hmacHex(secret, signed) };
}

/**
 * Runs `action` (run, pause, resume, cancel) on a job of `kind`
 * (`job` or `job_http`); the job as it is now.
 */
export async function act(kind, id, action) {
  const epoch = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams({ _karajo_epoch: String(epoch), id }).toString();
  let url;
  let init;
  if (kind === 'job_http') {
    const query = new URLSearchParams({ id, _karajo_epoch: String(epoch) }).toString();
    url = `${API}/job_http/${action}?${query}`;
    init = { method: 'POST', headers: await authHeader(query) };
  } else {
    url = `${API}/job_exec/${action}`;
    init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(await authHeader(params)) },
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
