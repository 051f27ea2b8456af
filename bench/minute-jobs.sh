#!/usr/bin/env bash
# 10,000 one-minute jobs (SPEC 23): JOBS jobs on `schedule = * * * * *`
# with `jitter = 59s`, so their runs spread over each minute (10,000 jobs:
# 167 starts/s, each a run of `true` with its log and history row), while
# wrk asks the API for one job (GET /karajo/api/job_exec?id=m7) on
# CLIENTS connections. Measured over MINUTES whole minutes after a first
# minute left out (start-up, the first runs):
#   - the daemon's timer lateness of every run (its "timer run started"
#     debug line: start minus the jittered instant it was due), p50 / p99;
#   - the API's latency, p50 / p99 (wrk --latency), and its rate.
# Targets (SPEC 23): timer lateness p99 < 50 ms and API p99 < 50 ms.
#
# Usage: KARAJOD_BIN=/path/karajod bench/minute-jobs.sh
# Knobs: JOBS (10000), MINUTES (2), CLIENTS (4). KARAJOD_BIN defaults to
# target/release/karajod (built here with the release profile unless it
# exists). The daemon runs as the user running the script; as root its
# timers run at realtime priority (README, Timers and priority).
#
# Appends to bench/out/figures.tsv:
#   minute_jobs_timer_p99_<JOBS>   p99  ms  <50  PASS|MISS  detail
#   minute_jobs_api_p99_<JOBS>     p99  ms  <50  PASS|MISS  detail
# and keeps the sorted lateness of every run (us) in
# bench/out/minute-jobs-<JOBS>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-10000}
MINUTES=${MINUTES:-2}
CLIENTS=${CLIENTS:-4}
out=bench/out
mkdir -p "$out"
. bench/lib.sh
command -v wrk >/dev/null || { echo "bench/minute-jobs.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
karajod_bin bench/minute-jobs.sh
tree=$(mktemp -d /tmp/karajo-bench-minute.XXXXXX)
pid=
cleanup() {
    stop
    rm -rf "$tree"
}
trap cleanup EXIT
mkdir -p "$tree/etc/karajo/job.d"
printf '[karajo]\ndir_base = %s\nlisten_address = 127.0.0.1:0\nsecret = bench\nmax_job_running = 100\n' \
    "$tree" >"$tree/etc/karajo/karajo.conf"
for i in $(seq 0 $((JOBS - 1))); do
    printf '[job "m%d"]\nschedule = * * * * *\njitter = 59s\nlog_retention = 1\nhistory_retention = 5\ncommand = true\n' "$i"
done >"$tree/etc/karajo/job.d/minute.conf"
KARAJO_LOG=karajod=debug "$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/out" 2>"$tree/err" &
pid=$!
for _ in $(seq 300); do grep -q '^karajod: listening on ' "$tree/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^karajod: listening on //p' "$tree/out")
[ -n "$url" ] || { echo "bench/minute-jobs.sh: karajod did not start:" >&2; tail -5 "$tree/err" >&2; exit 1; }
# The first whole minute after the one the daemon started in is left out.
now=$(date +%s)
skip=$((120 - now % 60))
sleep "$skip"
start=$(wc -l <"$tree/err")
window=$((MINUTES * 60))
wrk -t1 -c"$CLIENTS" -d"${window}s" --latency "$url/karajo/api/job_exec?id=m7" >"$tree/wrk" 2>&1
tail -n +"$((start + 1))" "$tree/err" | grep -o 'lateness_us=[0-9]*' | cut -d= -f2 | sort -n >"$tree/late"
cp "$tree/late" "$out/minute-jobs-$JOBS.txt"
read -r runs p50 p99 max < <(lateness_ms "$tree/late" bench/minute-jobs.sh)
[ -n "${p99:-}" ] || exit 1
# wrk --latency prints "50%  1.23ms" ... "99%  4.56ms" (us, ms or s).
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; printf "%.2f", n }'; }
api_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tree/wrk")")
api_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tree/wrk")")
rate=$(awk '/Requests\/sec/ {print $2}' "$tree/wrk")
errors=$(grep -E 'Non-2xx|Socket errors' "$tree/wrk" | tr -s ' ' | tr '\n' ' ' || true)
expected=$((JOBS * MINUTES))
load=$(cut -d' ' -f1-3 /proc/loadavg)
detail="$JOBS jobs on * * * * * with jitter 59s (true, log_retention 1), $MINUTES min after the first whole minute: $runs timer runs of $expected due, p50 $p50 ms, max $max ms; wrk -c$CLIENTS GET /job_exec?id=m7 at $rate req/s${errors:+ ($errors)}; load $load"
figure "minute_jobs_timer_p99_$JOBS" "$p99" ms "<50" "$(below "$p99" 50)" "$detail"
figure "minute_jobs_api_p99_$JOBS" "$api_p99" ms "<50" "$(below "$api_p99" 50)" \
    "wrk -t1 -c$CLIENTS --latency GET /karajo/api/job_exec?id=m7 for $MINUTES min beside $JOBS one-minute jobs: p50 $api_p50 ms, $rate req/s${errors:+ ($errors)}"
