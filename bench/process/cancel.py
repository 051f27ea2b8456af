#!/usr/bin/env python3
"""Time from cancel to run end, per escape pattern (bench/process.sh).

Usage: cancel.py SOCK LOGROOT RUNS JOB:MARK:MIN_PROCS ...

For each job: RUNS times, run it over the control socket, wait until its
log is `.running` and MIN_PROCS processes carry KT_MARK=MARK, POST cancel,
and time until the log is renamed `.canceled`. Prints one JSON object:
{job: {"p50_ms", "max_ms", "runs"}}; exits non-zero if a process
survived a run.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "engine"))
from kj import UnixConn, run_now  # noqa: E402


def marked(mark):
    want = f"KT_MARK={mark}".encode()
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if want in f.read().split(b"\0"):
                    n += 1
        except OSError:
            pass
    return n


def wait(cond, what, limit=20.0):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > limit:
            sys.exit(f"cancel.py: timed out waiting for {what}")
        time.sleep(0.002)


def cancel(conn, job_id):
    body = f"_karajo_epoch={int(time.time())}&id={job_id}"
    conn.request("POST", "/karajo/api/job_exec/cancel", body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"cancel.py: cancel {job_id}: {r.status}")


def main():
    sock, logroot, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = UnixConn(sock)
    out = {}
    for spec in sys.argv[4:]:
        job, mark, least = spec.split(":")
        times = []
        for k in range(1, runs + 1):
            running = os.path.join(logroot, job, f"{job}.{k}.running")
            done = os.path.join(logroot, job, f"{job}.{k}.canceled")
            status, data = run_now(conn, job)
            if status != 200:
                sys.exit(f"cancel.py: run {job}: {status} {data[:200]!r}")
            wait(lambda: os.path.exists(running) and marked(mark) >= int(least), f"{job}.{k} to start")
            t0 = time.monotonic()
            cancel(conn, job)
            wait(lambda: os.path.exists(done), f"{job}.{k} to end")
            times.append((time.monotonic() - t0) * 1000)
            left = marked(mark)
            if left:
                sys.exit(f"cancel.py: {left} processes of {job}.{k} survived the cancel")
        out[job] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "runs": runs}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
