// Words for schedules, intervals and times. Pure functions of their
// arguments (`now` is passed in), so they are easy to test in the browser.

/** The API's "never" time. */
export const NEVER = '0001-01-01T00:00:00Z';

const NS_PER_S = 1e9;
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A Date for an RFC 3339 time, or null for "never" or garbage. */
export function parseTime(s) {
  if (!s || s.startsWith('0001-01-01')) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

function plural(n, unit) {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "every 5 minutes", "every hour", "every 1 hour 30 minutes". */
export function intervalWords(ns) {
  let s = Math.round(Number(ns) / NS_PER_S);
  if (!(s > 0)) return '';
  const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  for (const [unit, size] of units) {
    if (s === size) return `every ${unit}`;
  }
  const parts = [];
  for (const [unit, size] of units) {
    const n = Math.floor(s / size);
    if (n > 0) parts.push(plural(n, unit));
    s -= n * size;
  }
  return `every ${parts.join(' ')}`;
}

function listWords(items) {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function ordinal(n) {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}

function splitList(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function times(s, dflt = '00:00') {
  const list = s ? splitList(s) : [dflt];
  return list.map((t) => {
    const [h, m = '0'] = t.split(':');
    return `${h.padStart(2, '0')}:${m.padStart(2, '0')}`;
  });
}

function dayName(d) {
  const lower = d.toLowerCase();
  return DAYS.find((name) => name.toLowerCase() === lower || name.slice(0, 3).toLowerCase() === lower) || d;
}

/**
 * A calendar schedule in words: "every hour at :00 :15 :30 :45",
 * "every day at 06:00, 18:00 UTC", "every Sunday and Wednesday at 03:30 UTC",
 * "on the 1st and 15th of every month at 18:00 UTC". Unknown forms come back
 * as they are.
 */
export function scheduleWords(schedule) {
  const raw = (schedule || '').trim();
  if (!raw) return '';
  const [kind, a, b] = raw.split('@');
  switch (kind.toLowerCase()) {
    case 'minutely':
      return 'every minute';
    case 'hourly': {
      const mins = a ? splitList(a) : ['0'];
      return `every hour at ${mins.map((m) => `:${m.padStart(2, '0')}`).join(' ')}`;
    }
    case 'daily':
      return `every day at ${times(a).join(', ')} UTC`;
    case 'weekly': {
      const days = a ? splitList(a).map(dayName) : ['Sunday'];
      return `every ${listWords(days)} at ${times(b).join(', ')} UTC`;
    }
    case 'monthly': {
      const days = a ? splitList(a).map((d) => ordinal(Number(d))) : ['1st'];
      return `on the ${listWords(days)} of every month at ${times(b).join(', ')} UTC`;
    }
    default:
      return raw;
  }
}

/** When a job runs, in words: its schedule, interval, webhook or "by hand". */
export function whenWords(job) {
  if (job.schedule) return scheduleWords(job.schedule);
  const every = intervalWords(job.interval);
  if (every) return every;
  if (job.path) return 'on webhook';
  return 'by hand only';
}

/**
 * The headers a job's webhook signature is really read from, in the order
 * they are tried: `github` and `sourcehut` have fixed ones and ignore
 * `header_sign` (SPEC 7), only `hmac-sha256` uses it.
 */
export function signatureHeaders(job) {
  switch ((job.auth_kind || 'hmac-sha256').toLowerCase()) {
    case 'github': return ['X-Hub-Signature-256', 'X-Hub-Signature'];
    case 'sourcehut': return ['X-Payload-Signature'];
    default: return [job.header_sign || 'X-Karajo-Sign'];
  }
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago". */
export function ago(date, now) {
  const s = Math.max(0, Math.round((now - date) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** A countdown: "in 4:05", "in 1 h 02 min", "in 3 days 4 h", or "due now". */
export function countdown(date, now) {
  const s = Math.round((date - now) / 1000);
  if (s <= 0) return 'due now';
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `in ${m}:${String(s % 60).padStart(2, '0')}`;
  }
  const h = Math.floor(s / 3600);
  if (h < 48) return `in ${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `in ${Math.floor(h / 24)} days ${h % 24} h`;
}

/** RFC 3339 UTC to the second: "2024-02-29T12:00:00Z". */
export function utc(date) {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The exact time for a tooltip: local time and UTC. */
export function exact(date) {
  return `${date.toLocaleString()} (${utc(date)})`;
}

/** A duration in nanoseconds as Go writes it: "30s", "5m0s", "1h30m0s". */
export function goDuration(ns) {
  const n = Number(ns);
  if (n === 0) return '0s';
  if (n < 0) return `-${goDuration(-n)}`;
  let s = n / NS_PER_S;
  if (s < 1) return `${n / 1e6}ms`;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = Math.round((s - m * 60) * 1000) / 1000;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
