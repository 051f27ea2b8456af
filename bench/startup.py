#!/usr/bin/env python3
"""Start-up time of karajod, for bench/api.sh (SPEC 14: under 100 ms).

    bench/startup.py KARAJOD CONFIG [--runs N] [--out FILE]

Each run: exec KARAJOD --config CONFIG, read its stdout up to the
"karajod: listening on http://ADDR" line (the socket is bound then, but
the engine may still be loading), send GET /karajo/health and wait for
the answer. Reported per run: exec -> listening line and exec -> the
first 200 from /karajo/health (the figure). The daemon is then stopped
with SIGTERM and reaped before the next run, so runs do not overlap.
Prints one line: "STARTUP runs=N health_p50_ms=.. health_p90_ms=..
health_max_ms=.. listen_p50_ms=.." and writes every sample to --out.
"""

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import time

LISTEN_PREFIX = "karajod: listening on http://"


def one_run(karajod, config):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(
        [karajod, "--config", config],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=os.path.dirname(config),
    )
    try:
        addr = None
        for line in p.stdout:
            if line.startswith(LISTEN_PREFIX):
                addr = line[len(LISTEN_PREFIX):].strip()
                break
        if addr is None:
            raise SystemExit("startup.py: %s exited (status %s) before printing its listening line"
                             % (karajod, p.wait()))
        t_listen = time.perf_counter_ns()
        host, port = addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/karajo/health")
        resp = conn.getresponse()
        resp.read()
        t_health = time.perf_counter_ns()
        conn.close()
        if resp.status != 200:
            raise SystemExit("startup.py: GET http://%s/karajo/health answered %d, not 200" % (addr, resp.status))
        return (t_listen - t0) / 1e6, (t_health - t0) / 1e6
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("karajod")
    ap.add_argument("config")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out")
    a = ap.parse_args()
    one_run(a.karajod, a.config)  # warm the page cache
    listen, health = [], []
    for _ in range(a.runs):
        l, h = one_run(a.karajod, a.config)
        listen.append(l)
        health.append(h)
    if a.out:
        with open(a.out, "w") as f:
            f.write("run\tlisten_ms\thealth_ms\n")
            for i, (l, h) in enumerate(zip(listen, health)):
                f.write("%d\t%.3f\t%.3f\n" % (i, l, h))
    print("STARTUP runs=%d health_p50_ms=%.2f health_p90_ms=%.2f health_max_ms=%.2f health_mean_ms=%.2f "
          "listen_p50_ms=%.2f" % (a.runs, statistics.median(health), pct(health, 90), max(health),
                                  statistics.mean(health), statistics.median(listen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
