// Words for times and durations, and a job's schedule as the daemon words
// it. Pure functions of their arguments (`now` is passed in), so they are
// easy to test in the browser.

/** The API's "never" time. */
export const NEVER = '0001-01-01T00:00:00Z';

const NS_PER_S = 1e9;

/** A Date for an RFC 3339 time, or null for "never" or garbage. */
export function parseTime(s) {
  if (!s || s.startsWith('0001-01-01')) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * When a job runs, in words: the daemon's `schedule_text` (worded once, in
 * the proto crate, for the dashboard and karajoctl alike). A daemon too old
 * to send it gets its schedule shown as written.
 */
export function whenWords(job) {
  if (job.schedule_text) return job.schedule_text;
  if (job.schedule) return job.schedule;
  if (Number(job.interval) > 0) return `every ${goDuration(job.interval)}`;
  return job.path ? 'on webhook' : 'by hand only';
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

const UNITS = [['day', 86_400], ['hour', 3_600], ['minute', 60], ['second', 1]];

/**
 * A span of nanoseconds in whole seconds, in words: "5 minutes",
 * "1 hour 30 minutes", "0 seconds".
 */
export function spanWords(ns) {
  let s = Math.floor(Number(ns) / NS_PER_S);
  if (s <= 0) return '0 seconds';
  const parts = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(s / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    s -= n * size;
  }
  return parts.join(' ');
}

/**
 * "every hour", "every 5 minutes", "every 1 hour 30 minutes": the words
 * the daemon gives an interval (proto's words::interval), for the values
 * it sends unworded (a check's period).
 */
export function intervalWords(ns) {
  const s = Math.floor(Number(ns) / NS_PER_S);
  if (s <= 0) return 'every moment';
  const unit = UNITS.find(([, size]) => size === s);
  return unit ? `every ${unit[0]}` : `every ${spanWords(ns)}`;
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
