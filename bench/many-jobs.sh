#!/usr/bin/env bash
# Many jobs (SPEC 23: 10,000): start-up and idle memory of one karajod
# binary, or of one beside another in the same run, on the same generated
# tree.
#
# Each binary gets its own copy of a bench/gen_tree.py tree (JOBS jobs x
# LOGS logs) and starts once to import the logs into its new database
# (not measured: a karajo 0.9 upgrade does that once). Then ROUNDS rounds,
# alternating the binaries: start-up = exec to the first 200 of
# /karajo/health (bench/startup.py, one run), and VmRSS / RssAnon 3 s
# after a second start has said it listens.
#
# Usage: KARAJOD_BIN=/path/new/karajod bench/many-jobs.sh
#        BASE_BIN=/path/old/karajod KARAJOD_BIN=/path/new/karajod bench/many-jobs.sh
# Knobs: JOBS (10000), LOGS (5), ROUNDS (3), BASE_BIN (unset: KARAJOD_BIN
# alone), WORK (a directory to keep the trees in, WORK/new and WORK/base,
# with their imported databases, e.g. for bench/curve.sh; default a temp
# dir removed at the end), NO_FIGURES=1 (print only). Build a binary of
# another commit with e.g. `git worktree add /tmp/base COMMIT` and
# `CARGO_TARGET_DIR=/tmp/rel cargo build --release -p karajod` there.
#
# Prints the medians, then one machine-readable line
#   MANYJOBS jobs=N logs=M rounds=R new_startup_ms=.. new_rss_kib=.. new_anon_kib=.. [base_…=..]
# and appends to bench/out/figures.tsv (name, value, unit, target,
# PASS|MISS|INFO, detail): many_jobs_startup_N, many_jobs_rss_N (judged
# against SPEC 23's < 300 ms and < 40 MiB when JOBS >= 10000, else INFO)
# and many_jobs_anon_N (INFO).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
JOBS=${JOBS:-10000}
LOGS=${LOGS:-5}
ROUNDS=${ROUNDS:-3}
: "${KARAJOD_BIN:?KARAJOD_BIN: the karajod to measure}"
out=bench/out
mkdir -p "$out"
if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
    keep=1
else
    work=$(mktemp -d /tmp/karajo-bench-many.XXXXXX)
    keep=
fi
pid=
trap 'stop; [ -n "$keep" ] || rm -rf "$work"' EXIT

# start NAME: starts that binary on its tree; returns once it listens
# (the first start of 10,000 jobs imports 50,000 logs: up to 120 s).
start() {
    "${bins[$1]}" --config "$work/$1/etc/karajo/karajo.conf" >"$work/$1.out" 2>"$work/$1.err" &
    pid=$!
    for _ in $(seq 2400); do
        grep -q '^karajod: listening' "$work/$1.out" && return
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench/many-jobs.sh: $1 did not start" >&2
    tail -5 "$work/$1.err" >&2
    exit 1
}
declare -A bins=([new]=$KARAJOD_BIN)
names=(new)
if [ -n "${BASE_BIN:-}" ]; then
    bins[base]=$BASE_BIN
    names=(base new)
fi
for b in "${names[@]}"; do
    rm -rf "${work:?}/$b"
    # Its own tree: the config names its dir_base.
    python3 bench/gen_tree.py "$work/$b" --jobs "$JOBS" --logs "$LOGS" >/dev/null
    start "$b"
    sleep 2
    stop
done
load_now=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== bench/many-jobs.sh $(date -u +%FT%TZ), $JOBS jobs x $LOGS logs, $(nproc) cores, load $load_now"
declare -A ms rss anon
for _ in $(seq "$ROUNDS"); do
    for b in "${names[@]}"; do
        line=$(python3 bench/startup.py "${bins[$b]}" "$work/$b/etc/karajo/karajo.conf" --runs 1 | tail -1)
        ms[$b]+="$(sed -n 's/.*health_p50_ms=\([0-9.]*\).*/\1/p' <<<"$line") "
        start "$b"
        sleep 3
        rss[$b]+="$(awk '/^VmRSS/ {print $2}' /proc/$pid/status) "
        anon[$b]+="$(awk '/^RssAnon/ {print $2}' /proc/$pid/status) "
        stop
    done
done
summary=$(python3 - "$JOBS" "$LOGS" "$ROUNDS" "${ms[new]}" "${rss[new]}" "${anon[new]}" \
    "${ms[base]:-}" "${rss[base]:-}" "${anon[base]:-}" <<'PY'
import statistics, sys
jobs, logs, rounds = sys.argv[1:4]
med = lambda s: statistics.median(float(x) for x in s.split()) if s.strip() else None
ms_n, rss_n, an_n, ms_b, rss_b, an_b = (med(a) for a in sys.argv[4:10])
if ms_b is None:
    print(f"start-up to the first 200 of /karajo/health, median: {ms_n:.0f} ms")
    print(f"VmRSS 3 s after start, median: {rss_n / 1024:.1f} MiB; RssAnon {an_n / 1024:.1f} MiB")
else:
    print(f"start-up to the first 200 of /karajo/health, median: base {ms_b:.0f} ms, new {ms_n:.0f} ms, new/base {ms_n / ms_b:.2f}")
    print(f"VmRSS 3 s after start, median: base {rss_b / 1024:.1f} MiB, new {rss_n / 1024:.1f} MiB, new/base {rss_n / rss_b:.2f}")
    print(f"RssAnon: base {an_b / 1024:.1f} MiB, new {an_n / 1024:.1f} MiB, new/base {an_n / an_b:.2f}")
line = f"MANYJOBS jobs={jobs} logs={logs} rounds={rounds} new_startup_ms={ms_n:.1f} new_rss_kib={rss_n:.0f} new_anon_kib={an_n:.0f}"
if ms_b is not None:
    line += f" base_startup_ms={ms_b:.1f} base_rss_kib={rss_b:.0f} base_anon_kib={an_b:.0f}"
print(line)
PY
)
echo "$summary"
[ -z "${NO_FIGURES:-}" ] || exit 0

# get KEY: a value of the MANYJOBS line.
get() { sed -n "s/^MANYJOBS.* $1=\([0-9.]*\).*/\1/p" <<<"$summary"; }
# figure NAME VALUE UNIT TARGET LIMIT DETAIL: judged (value < LIMIT) only
# with the 10,000 jobs SPEC 23 names.
figure() {
    local res=INFO target=$4
    if [ "$JOBS" -ge 10000 ] && [ "$5" != - ]; then
        res=$(awk -v v="$2" -v t="$5" 'BEGIN { print (v + 0 < t + 0) ? "PASS" : "MISS" }')
    elif [ "$5" != - ]; then
        target="$4 at 10000 jobs"
    fi
    printf '%s: %s %s (target %s) %s — %s\n' "$1" "$2" "$3" "$target" "$res" "$6"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$target" "$res" "$6" >>"$out/figures.tsv"
}
# vs KEY UNIT: " base V UNIT, new/base R" when a base binary ran.
vs() {
    [ -n "${BASE_BIN:-}" ] || return 0
    awk -v n="$(get "new_$1")" -v b="$(get "base_$1")" -v u="$2" 'BEGIN { printf "; base %s %s, new/base %.2f", b, u, n / b }'
}
what="$JOBS jobs x $LOGS logs, median of $ROUNDS, $KARAJOD_BIN"
figure "many_jobs_startup_$JOBS" "$(get new_startup_ms)" ms "<300" 300 \
    "exec -> first 200 of /karajo/health (bench/startup.py), $what$(vs startup_ms ms); load $load_now"
figure "many_jobs_rss_$JOBS" "$(get new_rss_kib)" KiB "<40960" 40960 \
    "VmRSS 3 s after start, $what$(vs rss_kib KiB)"
figure "many_jobs_anon_$JOBS" "$(get new_anon_kib)" KiB - - "RssAnon 3 s after start, $what$(vs anon_kib KiB)"
