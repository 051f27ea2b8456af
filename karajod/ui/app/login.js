// The login page (/karajo/). Served before any session exists, so the
// daemon inlines this script and the stylesheet into the page: it imports
// nothing. If the API already answers (no users configured, or a live
// session), the dashboard opens at once.

const API = '/karajo/api';

// The theme the dashboard's toggle remembered (theme.js), so the login
// page does not flash the other scheme between two dashboard visits.
try {
  const theme = localStorage.getItem('karajo.theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
} catch {
  // Storage off: the system scheme.
}
const APP = '/karajo/app/';

const form = document.getElementById('login');
const error = document.getElementById('error');
const notice = document.getElementById('notice');
const submit = document.getElementById('submit');
const nameInput = document.getElementById('name');
const passwordInput = document.getElementById('password');

async function alreadyIn() {
  try {
    const resp = await fetch(`${API}/auth/session`, { credentials: 'same-origin', cache: 'no-store' });
    if (resp.ok) return true;
    const env = await fetch(`${API}/environment`, { credentials: 'same-origin', cache: 'no-store' });
    return env.ok;
  } catch {
    return false;
  }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.textContent = '';
  notice.textContent = '';
  if (!nameInput.value || !passwordInput.value) {
    error.textContent = 'Enter your user name and password.';
    (nameInput.value ? passwordInput : nameInput).focus();
    return;
  }
  submit.disabled = true;
  submit.setAttribute('aria-busy', 'true');
  try {
    const resp = await fetch(`${API}/auth/login`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: nameInput.value, password: passwordInput.value }),
    });
    if (resp.ok) {
      window.location.assign(APP);
      return;
    }
    let body = {};
    try {
      body = await resp.json();
    } catch {
      // Not JSON: the status code is all there is.
    }
    error.textContent = resp.status === 400 || resp.status === 401
      ? 'Wrong user name or password.'
      : (body.message || `Login failed (HTTP ${resp.status}).`);
    passwordInput.select();
  } catch {
    error.textContent = 'Cannot reach karajo. Is the daemon running?';
  } finally {
    submit.disabled = false;
    submit.removeAttribute('aria-busy');
  }
});

if (new URLSearchParams(window.location.search).has('logged_out')) {
  notice.textContent = 'You have been logged out.';
}
alreadyIn().then((yes) => {
  if (yes) window.location.replace(APP);
  else nameInput.focus();
});
