#!/usr/bin/env bash
# Many jobs (SPEC 23: 10,000): start-up and idle memory of one karajod
# binary beside another, in the same run, on the same generated tree.
#
# Each binary gets its own copy of a bench/gen_tree.py tree (JOBS jobs x
# LOGS logs) and starts once to import the logs into its new database
# (not measured: a karajo 0.9 upgrade does that once). Then ROUNDS rounds,
# alternating the binaries: start-up = exec to the first 200 of
# /karajo/health (bench/startup.py, one run), and VmRSS / RssAnon 3 s
# after a second start has said it listens.
#
# Usage: BASE_BIN=/path/old/karajod KARAJOD_BIN=/path/new/karajod bench/many-jobs.sh
# Knobs: JOBS (10000), LOGS (5), ROUNDS (3). Build a binary of another
# commit with e.g. `git worktree add /tmp/base COMMIT` and
# `CARGO_TARGET_DIR=/tmp/rel cargo build --release -p karajod` there.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-10000}
LOGS=${LOGS:-5}
ROUNDS=${ROUNDS:-3}
: "${BASE_BIN:?BASE_BIN: the karajod to compare with}"
: "${KARAJOD_BIN:?KARAJOD_BIN: the karajod to measure}"
work=$(mktemp -d /tmp/karajo-bench-many.XXXXXX)
pid=
stop() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    pid=
}
trap 'stop; rm -rf "$work"' EXIT

# start NAME: starts that binary on its tree; returns once it listens.
start() {
    "${bins[$1]}" --config "$work/$1/etc/karajo/karajo.conf" >"$work/$1.out" 2>/dev/null &
    pid=$!
    for _ in $(seq 600); do grep -q '^karajod: listening' "$work/$1.out" && return; sleep 0.05; done
    echo "bench/many-jobs.sh: $1 did not start" >&2
    exit 1
}
declare -A bins=([base]=$BASE_BIN [new]=$KARAJOD_BIN)
for b in base new; do
    # Its own tree: the config names its dir_base.
    python3 bench/gen_tree.py "$work/$b" --jobs "$JOBS" --logs "$LOGS" >/dev/null
    start "$b"
    sleep 2
    stop
done
echo "== bench/many-jobs.sh $(date -u +%FT%TZ), $JOBS jobs x $LOGS logs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A ms rss anon
for _ in $(seq "$ROUNDS"); do
    for b in base new; do
        line=$(python3 bench/startup.py "${bins[$b]}" "$work/$b/etc/karajo/karajo.conf" --runs 1 | tail -1)
        ms[$b]+="$(sed -n 's/.*health_p50_ms=\([0-9.]*\).*/\1/p' <<<"$line") "
        start "$b"
        sleep 3
        rss[$b]+="$(awk '/^VmRSS/ {print $2}' /proc/$pid/status) "
        anon[$b]+="$(awk '/^RssAnon/ {print $2}' /proc/$pid/status) "
        stop
    done
done
python3 - "${ms[base]}" "${ms[new]}" "${rss[base]}" "${rss[new]}" "${anon[base]}" "${anon[new]}" <<'PY'
import statistics, sys
med = lambda s: statistics.median(float(x) for x in s.split())
ms_b, ms_n, rss_b, rss_n, an_b, an_n = (med(a) for a in sys.argv[1:])
print(f"start-up to the first 200 of /karajo/health, median: base {ms_b:.0f} ms, new {ms_n:.0f} ms, new/base {ms_n / ms_b:.2f}")
print(f"VmRSS 3 s after start, median: base {rss_b / 1024:.1f} MiB, new {rss_n / 1024:.1f} MiB, new/base {rss_n / rss_b:.2f}")
print(f"RssAnon: base {an_b / 1024:.1f} MiB, new {an_n / 1024:.1f} MiB, new/base {an_n / an_b:.2f}")
PY
