#!/usr/bin/env python3
"""Helpers of bench/engine.sh that talk to a running karajod.

Subcommands (all print one JSON object on stdout; diagnostics on stderr):

  run SOCK ID                 one run-now over the control socket (trusted, no signature)
  bigout SOCK LOGDIR ID PID   trigger ID, sample karajod's VmRSS every 50 ms until the
                              run's log is renamed away from .running; RSS series to stdout
  burst SOCK LOGROOT PREFIX N TOTAL RETENTION
                              trigger jobs PREFIX0..PREFIX{N-1} back to back (429 = already
                              queued: try the next job) until TOTAL runs were accepted, wait
                              for every log to be final, time first trigger -> last rename
  timer STAMPS STDERR PHASES  lateness per run from the jobs' `date +%s.%N` stamps and the
                              daemon's `timer run started lateness_us=N` lines, split by
                              phase (PHASES: file of `phase minute_epoch` lines)
  hist METRICS_TEXT           the karajo_timer_lateness_seconds histogram as JSON
  forkexec TOTAL PAR          the raw baseline of karajod/examples/forkexec.rs when it is
                              not built: TOTAL runs of /bin/sh -c true, PAR at a time, spawned
                              the same way (clean environment, own process group, stdout a
                              pipe read to EOF); Python's spawn path makes it a slower baseline
"""

import http.client
import json
import os
import re
import socket
import sys
import time


class UnixConn(http.client.HTTPConnection):
    """HTTP/1.1 over the control socket, kept alive between requests."""

    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.path)
        self.sock = s


def run_now(conn, job_id):
    body = f"_karajo_epoch={int(time.time())}&id={job_id}"
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        conn.request("POST", "/karajo/api/job_exec/run", body, hdrs)
        r = conn.getresponse()
    except (http.client.HTTPException, OSError):
        # The server may close an idle keep-alive connection: reconnect once.
        conn.close()
        conn.request("POST", "/karajo/api/job_exec/run", body, hdrs)
        r = conn.getresponse()
    data = r.read()
    return r.status, data


def cmd_run(sock, job_id):
    status, data = run_now(UnixConn(sock), job_id)
    if status != 200:
        sys.exit(f"kj.py run: POST /karajo/api/job_exec/run id={job_id} over {sock}: {status} {data[:200]!r}")
    print(json.dumps({"status": status}))


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status: no VmRSS line")


def cmd_bigout(sock, logdir, job_id, pid):
    samples = []
    base = [vmrss_kib(pid) for _ in range(5) if time.sleep(0.05) is None]
    baseline = max(base)
    t0 = time.monotonic()
    cmd_run_quiet(sock, job_id)
    final = None
    while final is None:
        samples.append((round(time.monotonic() - t0, 3), vmrss_kib(pid)))
        time.sleep(0.05)
        names = os.listdir(logdir) if os.path.isdir(logdir) else []
        done = [n for n in names if n.startswith(job_id + ".1.") and not n.endswith(".running")]
        if done:
            final = os.path.join(logdir, done[0])
        if time.monotonic() - t0 > 600:
            sys.exit(f"kj.py bigout: {logdir}: no final log of {job_id} run 1 after 600 s")
    for _ in range(4):
        time.sleep(0.05)
        samples.append((round(time.monotonic() - t0, 3), vmrss_kib(pid)))
    peak = max(s[1] for s in samples)
    print(json.dumps({
        "baseline_kib": baseline, "peak_kib": peak, "growth_kib": peak - baseline,
        "after_kib": samples[-1][1], "seconds": round(time.monotonic() - t0, 2),
        "log": final, "log_bytes": os.path.getsize(final), "samples": samples,
    }))


def cmd_run_quiet(sock, job_id):
    status, data = run_now(UnixConn(sock), job_id)
    if status != 200:
        sys.exit(f"kj.py: POST /karajo/api/job_exec/run id={job_id} over {sock}: {status} {data[:200]!r}")


def final_logs(logroot, ids):
    """(runs ended, running logs, files per job, last rename time) from the log folders."""
    ended, running, most, last = 0, 0, 0, 0.0
    for jid in ids:
        d = os.path.join(logroot, jid)
        try:
            names = os.listdir(d)
            last = max(last, os.stat(d).st_mtime)
        except FileNotFoundError:
            continue
        top = 0
        for n in names:
            parts = n.split(".")
            if len(parts) != 3 or not parts[1].isdigit():
                continue
            if parts[2] == "running":
                running += 1
            else:
                top = max(top, int(parts[1]))
        ended += top
        most = max(most, len(names))
    return ended, running, most, last


def cmd_burst(sock, logroot, prefix, n, total, retention):
    ids = [f"{prefix}{i}" for i in range(n)]
    conn = UnixConn(sock)
    accepted = refused = 0
    t0 = time.time()
    i = 0
    misses_in_a_row = 0
    while accepted < total:
        status, data = run_now(conn, ids[i % n])
        i += 1
        if status == 200:
            accepted += 1
            misses_in_a_row = 0
        elif status == 429:
            refused += 1
            misses_in_a_row += 1
            if misses_in_a_row >= n:
                # Every job has a run and a queued one: let the slots drain.
                time.sleep(0.0005)
                misses_in_a_row = 0
        else:
            sys.exit(f"kj.py burst: run {ids[(i - 1) % n]}: unexpected {status} {data[:200]!r}")
    t_sent = time.time()
    deadline = t_sent + 300
    while True:
        ended, running, most, last = final_logs(logroot, ids)
        if ended >= total and running == 0:
            break
        if time.time() > deadline:
            sys.exit(f"kj.py burst: {logroot}: only {ended} of {total} runs ended after 300 s")
        time.sleep(0.05)
    # The folders' mtime is the last rename (or retention unlink) in them.
    elapsed = last - t0
    # Retention runs right after each rename: give the last ones a moment.
    time.sleep(0.5)
    most = final_logs(logroot, ids)[2]
    print(json.dumps({
        "runs": total, "refused_429": refused, "seconds": round(elapsed, 3),
        "runs_per_s": round(total / elapsed, 1), "trigger_seconds": round(t_sent - t0, 3),
        "max_files_per_job": most, "log_retention": retention,
    }))


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def summary(ms):
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99), "max_ms": max(ms) if ms else None}


ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
TRACE_RE = re.compile(r"^(\S+Z)\s.*timer run started.*lateness_us=(\d+)")


def cmd_timer(stamps, stderr, phases_file):
    phase_of = {}
    with open(phases_file) as f:
        for line in f:
            phase, minute = line.split()
            phase_of[int(minute)] = phase
    job = {p: [] for p in set(phase_of.values())}
    with open(stamps) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            t = float(parts[1])
            minute = int(t // 60) * 60
            if minute in phase_of:
                job[phase_of[minute]].append((t - minute) * 1000)
    daemon = {p: [] for p in set(phase_of.values())}
    with open(stderr) as f:
        for line in f:
            m = TRACE_RE.search(ANSI_RE.sub("", line))
            if not m:
                continue
            ts = m.group(1)
            # 2026-11-28T12:41:34.123456Z -> the minute it belongs to
            secs = time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            late_s = int(m.group(2)) / 1e6
            minute = int((secs - late_s) // 60) * 60
            if minute in phase_of:
                daemon[phase_of[minute]].append(int(m.group(2)) / 1000)
    print(json.dumps({p: {"job": summary(job[p]), "daemon": summary(daemon[p])} for p in job}))


def cmd_hist(path):
    buckets, count, total = [], 0, 0.0
    with open(path) as f:
        for line in f:
            if line.startswith("karajo_timer_lateness_seconds_bucket"):
                le = line.split('le="')[1].split('"')[0]
                buckets.append((le, int(line.split()[-1])))
            elif line.startswith("karajo_timer_lateness_seconds_count"):
                count = int(line.split()[-1])
            elif line.startswith("karajo_timer_lateness_seconds_sum"):
                total = float(line.split()[-1])
    print(json.dumps({"count": count, "sum": total, "buckets": buckets}))


def cmd_forkexec(total, par):
    import subprocess
    import threading

    left = [total]
    lock = threading.Lock()
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            p = subprocess.Popen(["/bin/sh", "-c", "true"], env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, process_group=0)
            p.stdout.read()
            if p.wait() != 0:
                sys.exit(f"kj.py forkexec: /bin/sh -c true ended with {p.returncode}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(par)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    print(json.dumps({"runs": total, "parallel": par, "seconds": round(secs, 3),
                      "runs_per_s": round(total / secs, 1), "baseline": "python"}))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "run":
        cmd_run(*args)
    elif cmd == "bigout":
        cmd_bigout(args[0], args[1], args[2], int(args[3]))
    elif cmd == "burst":
        cmd_burst(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]))
    elif cmd == "timer":
        cmd_timer(*args)
    elif cmd == "hist":
        cmd_hist(*args)
    elif cmd == "forkexec":
        cmd_forkexec(int(args[0]), int(args[1]))
    else:
        sys.exit(f"kj.py: unknown subcommand {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
