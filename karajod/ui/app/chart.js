// The job page's duration chart: the last runs' durations as inline SVG
// drawn here (no library, no network), oldest left, one point per run that
// has a duration, with the p50 and p95 lines. A point's shape says its
// status (circle success, cross failed, square canceled, diamond else) and
// its <title> says it in words, so colour is never the only signal. The
// figures are pure functions of the rows, tested in units.test.mjs.

const NS = 'http://www.w3.org/2000/svg';
const H = 170; // the viewBox is the box's width in CSS pixels by H, so text keeps its size

const PAD = { left: 8, right: 96, top: 12, bottom: 18 };
const R = 4.5; // point radius, in viewBox units

/** The nearest-rank `p`th percentile of ascending `sorted`; null when empty. */
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** "850 ms", "12.3 s", "4 min 05 s". */
export function durationWords(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

const ENDED = new Set(['success', 'failed', 'canceled']);

/**
 * The figures of newest-first history `rows`, over at most `limit` runs
 * with a duration: those runs oldest first, p50, p95, and the share of
 * success among them that ended (null when none did).
 */
export function stats(rows, limit = 50) {
  const runs = rows.filter((r) => r.duration_ms != null).slice(0, limit).reverse();
  const sorted = runs.map((r) => r.duration_ms).sort((a, b) => a - b);
  const ended = runs.filter((r) => ENDED.has(r.status));
  const ok = ended.filter((r) => r.status === 'success').length;
  return {
    runs,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    ended: ended.length,
    successRate: ended.length ? ok / ended.length : null,
  };
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

function title(text) {
  const t = svg('title');
  t.textContent = text;
  return t;
}

function shape(status, x, y) {
  switch (status) {
    case 'success': return svg('circle', { cx: x, cy: y, r: R });
    case 'failed': return svg('path', { d: `M${x - R} ${y - R}L${x + R} ${y + R}M${x - R} ${y + R}L${x + R} ${y - R}` });
    case 'canceled': return svg('rect', { x: x - R, y: y - R, width: 2 * R, height: 2 * R });
    default: return svg('path', { d: `M${x} ${y - R - 1}L${x + R + 1} ${y}L${x} ${y + R + 1}L${x - R - 1} ${y}Z` });
  }
}

function line(W, cls, y, label, labelY = y) {
  const x2 = W - PAD.right;
  return svg('g', { class: `chart-line ${cls}` },
    svg('line', { x1: PAD.left, x2, y1: y, y2: y }),
    Object.assign(svg('text', { x: x2 + 6, y: labelY + 4 }), { textContent: label }));
}

/**
 * The chart of `s` (from `stats`), titled for `name`, `W` pixels wide; an
 * SVG element with one `g.pt` per run (`data-counter`, `data-status`).
 */
export function durationChart(s, name, W) {
  const { runs } = s;
  const max = Math.max(1, ...runs.map((r) => r.duration_ms)) * 1.1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (runs.length < 2 ? plotW / 2 : (i * plotW) / (runs.length - 1));
  const y = (ms) => PAD.top + plotH - (ms / max) * plotH;
  const desc = `${runs.length} runs; p50 ${durationWords(s.p50)}, p95 ${durationWords(s.p95)}`;
  const chart = svg('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Durations of the last runs of ${name}: ${desc}`,
    'data-points': runs.length,
  });
  chart.append(
    svg('line', { class: 'chart-axis', x1: PAD.left, x2: W - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH }),
    Object.assign(svg('text', { class: 'chart-note', x: PAD.left, y: H - 4 }), { textContent: 'oldest' }),
    Object.assign(svg('text', { class: 'chart-note', x: W - PAD.right, y: H - 4, 'text-anchor': 'end' }),
      { textContent: 'newest' }),
  );
  if (runs.length > 1) {
    const pts = runs.map((r, i) => `${x(i).toFixed(1)},${y(r.duration_ms).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { class: 'chart-trend', points: pts }));
  }
  if (s.p50 != null) chart.append(line(W, 'p50', y(s.p50), `p50 ${durationWords(s.p50)}`));
  // p95 sits above p50; its label moves up when the two would overlap.
  if (s.p95 != null) {
    const y95 = y(s.p95);
    const labelY = s.p50 == null ? y95 : Math.min(y95, y(s.p50) - 13);
    chart.append(line(W, 'p95', y95, `p95 ${durationWords(s.p95)}`, Math.max(PAD.top, labelY)));
  }
  runs.forEach((r, i) => {
    chart.append(svg('g', { class: 'pt', 'data-counter': r.counter, 'data-status': r.status },
      title(`#${r.counter}: ${r.status}, ${durationWords(r.duration_ms)}`), shape(r.status, x(i), y(r.duration_ms))));
  });
  return chart;
}
