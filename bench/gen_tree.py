#!/usr/bin/env python3
"""Generates a karajo dir_base tree for the benchmarks (SPEC 14).

    bench/gen_tree.py DIR [--jobs N] [--logs M] [--secret S] [--bare]

writes DIR/etc/karajo/karajo.conf (listen 127.0.0.1:0, control socket
DIR/karajod.sock), N jobs spread over DIR/etc/karajo/job.d/jobs-NN.conf
(100 per file), and M run logs per job under DIR/var/log/karajo/job/ID/
named ID.COUNTER.STATUS as SPEC 6 describes, each a few prefixed lines.

Besides the N bulk jobs it always adds two jobs the benchmarks drive:
  "bench paused"  webhook path /bench/paused, paused by a flag file in
                  var/lib/karajo/state/job/ (every trigger answers 412);
  "bench toggle"  the target of the signed pause/resume calls.
Neither is counted in N; --bare leaves both out (the 0-job baseline). Neither ever runs during a benchmark: the bulk
jobs' timers are chosen so that nothing fires within the next hours
(weekly/monthly days other than today and tomorrow, daily times at least
three hours away, intervals of 12 h or more counted from logs dated now).
"""

import argparse
import datetime as dt
import os
import sys

WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def job_id(name):
    """The ID of a job name, as SPEC 2.3 normalises it."""
    out = []
    for ch in name:
        c = ch.lower() if ch.isascii() else ch
        out.append(c if (c.isascii() and (c.isalnum() or c in "-_")) else "_" * len(ch.encode()))
    s = "".join(out)
    if not s or not (s[0].isalpha() or s[0] == "_"):
        s = "_" + s
    return s


def quiet_timer(i, now):
    """A schedule or interval line that will not fire for hours."""
    kind = i % 4
    if kind == 0:
        return "interval = %dh" % (12 + i % 37)
    if kind == 1:
        # Sunday = 0, as in SPEC 3; skip today and tomorrow.
        today = (now.weekday() + 1) % 7
        days = [d for d in range(7) if d not in (today, (today + 1) % 7)]
        picked = [WEEKDAYS[days[i % len(days)]], WEEKDAYS[days[(i + 2) % len(days)]]]
        return "schedule = weekly@%s@%02d:%02d" % (",".join(sorted(set(picked))), i % 24, i % 60)
    if kind == 2:
        bad = {now.day, (now + dt.timedelta(days=1)).day}
        days = [d for d in range(1, 29) if d not in bad]
        return "schedule = monthly@%d,%d@%02d:00" % (days[i % len(days)], days[(i + 9) % len(days)], i % 24)
    hour = (now.hour + 3 + i % 18) % 24
    return "schedule = daily@%02d:%02d" % (hour, i % 60)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def log_text(jid, counter, status, when):
    stamp = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    pre = "%s job: %s: " % (stamp, jid)
    lines = [
        "=== BEGIN",
        "--- Execute  0: echo run %d of %s" % (counter, jid),
        "run %d of %s" % (counter, jid),
        "=== DONE" if status == "success" else "!!! exit status 1",
    ]
    return "".join(pre + line + "\n" for line in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--logs", type=int, default=5)
    ap.add_argument("--secret", default="s3cret")
    ap.add_argument("--bare", action="store_true", help="without the two bench jobs")
    a = ap.parse_args()

    base = os.path.abspath(a.dir)
    now = dt.datetime.now(dt.timezone.utc)
    etc = os.path.join(base, "etc/karajo")
    main_conf = (
        "[karajo]\n"
        "name = karajo bench\n"
        "listen_address = 127.0.0.1:0\n"
        "dir_base = %s\n"
        "control_socket = %s/karajod.sock\n"
        "secret = %s\n"
        "max_job_running = 2\n" % (base, base, a.secret)
    )
    if not a.bare:
        main_conf += (
            "\n"
            '[job "bench paused"]\n'
            "description = Paused: every webhook trigger answers 412.\n"
            "path = /bench/paused\n"
            "command = true\n"
            "\n"
            '[job "bench toggle"]\n'
            "description = Paused and resumed by signed API calls.\n"
            "command = true\n"
        )
        write(os.path.join(base, "var/lib/karajo/state/job", job_id("bench paused")), "paused\n", 0o600)
    write(os.path.join(etc, "karajo.conf"), main_conf, 0o600)

    per_file = 100
    log_root = os.path.join(base, "var/log/karajo/job")
    stamp = now.timestamp()
    for f0 in range(0, a.jobs, per_file):
        sections = []
        for i in range(f0, min(f0 + per_file, a.jobs)):
            name = "Bulk job %04d" % i
            jid = job_id(name)
            lines = ['[job "%s"]' % name, "description = Generated job <b>%d</b> of %d." % (i, a.jobs)]
            lines.append(quiet_timer(i, now))
            if i % 5 == 0:
                lines.append("path = /bulk/%d" % i)
            lines += ["log_retention = %d" % max(a.logs, 1), "command = echo bulk %d" % i, "command = true"]
            sections.append("\n".join(lines) + "\n")
            d = os.path.join(log_root, jid)
            os.makedirs(d, mode=0o700, exist_ok=True)
            for c in range(1, a.logs + 1):
                status = "failed" if (i + c) % 7 == 0 else "success"
                when = now - dt.timedelta(minutes=10 * (a.logs - c + 1))
                p = os.path.join(d, "%s.%d.%s" % (jid, c, status))
                write(p, log_text(jid, c, status, when), 0o600)
                # The newest log is dated now, so interval jobs are not overdue.
                t = stamp - 600 * (a.logs - c)
                os.utime(p, (t, t))
        write(os.path.join(etc, "job.d", "jobs-%02d.conf" % (f0 // per_file)), "\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
