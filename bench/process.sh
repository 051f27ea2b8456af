#!/usr/bin/env bash
# Process control figures (issue 23), against the real karajod (release
# build), once with a cgroup per run and once with the child subreaper
# (KARAJOD_PROCESS_TRACKING):
#
#   cancel     time from cancel to run end for each escape pattern
#              (setsid, double fork, nohup &, TERM-ignoring), p50/max over
#              CANCEL_RUNS runs, with KARAJOD_KILL_GRACE=GRACE
#   throughput `true` runs back to back over the control socket
#              (max_job_running = 4, log_retention = 1), as bench/engine.sh
#
# Usage: bench/process.sh            Knobs: CANCEL_RUNS (20), GRACE (1s), RUNS (2000)
# Output: a table on stdout; raw JSON in bench/out/process-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
mkdir -p "$out"
kj="python3 $root/bench/engine/kj.py"
CANCEL_RUNS=${CANCEL_RUNS:-20}
GRACE=${GRACE:-1s}
RUNS=${RUNS:-2000}
RUN_JOBS=$((RUNS / 2))

cargo build --release -q -p karajod --bin karajod
bin=$root/target/release/karajod
pid=
tree=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    if [ -n "$tree" ]; then rm -rf "$tree"; fi
}
trap cleanup EXIT

# start MODE CONF_BODY: a fresh tree and daemon; sets $tree, $sock, $pid.
start() {
    cleanup
    tree=$(mktemp -d /tmp/karajo-bench-process.XXXXXX)
    sock=$tree/var/run/karajo/karajod.sock
    mkdir -p "$tree/etc/karajo"
    printf '[karajo]\nlisten_address = 127.0.0.1:0\ndir_base = %s\nsecret = s3cret\n%s\n' "$tree" "$2" \
        >"$tree/etc/karajo/karajo.conf"
    KARAJOD_PROCESS_TRACKING=$1 KARAJOD_KILL_GRACE=$GRACE KARAJO_LOG=warn \
        "$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/out" 2>"$tree/err" &
    pid=$!
    for _ in $(seq 400); do
        [ -S "$sock" ] && grep -q "listening on" "$tree/out" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.025
    done
    echo "bench/process.sh: karajod ($1) did not come up" >&2
    cat "$tree/err" >&2
    exit 1
}

patterns() {
    local m=$1
    printf '[job "setsid"]\ncommand = "export KT_MARK=%s-setsid; setsid sleep 300 & sleep 300"\n' "$m"
    printf '[job "double_fork"]\ncommand = "export KT_MARK=%s-double_fork; (sleep 300 &); sleep 300"\n' "$m"
    printf '[job "nohup"]\ncommand = "export KT_MARK=%s-nohup; nohup sleep 300 & sleep 300"\n' "$m"
    printf "[job \"term_ignoring\"]\ncommand = \"export KT_MARK=%s-term_ignoring; trap '' TERM; setsid sleep 300 & (sleep 300 &); sleep 300\"\n" "$m"
}

echo "# bench/process.sh $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load:$(cut -d' ' -f1-3 /proc/loadavg) grace:$GRACE"
echo
echo "| figure | cgroup | subreaper |"
echo "|---|---|---|"
declare -A cancel rate
for mode in cgroup subreaper; do
    m=bench-$mode-$$
    start "$mode" "max_job_running = 4
$(patterns "$m")"
    python3 "$root/bench/process/cancel.py" "$sock" "$tree/var/log/karajo/job" "$CANCEL_RUNS" \
        "setsid:$m-setsid:2" "double_fork:$m-double_fork:2" "nohup:$m-nohup:2" \
        "term_ignoring:$m-term_ignoring:3" >"$out/process-cancel-$mode.json"
    for job in setsid double_fork nohup term_ignoring; do
        cancel[$mode,$job]=$(python3 -c "import json; d=json.load(open('$out/process-cancel-$mode.json'))['$job']; print(f\"{d['p50_ms']} / {d['max_ms']} ms\")")
    done
    start "$mode" "max_job_running = 4
$(for i in $(seq 0 $((RUN_JOBS - 1))); do printf '[job "t%d"]\ncommand = true\nlog_retention = 1\n' "$i"; done)"
    $kj burst "$sock" "$tree/var/log/karajo/job" t "$RUN_JOBS" "$RUNS" 1 >"$out/process-throughput-$mode.json"
    rate[$mode]=$(python3 -c "import json; print(json.load(open('$out/process-throughput-$mode.json'))['runs_per_s'])")
done
for job in setsid double_fork nohup term_ignoring; do
    echo "| cancel -> end, $job (p50 / max of $CANCEL_RUNS) | ${cancel[cgroup,$job]} | ${cancel[subreaper,$job]} |"
done
echo "| \`true\` runs/s ($RUNS runs, max_job_running 4) | ${rate[cgroup]} | ${rate[subreaper]} |"
