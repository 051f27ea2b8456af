#!/usr/bin/env bash
# Timer lateness of second-level cron jobs (SPEC 16, issue 16's figure):
# JOBS jobs on `schedule = */1 * * * * *` (each runs `true` every second),
# SECONDS_RUN seconds idle against the release karajod on 127.0.0.1; the
# daemon's lateness of every timer run (its "timer run started" debug
# line: start minus the second it was due) as p50 / p99 / max.
#
# With LOAD=1, wrk (-t1 -c16, GET /karajo/api/environment) runs across the
# whole measured window, so the timers fire under API load.
#
# EVERY=5 puts the jobs on `*/5 * * * * *`: each burst of JOBS starts alone
# (with 1, a second's runs still end while the next second's start).
#
# HUNG_RECEIVER=1: every run's success goes to a webhook notification whose
# receiver accepts connections and never answers (SPEC 18: it must not
# move the lateness).
#
# RUN_AS=USER gives every job `user = USER` (root: the daemon's own
# identity): the run's shell then joins its cgroup between fork and exec,
# so std forks the daemon for each spawn instead of posix_spawn. With the
# same binary in the same run, that is the fork baseline (SPEC 23).
#
# Usage: bench/seconds.sh        Knobs: JOBS (100), SECONDS_RUN (60), LOAD (0), EVERY (1), HUNG_RECEIVER, RUN_AS
# KARAJOD_BIN overrides the binary (default target/release/karajod, built
# here with the release profile unless it exists; given = no build).
#
# The figure (SPEC 23: 100 jobs due at the same second start within 10 ms
# p99 of it) is printed and appended to bench/out/figures.tsv as
#   seconds_timer_p99_<JOBS>jobs_every<EVERY>s_<idle|load>[_hung]  p99  ms  <10  PASS|MISS  detail
# and the sorted lateness of every run (us) is kept beside it as
# bench/out/seconds-<the same suffix>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-100}
SECONDS_RUN=${SECONDS_RUN:-60}
LOAD=${LOAD:-0}
EVERY=${EVERY:-1}
out=bench/out
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. bench/lib.sh
karajod_bin bench/seconds.sh
tree=$(mktemp -d /tmp/karajo-bench-seconds.XXXXXX)
pid=
hung=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$hung" ]; then kill "$hung" 2>/dev/null || true; fi
    rm -rf "$tree"
}
trap cleanup EXIT
mkdir -p "$tree/etc/karajo/job.d"
printf '[karajo]\ndir_base = %s\nlisten_address = 127.0.0.1:0\nsecret = bench\nmax_job_running = %d\n' \
    "$tree" $((JOBS + 10)) >"$tree/etc/karajo/karajo.conf"
notif=  # lines every job gets, after its command
if [ -n "${HUNG_RECEIVER:-}" ]; then
    # Listens, accepts, reads nothing and answers nothing, until the bench ends.
    python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1024); print(s.getsockname()[1], flush=True)
held=[]
while True: held.append(s.accept())' >"$tree/hung.port" &
    hung=$!
    for _ in $(seq 50); do [ -s "$tree/hung.port" ] && break; sleep 0.1; done
    printf '[notif "hung"]\nkind = webhook\nurl = http://127.0.0.1:%s/hook\ntimeout = 30s\n' "$(cat "$tree/hung.port")" \
        >>"$tree/etc/karajo/karajo.conf"
    notif='notif_on_success = hung\n'
fi
if [ -n "${RUN_AS:-}" ]; then notif="${notif}user = $RUN_AS\n"; fi
for i in $(seq 0 $((JOBS - 1))); do
    printf "[job \"s%d\"]\nschedule = */%d * * * * *\nlog_retention = 1\ncommand = true\n$notif" "$i" "$EVERY"
done >"$tree/etc/karajo/job.d/seconds.conf"
KARAJO_LOG=karajod=debug "$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/out" 2>"$tree/err" &
pid=$!
# Skip the first seconds (start-up), then measure for SECONDS_RUN.
sleep 3
start=$(wc -l <"$tree/err")
load="idle"
if [ "$LOAD" = 1 ]; then
    url=$(sed -n 's/^karajod: listening on //p' "$tree/out")
    wrk -t1 -c16 -d"${SECONDS_RUN}s" "$url/karajo/api/environment" >"$tree/wrk" 2>&1
    load="under wrk -c16 GET /environment at $(awk '/Requests\/sec/ {print $2}' "$tree/wrk") req/s"
else
    sleep "$SECONDS_RUN"
fi
tail -n +"$((start + 1))" "$tree/err" | grep -o 'lateness_us=[0-9]*' | cut -d= -f2 | sort -n >"$tree/late"
case_name=${JOBS}jobs_every${EVERY}s_$([ "$LOAD" = 1 ] && echo load || echo idle)${HUNG_RECEIVER:+_hung}${RUN_AS:+_user}
cp "$tree/late" "$out/seconds-$case_name.txt"
# "runs p50 p99 max" in ms.
read -r runs p50 p99 max < <(lateness_ms "$tree/late" bench/seconds.sh)
[ -n "${p99:-}" ] || exit 1
result=$(awk -v v="$p99" 'BEGIN { print (v + 0 < 10) ? "PASS" : "MISS" }')
detail="$JOBS jobs on */$EVERY * * * * *${HUNG_RECEIVER:+, a hung webhook receiver on every success}${RUN_AS:+, user = $RUN_AS (fork per spawn)}, $SECONDS_RUN s $load: $runs runs, p50 $p50 ms, max $max ms; daemon's timer run started line; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seconds timer: $detail; lateness p99 $p99 ms (target p99 < 10 ms): $result"
printf '%s\t%s\t%s\t%s\t%s\t%s\n' "seconds_timer_p99_$case_name" "$p99" ms "<10" "$result" "$detail" >>"$out/figures.tsv"
