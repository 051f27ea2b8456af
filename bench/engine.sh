#!/usr/bin/env bash
# Engine-side benchmarks (SPEC 14) against the real karajod (release build)
# on 127.0.0.1, each in its own temp dir_base:
#
#   bigout     one job writes 1 GiB of 64-byte lines: karajod VmRSS growth
#              (sampled every 50 ms), and the log holds every line
#   throughput `true` runs back to back over the control socket with
#              max_job_running = 4, vs raw fork/exec 4 at a time
#              (karajod/examples/forkexec.rs): >= 300 runs/s and >= 80 % of
#              raw (SPEC 23); log_retention = 1 keeps up
#   timer      JOBS jobs on `schedule = minutely`, TIMER_MINUTES minutes idle
#              then TIMER_MINUTES with wrk on GET /karajo/api/environment:
#              lateness after second 0 from the job's view (date +%s.%N)
#              and the daemon's (debug line per timer run + the
#              karajo_timer_lateness_seconds histogram)
#
# Usage: bench/engine.sh [bigout] [throughput] [timer]   (default: all)
# Knobs: BIG_BYTES (1073741824), RUNS (3000), RUN_JOBS (RUNS/2: each job
#        takes one run and one queued trigger, so no trigger is refused),
#        TIMER_JOBS (100), TIMER_MINUTES (3), WRK_CONNS (16),
#        KARAJOD_BIN (the karajod to measure; given = no build, else
#        target/release/karajod is built), FORKEXEC_BIN (the raw baseline;
#        default examples/forkexec beside the karajod; when it is missing
#        with KARAJOD_BIN given, `kj.py forkexec` does the same in Python,
#        a slower baseline, and the figure says so)
# Each figure: one line on stdout, appended to bench/out/figures.tsv as
# name, value, unit, target, PASS|MISS, detail. Raw data in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
root=$PWD
out=$root/bench/out
mkdir -p "$out"
kj="python3 $root/bench/engine/kj.py"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(bigout throughput timer)

BIG_BYTES=${BIG_BYTES:-1073741824}
RUNS=${RUNS:-3000}
RUN_JOBS=${RUN_JOBS:-$((RUNS / 2))}
TIMER_JOBS=${TIMER_JOBS:-100}
TIMER_MINUTES=${TIMER_MINUTES:-3}
WRK_CONNS=${WRK_CONNS:-16}

pids=()
tmps=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for t in "${tmps[@]}"; do rm -rf "$t"; done
}
trap cleanup EXIT

if [ -n "${KARAJOD_BIN:-}" ]; then
    bin=$KARAJOD_BIN
    [ -x "$bin" ] || { echo "bench/engine.sh: KARAJOD_BIN=$bin is not an executable" >&2; exit 1; }
else
    cargo build --release -q -p karajod --bin karajod --example forkexec
    bin=$root/target/release/karajod
fi
forkexec=${FORKEXEC_BIN:-$(dirname "$bin")/examples/forkexec}
echo "# bench/engine.sh $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load:$(cut -d' ' -f1-3 /proc/loadavg)" >&2

# figure NAME VALUE UNIT TARGET PASS|MISS DETAIL

# new_tree MAIN_EXTRA: a temp dir_base with a [karajo] section; sets $tree, $sock.
new_tree() {
    tree=$(mktemp -d /tmp/karajo-bench-engine.XXXXXX)
    tmps+=("$tree")
    sock=$tree/var/run/karajo/karajod.sock
    mkdir -p "$tree/etc/karajo/job.d"
    printf '[karajo]\nname = bench\nlisten_address = 127.0.0.1:0\ndir_base = %s\nsecret = s3cret\n%s\n' \
        "$tree" "$1" >"$tree/etc/karajo/karajo.conf"
}

# start_daemon [ENV=...]: starts karajod on $tree; sets $pid and $url.
start_daemon() {
    env "$@" "$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/karajod.out" 2>"$tree/karajod.err" &
    pid=$!
    pids+=("$pid")
    url=
    for _ in $(seq 400); do
        # The file may not exist yet: the background shell opens it.
        url=$(sed -n 's|^karajod: listening on \(http://[0-9.:]*\).*|\1|p' "$tree/karajod.out" 2>/dev/null || true)
        [ -n "$url" ] && [ -S "$sock" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.025
    done
    echo "bench/engine.sh: karajod on $tree did not come up (url '$url', socket $sock)" >&2
    cat "$tree/karajod.err" >&2
    exit 1
}

stop_daemon() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

bigout() {
    new_tree "max_job_running = 1"
    local lines=$((BIG_BYTES / 64))
    # 63 x's and a newline per line: the log must hold exactly $lines of them.
    cat >"$tree/etc/karajo/job.d/big.conf" <<EOF
[job "big"]
command = yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c $BIG_BYTES
log_retention = 1
EOF
    start_daemon
    $kj bigout "$sock" "$tree/var/log/karajo/job/big" big "$pid" >"$out/engine-bigout.json"
    local log
    log=$(json "$out/engine-bigout.json" 'd["log"]')
    # The prefix `YYYY-MM-DD HH:MM:SS UTC job: big: ` is 34 bytes.
    local got
    got=$(cut -c35- "$log" | grep -c -x 'x\{63\}' || true)
    stop_daemon
    local growth_mib status
    growth_mib=$(json "$out/engine-bigout.json" 'round(d["growth_kib"]/1024, 2)')
    status=MISS
    if python3 -c "import sys; sys.exit(0 if $growth_mib < 5 else 1)" && [ "$got" -eq "$lines" ]; then status=PASS; fi
    figure engine_bigout_rss_growth "$growth_mib" MiB "<5" "$status" \
        "$(json "$out/engine-bigout.json" '"'"$BIG_BYTES"' bytes of output in %s s; RSS baseline %.1f MiB, peak %.1f MiB, after %.1f MiB; log %s bytes, %s/%s output lines intact" % (d["seconds"], d["baseline_kib"]/1024, d["peak_kib"]/1024, d["after_kib"]/1024, d["log_bytes"], '"$got"', '"$lines"')')"
    rm -f "$log"
}

throughput() {
    local baseline="raw fork/exec"
    if [ -x "$forkexec" ]; then
        "$forkexec" "$RUNS" 4 >"$out/engine-forkexec.json"
    else
        baseline="raw fork/exec in Python (no $forkexec; slower than the Rust example)"
        $kj forkexec "$RUNS" 4 >"$out/engine-forkexec.json"
    fi
    new_tree "max_job_running = 4"
    for i in $(seq 0 $((RUN_JOBS - 1))); do
        printf '[job "t%d"]\ncommand = true\nlog_retention = 1\n' "$i"
    done >"$tree/etc/karajo/job.d/true.conf"
    start_daemon
    $kj burst "$sock" "$tree/var/log/karajo/job" t "$RUN_JOBS" "$RUNS" 1 >"$out/engine-throughput.json"
    stop_daemon
    local rate raw most status
    rate=$(json "$out/engine-throughput.json" 'd["runs_per_s"]')
    raw=$(json "$out/engine-forkexec.json" 'd["runs_per_s"]')
    most=$(json "$out/engine-throughput.json" 'd["max_files_per_job"]')
    status=MISS
    # SPEC 14 asked for 300 runs/s; SPEC 23 for 80 % of raw spawns measured
    # in the same run. Both must hold (and retention must keep up).
    if python3 -c "import sys; sys.exit(0 if $rate >= 300 and $rate >= 0.8 * $raw and $most <= 1 else 1)"; then
        status=PASS
    fi
    figure engine_true_runs_per_s "$rate" runs/s ">=300 and >=80% of raw" "$status" \
        "$(json "$out/engine-throughput.json" '"%d runs over %d jobs in %s s (triggers sent in %s s, %d answered 429)" % (d["runs"], '"$RUN_JOBS"', d["seconds"], d["trigger_seconds"], d["refused_429"])'); $baseline, 4 at a time: $raw runs/s: daemon = $(python3 -c "print(round(100*$rate/$raw))")% of raw; log_retention 1: at most $most log(s) per job after the burst"
}

timer() {
    new_tree "max_job_running = $((TIMER_JOBS + 10))"
    local stamps=$tree/stamps
    for i in $(seq 0 $((TIMER_JOBS - 1))); do
        printf '[job "m%d"]\nschedule = minutely\nlog_retention = 2\n' "$i"
        # The job's shell expands these, not this one.
        # shellcheck disable=SC2016
        printf 'command = echo "$KARAJO_JOB_ID $(date +%%s.%%N)" >> %s\n' "$stamps"
    done >"$tree/etc/karajo/job.d/minutely.conf"
    start_daemon NO_COLOR=1 KARAJO_LOG=info,karajod::engine::run=debug
    : >"$tree/phases"
    # Minutes whose second 0 falls inside each phase; the first starts at the
    # next boundary (a run of the boundary the daemon came up in would be skewed).
    local now next
    now=$(date +%s)
    next=$(((now / 60 + 1) * 60))
    for m in $(seq 0 $((TIMER_MINUTES - 1))); do echo "idle $((next + m * 60))" >>"$tree/phases"; done
    local loaded=$((next + TIMER_MINUTES * 60))
    for m in $(seq 0 $((TIMER_MINUTES - 1))); do echo "load $((loaded + m * 60))" >>"$tree/phases"; done
    echo "timer: $TIMER_JOBS jobs; idle from $(date -u -d @"$next" +%T), wrk from $(date -u -d @"$loaded" +%T); done ~$(date -u -d @"$((loaded + TIMER_MINUTES * 60))" +%T)" >&2
    sleep $((loaded - 20 - $(date +%s)))
    curl -sf "$url/karajo/metrics" >"$out/engine-timer-metrics-idle.txt"
    # wrk from 20 s before the first loaded minute to 10 s after the last.
    wrk -t 2 -c "$WRK_CONNS" -d $((TIMER_MINUTES * 60 + 30))s --latency "$url/karajo/api/environment" \
        >"$out/engine-timer-wrk.txt" 2>&1 &
    local wrk_pid=$!
    pids+=("$wrk_pid")
    wait "$wrk_pid" || true
    sleep 2
    curl -sf "$url/karajo/metrics" >"$out/engine-timer-metrics-all.txt"
    stop_daemon
    cp "$stamps" "$out/engine-timer-stamps.txt"
    grep 'timer run started' "$tree/karajod.err" >"$out/engine-timer-daemon.txt" || true
    $kj timer "$stamps" "$tree/karajod.err" "$tree/phases" >"$out/engine-timer.json"
    $kj hist "$out/engine-timer-metrics-all.txt" >"$out/engine-timer-hist.json"
    local reqs
    reqs=$(awk '/Requests\/sec/ {print $2}' "$out/engine-timer-wrk.txt")
    for phase in idle load; do
        for view in daemon job; do
            local p99 status detail
            p99=$(json "$out/engine-timer.json" "(lambda x: x if x is None else round(x, 2))(d['$phase']['$view']['p99_ms'])")
            status=MISS target="<=10"
            if python3 -c "import sys; sys.exit(0 if $p99 <= 10 else 1)"; then status=PASS; fi
            # The job's own view adds its fork/exec and shell start-up: shown,
            # not judged (SPEC 14's "run starts" is the daemon's view).
            [ "$view" = job ] && status=INFO target=-
            detail=$(json "$out/engine-timer.json" "'%d runs, p50 %.2f ms, p99 %.2f ms, max %.2f ms' % (d['$phase']['$view']['n'], d['$phase']['$view']['p50_ms'], d['$phase']['$view']['p99_ms'], d['$phase']['$view']['max_ms'])")
            detail="$TIMER_JOBS minutely jobs x $TIMER_MINUTES min; $view view; $detail"
            [ "$phase" = load ] && detail="$detail; wrk -c $WRK_CONNS GET /environment at $reqs req/s"
            figure "engine_timer_lateness_p99_${TIMER_JOBS}jobs_${phase}_${view}" "$p99" ms "$target" "$status" "$detail"
        done
    done
}

for part in "${parts[@]}"; do
    case $part in
        bigout | throughput | timer) "$part" ;;
        *) echo "bench/engine.sh: unknown part '$part' (bigout, throughput, timer)" >&2; exit 2 ;;
    esac
done
