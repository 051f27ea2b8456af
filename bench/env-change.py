#!/usr/bin/env python3
"""GET /karajo/api/environment right after a change, and unchanged (SPEC 23).

    bench/env-change.py URL [--runs N] [--secret S] [--gzip]

Each round: a signed pause or resume of the job "bench toggle" (as
bench/gen_tree.py writes it; one state change, not timed), then one GET
/environment, timed from the request to its headers (the daemon builds
the answer before it sends them) and to the end of the body; then the
same GET again with nothing changed, the baseline. One untimed GET comes
first (a fresh daemon's first answer encodes every job). One keep-alive
connection each, so no connect is timed. --gzip sends
`Accept-Encoding: gzip` as a browser does.
Prints "ENVCHANGE n=N changed_ttfb_p50_ms=.. changed_ttfb_p99_ms=..
changed_full_p50_ms=.. unchanged_ttfb_p50_ms=.. unchanged_full_p50_ms=.. bytes=..".
"""

import argparse
import hashlib
import hmac
import http.client
import sys
import time
import urllib.parse


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--secret", default="s3cret")
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    admin = http.client.HTTPConnection(u.hostname, u.port)
    reader = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"Accept-Encoding": "gzip" if a.gzip else "identity"}

    def get():
        t0 = time.perf_counter()
        reader.request("GET", "/karajo/api/environment", headers=headers)
        r = reader.getresponse()
        t1 = time.perf_counter()
        body = r.read()
        t2 = time.perf_counter()
        if r.status != 200:
            sys.exit(f"GET /environment: {r.status}")
        return (t1 - t0) * 1000, (t2 - t0) * 1000, len(body)

    changed, unchanged, size = [], [], 0
    # Untimed: the first answer of a fresh daemon encodes every job (with
    # 10,000 jobs that alone is the p99 of 40 rounds), not one change.
    get()
    for i in range(a.runs):
        action = "pause" if i % 2 == 0 else "resume"
        body = f"_karajo_epoch={1700000000 + i}&id=bench_toggle".encode()
        sign = hmac.new(a.secret.encode(), body, hashlib.sha256).hexdigest()
        admin.request("POST", f"/karajo/api/job_exec/{action}", body=body,
                      headers={"X-Karajo-Sign": sign, "Content-Type": "application/x-www-form-urlencoded"})
        r = admin.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"{action}: {r.status}")
        c = get()
        changed.append(c)
        unchanged.append(get())
        size = c[2]
    f = lambda xs, k, p: f"{pct([x[k] for x in xs], p):.3f}"
    print(f"ENVCHANGE n={a.runs} gzip={int(a.gzip)} changed_ttfb_p50_ms={f(changed, 0, .5)} "
          f"changed_ttfb_p99_ms={f(changed, 0, .99)} changed_full_p50_ms={f(changed, 1, .5)} "
          f"unchanged_ttfb_p50_ms={f(unchanged, 0, .5)} unchanged_full_p50_ms={f(unchanged, 1, .5)} bytes={size}")


if __name__ == "__main__":
    main()
