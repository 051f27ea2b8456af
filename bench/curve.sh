#!/usr/bin/env bash
# Cost curves (SPEC 23): what start-up, memory and GET /environment cost
# with 10, 100, 1,000 and 10,000 jobs, against the release karajod on
# 127.0.0.1, each count a bench/gen_tree.py tree of JOBS jobs x LOGS logs:
#
#   1. start-up (exec to the first 200 of /karajo/health, bench/startup.py)
#      and VmRSS / RssAnon 3 s after start, median of ROUNDS rounds:
#      bench/many-jobs.sh with the one binary (it generates the tree, and
#      its first start imports the logs into the new database, not measured);
#   2. on the same tree, a daemon started again: GET /karajo/api/environment
#      p50 unchanged and right after a change (a signed pause or resume),
#      plain and with Accept-Encoding: gzip (bench/env-change.py, ENV_RUNS
#      rounds each), then its VmRSS 2 s after those requests.
#
# Output: bench/out/curve.tsv (one row per job count), bench/out/curve.md
# (the table, with per-job costs: the slope from the row above) and
# bench/out/curve.svg (log-log, one line per figure), the last two made by
# bench/curve-plot.py. Figures appended to bench/out/figures.tsv (name,
# value, unit, target, PASS|MISS, detail): with 10,000 jobs SPEC 23's
# curve_startup_10000 (< 300 ms), curve_rss_idle_10000 (< 40 MiB) and
# curve_env_changed_p50_10000 (< 10 ms, plain and _gzip); with 1,000 jobs
# curve_env_changed_p50_1000 (< 2 ms, plain and _gzip).
#
# Usage: KARAJOD_BIN=/path/karajod bench/curve.sh
# Knobs: JOBS_LIST ("10 100 1000 10000"; QUICK=1: "10 100 1000"), LOGS (5),
#        ROUNDS (5; QUICK=1: 3), ENV_RUNS (200; QUICK=1: 40),
#        KARAJOD_BIN (default target/release/karajod, built here unless given)
# About 4 min in all on 2 cores, most of it the 10,000 jobs (50,000 log
# files written, imported, and a 17 MB /environment); QUICK=1 ~1 min.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
root=$PWD
out=$root/bench/out
mkdir -p "$out"
if [ -n "${QUICK:-}" ]; then
    JOBS_LIST=${JOBS_LIST:-10 100 1000}
    ROUNDS=${ROUNDS:-3}
    ENV_RUNS=${ENV_RUNS:-40}
fi
read -r -a counts <<<"${JOBS_LIST:-10 100 1000 10000}"
LOGS=${LOGS:-5}
ROUNDS=${ROUNDS:-5}
ENV_RUNS=${ENV_RUNS:-200}
if [ -z "${KARAJOD_BIN:-}" ]; then
    cargo build --release -q -p karajod --bin karajod
    KARAJOD_BIN=${CARGO_TARGET_DIR:-$root/target}/release/karajod
fi
[ -x "$KARAJOD_BIN" ] || { echo "bench/curve.sh: $KARAJOD_BIN is not an executable" >&2; exit 1; }

work=$(mktemp -d /tmp/karajo-bench-curve.XXXXXX)
pid=
trap 'stop; rm -rf "$work"' EXIT

# get KEY LINE: the value of KEY=V in a "WORD k=v k=v" line.
get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# env_figure N SUFFIX ENVCHANGE_LINE LIMIT: /environment p50 after a change.
env_figure() {
    local v
    v=$(get changed_ttfb_p50_ms "$3")
    figure "curve_env_changed_p50_$1$2" "$v" ms "<$4" "$(below "$v" "$4")" \
        "$1 jobs x $LOGS logs, $(get bytes "$3") bytes${2:+ gzip}; p99 $(get changed_ttfb_p99_ms "$3") ms; unchanged p50 $(get unchanged_ttfb_p50_ms "$3") ms; bench/env-change.py, $ENV_RUNS rounds; load $load_now"
}

# start TREE: karajod on TREE (its database imported already); sets pid, url.
start() {
    "$KARAJOD_BIN" --config "$1/etc/karajo/karajo.conf" >"$1/curve.out" 2>"$1/curve.err" &
    pid=$!
    url=
    for _ in $(seq 1200); do
        url=$(sed -n 's|^karajod: listening on \(http://[0-9.:]*\).*|\1|p' "$1/curve.out" 2>/dev/null || true)
        [ -n "$url" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench/curve.sh: karajod on $1 did not come up" >&2
    tail -5 "$1/curve.err" >&2
    exit 1
}

echo "== bench/curve.sh $(date -u +%FT%TZ), jobs ${counts[*]} x $LOGS logs, $ROUNDS rounds, $ENV_RUNS /environment rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
tsv=$out/curve.tsv
printf 'jobs\tlogs\tstartup_ms\trss_kib\tanon_kib\tenv_bytes\tenv_unchanged_p50_ms\tenv_changed_p50_ms\tenv_changed_p99_ms\tgz_bytes\tgz_unchanged_p50_ms\tgz_changed_p50_ms\tgz_changed_p99_ms\trss_after_env_kib\tload\n' >"$tsv"
for n in "${counts[@]}"; do
    echo "-- $n jobs"
    env -u BASE_BIN WORK="$work/$n" NO_FIGURES=1 JOBS="$n" LOGS="$LOGS" ROUNDS="$ROUNDS" KARAJOD_BIN="$KARAJOD_BIN" \
        bash bench/many-jobs.sh | tee "$out/curve-$n-many-jobs.txt"
    many=$(grep '^MANYJOBS ' "$out/curve-$n-many-jobs.txt")
    start "$work/$n/new"
    python3 bench/env-change.py "$url" --runs "$ENV_RUNS" | tee "$out/curve-$n-env.txt"
    python3 bench/env-change.py "$url" --runs "$ENV_RUNS" --gzip | tee "$out/curve-$n-env-gzip.txt"
    plain=$(grep '^ENVCHANGE ' "$out/curve-$n-env.txt")
    gz=$(grep '^ENVCHANGE ' "$out/curve-$n-env-gzip.txt")
    sleep 2
    after=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    stop
    rm -rf "${work:?}/$n"
    load_now=$(cut -d' ' -f1-3 /proc/loadavg)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$LOGS" \
        "$(get new_startup_ms "$many")" "$(get new_rss_kib "$many")" "$(get new_anon_kib "$many")" \
        "$(get bytes "$plain")" "$(get unchanged_ttfb_p50_ms "$plain")" \
        "$(get changed_ttfb_p50_ms "$plain")" "$(get changed_ttfb_p99_ms "$plain")" \
        "$(get bytes "$gz")" "$(get unchanged_ttfb_p50_ms "$gz")" \
        "$(get changed_ttfb_p50_ms "$gz")" "$(get changed_ttfb_p99_ms "$gz")" \
        "$after" "$load_now" >>"$tsv"

    if [ "$n" = 10000 ]; then
        v=$(get new_startup_ms "$many")
        figure curve_startup_10000 "$v" ms "<300" "$(below "$v" 300)" \
            "exec -> first 200 of /karajo/health, median of $ROUNDS (bench/startup.py via bench/many-jobs.sh); load $load_now"
        v=$(get new_rss_kib "$many")
        figure curve_rss_idle_10000 "$v" KiB "<40960" "$(below "$v" 40960)" \
            "VmRSS 3 s after start, median of $ROUNDS; RssAnon $(get new_anon_kib "$many") KiB; after the /environment rounds $after KiB"
        env_figure "$n" "" "$plain" 10
        env_figure "$n" _gzip "$gz" 10
    elif [ "$n" = 1000 ]; then
        env_figure "$n" "" "$plain" 2
        env_figure "$n" _gzip "$gz" 2
    fi
done
python3 bench/curve-plot.py "$tsv" --md "$out/curve.md" --svg "$out/curve.svg" \
    --title "karajod cost curve, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
printf '\nBinary %s (built %s), bench at %s; %s rounds of start-up and RSS, %s of /environment; load at the end %s.\n' \
    "$KARAJOD_BIN" "$(date -u -r "$KARAJOD_BIN" '+%Y-%m-%d %H:%M UTC')" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$ROUNDS" "$ENV_RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/curve.md"
cat "$out/curve.md"
echo "== done $(date -u +%FT%TZ): $tsv, $out/curve.md, $out/curve.svg"
