// The theme toggle. A classic (not module) script loaded in <head>, so a
// remembered theme is on <html> before the first paint (no flash of the
// other scheme). Without a remembered choice the system's
// prefers-color-scheme decides; the toggle pins the opposite of what shows.

(() => {
  const KEY = 'karajo.theme';
  const root = document.documentElement;
  const system = window.matchMedia('(prefers-color-scheme: dark)');
  const stored = () => {
    try {
      return localStorage.getItem(KEY);
    } catch {
      return null; // storage off (privacy settings): follow the system
    }
  };
  const saved = stored();
  if (saved === 'dark' || saved === 'light') root.dataset.theme = saved;

  const shown = () => root.dataset.theme || (system.matches ? 'dark' : 'light');

  function sync(button) {
    button.setAttribute('aria-pressed', String(shown() === 'dark'));
  }

  document.addEventListener('DOMContentLoaded', () => {
    const button = document.getElementById('theme');
    if (!button) return;
    sync(button);
    system.addEventListener('change', () => sync(button));
    button.addEventListener('click', () => {
      const next = shown() === 'dark' ? 'light' : 'dark';
      root.dataset.theme = next;
      try {
        localStorage.setItem(KEY, next);
      } catch {
        // Not remembered, but the page still switches.
      }
      sync(button);
    });
  });
})();
