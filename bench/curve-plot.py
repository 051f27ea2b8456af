#!/usr/bin/env python3
"""The cost-curve table and plot of bench/curve.sh, from its TSV.

    bench/curve-plot.py CURVE_TSV --md CURVE_MD --svg CURVE_SVG [--title T]

CURVE_TSV has a header line and one row per job count (the columns
bench/curve.sh writes). The markdown table has one row per job count and,
per figure that grows with the jobs, its cost per job: the growth from
the row above divided by the jobs added (the slope of that segment of the
curve), so fixed costs do not hide in it. The SVG is drawn by hand (no
plotting library): log-log axes, jobs on x, one line per figure, ms and
MiB on the same y axis (MiB lines dashed), SPEC 23's targets as open
diamonds at the job count they name.
"""

import argparse
import csv
import math
import sys

# (column, label, unit, colour, scale to the plotted unit)
LINES = [
    ("startup_ms", "start-up to the first 200 of /health", "ms", "#1f77b4", 1),
    ("rss_kib", "VmRSS 3 s after start", "MiB", "#d62728", 1 / 1024),
    ("anon_kib", "RssAnon 3 s after start", "MiB", "#ff7f0e", 1 / 1024),
    ("env_changed_p50_ms", "/environment p50 after a change", "ms", "#2ca02c", 1),
    ("gz_changed_p50_ms", "/environment gzip p50 after a change", "ms", "#9467bd", 1),
    ("env_unchanged_p50_ms", "/environment p50 unchanged", "ms", "#8c564b", 1),
    ("gz_unchanged_p50_ms", "/environment gzip p50 unchanged", "ms", "#e377c2", 1),
]
# SPEC 23: (jobs, value in the plotted unit, label)
TARGETS = [
    (10000, 300, "start-up < 300 ms"),
    (10000, 40, "idle RSS < 40 MiB"),
    (10000, 10, "/environment after a change < 10 ms"),
    (1000, 2, "/environment after a change < 2 ms"),
]


def read_rows(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows:
        sys.exit(f"curve-plot.py: {path} holds no rows")
    out = []
    for r in rows:
        out.append({k: number(v) for k, v in r.items()})
    return sorted(out, key=lambda r: r["jobs"])


def number(v):
    """A cell as a float; None when empty; the text itself otherwise (the load)."""
    if v in ("", "-", None):
        return None
    try:
        return float(v)
    except ValueError:
        return v


def fmt(v, digits=2):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def slope(rows, i, col, scale=1.0):
    """Growth per added job from the row above, times scale."""
    if i == 0 or rows[i][col] is None or rows[i - 1][col] is None:
        return "-"
    dn = rows[i]["jobs"] - rows[i - 1]["jobs"]
    return fmt((rows[i][col] - rows[i - 1][col]) * scale / dn)


def markdown(rows, title):
    head = [
        "jobs", "start-up ms", "µs/job", "VmRSS MiB", "RssAnon MiB", "KiB/job",
        "/environment bytes", "unchanged p50 ms", "after a change p50 / p99 ms", "µs/job",
        "gzip bytes", "gzip unchanged p50 ms", "gzip after a change p50 / p99 ms", "µs/job",
    ]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, r in enumerate(rows):
        cells = [
            f"{r['jobs']:,.0f}",
            fmt(r["startup_ms"], 1), slope(rows, i, "startup_ms", 1000),
            fmt(r["rss_kib"] / 1024, 1), fmt(r["anon_kib"] / 1024, 1), slope(rows, i, "rss_kib"),
            f"{r['env_bytes']:,.0f}", fmt(r["env_unchanged_p50_ms"], 3),
            f"{fmt(r['env_changed_p50_ms'], 3)} / {fmt(r['env_changed_p99_ms'], 2)}",
            slope(rows, i, "env_changed_p50_ms", 1000),
            f"{r['gz_bytes']:,.0f}", fmt(r["gz_unchanged_p50_ms"], 3),
            f"{fmt(r['gz_changed_p50_ms'], 3)} / {fmt(r['gz_changed_p99_ms'], 2)}",
            slope(rows, i, "gz_changed_p50_ms", 1000),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per job (µs/job, KiB/job): the growth from the row above divided by the jobs added,",
        "the slope of that segment of the curve (start-up, VmRSS, /environment after a change).",
        "",
    ]
    return "\n".join(lines)


def svg(rows, title):
    width, height = 1000, 560
    left, right, top, bottom = 70, 330, 40, 60
    pw, ph = width - left - right, height - top - bottom
    series = []
    for col, label, unit, colour, scale in LINES:
        pts = [(r["jobs"], r[col] * scale) for r in rows if r.get(col) is not None and r[col] > 0]
        if pts:
            series.append((label, unit, colour, pts))
    xs = [r["jobs"] for r in rows] + [t[0] for t in TARGETS if t[0] <= max(r["jobs"] for r in rows)]
    ys = [y for s in series for _, y in s[3]] + [t[1] for t in TARGETS if t[0] in xs]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)

    def px(x):
        return left + (math.log10(x) - x0) / (x1 - x0) * pw

    def py(y):
        return top + ph - (math.log10(y) - y0) / (y1 - y0) * ph

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="24" font-size="15" font-weight="bold">{esc(title)}</text>']
    for e in range(y0, y1 + 1):
        for m in range(1, 10):
            v = m * 10 ** e
            if e == y1 and m > 1:
                break
            y = py(v)
            o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                     f'stroke="{"#ccc" if m == 1 else "#eee"}"/>')
        o.append(f'<text x="{left - 6}" y="{py(10 ** e) + 4:.1f}" text-anchor="end">{tick(10 ** e)}</text>')
    for e in range(x0, x1 + 1):
        for m in range(1, 10):
            if e == x1 and m > 1:
                break
            x = px(m * 10 ** e)
            o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" '
                     f'stroke="{"#ccc" if m == 1 else "#eee"}"/>')
        o.append(f'<text x="{px(10 ** e):.1f}" y="{top + ph + 18}" text-anchor="middle">{tick(10 ** e)}</text>')
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{left + pw / 2:.1f}" y="{height - 18}" text-anchor="middle">jobs (x 5 logs each), log scale</text>')
    o.append(f'<text transform="translate(18 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
             f'ms (solid) or MiB (dashed), log scale</text>')
    for label, unit, colour, pts in series:
        dash = ' stroke-dasharray="6 4"' if unit == "MiB" else ""
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        o.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in pts:
            o.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}">'
                     f'<title>{esc(label)}: {fmt(y)} {unit} at {x:,.0f} jobs</title></circle>')
    for jobs, v, label in TARGETS:
        if jobs not in xs:
            continue
        x, y = px(jobs), py(v)
        o.append(f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} L{x - 6:.1f},{y:.1f} Z" '
                 f'fill="none" stroke="black" stroke-width="1.5"><title>SPEC 23 target: {esc(label)} '
                 f'at {jobs:,} jobs</title></path>')
    ly = top + 6
    for label, unit, colour, _ in series:
        dash = ' stroke-dasharray="6 4"' if unit == "MiB" else ""
        o.append(f'<line x1="{left + pw + 16}" y1="{ly:.1f}" x2="{left + pw + 46}" y2="{ly:.1f}" '
                 f'stroke="{colour}" stroke-width="2"{dash}/>')
        o.append(f'<text x="{left + pw + 52}" y="{ly + 4:.1f}">{esc(label)} ({unit})</text>')
        ly += 20
    x = left + pw + 31
    o.append(f'<path d="M{x},{ly - 6} L{x + 6},{ly} L{x},{ly + 6} L{x - 6},{ly} Z" fill="none" stroke="black" stroke-width="1.5"/>')
    o.append(f'<text x="{left + pw + 52}" y="{ly + 4}">SPEC 23 target</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def tick(v):
    return f"{v:,.0f}" if v >= 1 else f"{v:g}"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv")
    ap.add_argument("--md", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--title", default="karajod cost per job count")
    a = ap.parse_args()
    rows = read_rows(a.tsv)
    with open(a.md, "w") as f:
        f.write(markdown(rows, a.title))
    with open(a.svg, "w") as f:
        f.write(svg(rows, a.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
