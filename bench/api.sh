#!/usr/bin/env bash
# API-side benchmarks of SPEC 14, each against the real karajod (release
# build) on 127.0.0.1 on a port the kernel picks, in generated temp trees:
#
#   1. signed-request throughput (wrk): webhook of a paused job (412 each
#      time) and signed pause/resume calls (200), against GET /karajo/health
#   2. GET /karajo/api/environment latency with 1,000 jobs x 5 logs, one
#      client and 16, plain and with Accept-Encoding: gzip, against GET
#      /karajo/health the same way
#   3. idle RSS with 1,000 jobs (after start-up, after the load) against
#      0 jobs; start-up time (exec -> first 200 from /karajo/health)
#   4. `karajoctl list` against the 1,000-job tree and the example tree
#
# Every figure prints one line and is appended to bench/out/figures.tsv:
#   name  value  unit  target  PASS|MISS  baseline/ratio and detail
# Raw tool outputs go to bench/out/ too.
#
# Knobs (environment):
#   DURATION=10s      each wrk run
#   THREADS=1 CONNS=32  wrk threads/connections of the throughput runs
#   STARTUP_RUNS=50   start-ups timed per tree
#   LIST_RUNS=200     karajoctl list runs per tree (hyperfine)
#   SETTLE=2          seconds a daemon idles before its RSS is read (the
#                     daemon gives memory back 1 s after costly reads stop)
#   JOBS=1000 LOGS=5  the size of the generated tree
#   SKIP_BUILD=1      use the release binaries in target/release as they are
#   KARAJOD_BIN=PATH  the karajod to measure (given = no build); karajoctl
#                     is KARAJOCTL_BIN, else the karajoctl beside it
# Smoke run: DURATION=2s STARTUP_RUNS=5 LIST_RUNS=20 SETTLE=1 bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-10s}
threads=${THREADS:-1}
conns=${CONNS:-32}
startup_runs=${STARTUP_RUNS:-50}
list_runs=${LIST_RUNS:-200}
settle=${SETTLE:-2}
jobs=${JOBS:-1000}
logs=${LOGS:-5}
secret=s3cret
out=bench/out
mkdir -p "$out"
figures=$out/figures.tsv
[ -f "$figures" ] || printf 'name\tvalue\tunit\ttarget\tresult\tdetail\n' >"$figures"

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

die() { echo "bench/api.sh: $*" >&2; exit 1; }
load() { uptime | sed 's/.*load average: /load /'; }

# figure NAME VALUE UNIT TARGET PASS|MISS DETAIL
figure() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$figures"
    printf '%-28s %12s %-6s target %-10s %-4s  %s\n' "$@"
}

if [ -n "${KARAJOD_BIN:-}" ]; then
    karajod=$KARAJOD_BIN
    karajoctl=${KARAJOCTL_BIN:-$(dirname "$KARAJOD_BIN")/karajoctl}
else
    if [ -z "${SKIP_BUILD:-}" ]; then
        cargo build --release -q -p karajod -p karajoctl
    fi
    karajod=$root/target/release/karajod
    karajoctl=$root/target/release/karajoctl
fi
if ! [ -x "$karajod" ] || ! [ -x "$karajoctl" ]; then
    die "no binaries $karajod and $karajoctl (set KARAJOD_BIN and KARAJOCTL_BIN, or unset SKIP_BUILD)"
fi

# start_daemon TREE: runs karajod on TREE, sets pid and url once
# /karajo/health answers 200 (deadline 30 s).
start_daemon() {
    local tree=$1
    "$karajod" --config "$tree/etc/karajo/karajo.conf" >"$tree/karajod.out" 2>"$tree/karajod.err" &
    pid=$!
    url=
    for _ in $(seq 600); do
        url=$(sed -n 's/^karajod: listening on //p' "$tree/karajod.out")
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$tree/karajod.err" >&2; die "karajod on $tree exited at start-up"; }
        sleep 0.05
    done
    [ -n "$url" ] || die "karajod on $tree printed no listening line within 30 s"
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "$url/karajo/health" 2>/dev/null && return 0
        sleep 0.05
    done
    die "$url/karajo/health did not answer 200 within 30 s"
}

stop_daemon() {
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
# "anon A KiB + file F KiB": heap and stacks vs. the mapped binary and libraries.
rss_split() { awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {printf "anon %d KiB + file %d KiB", a, f}' "/proc/$pid/status"; }
# The daemon's user+system CPU so far, in clock ticks (all threads).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

R_requests='' R_rps='' R_p50_us='' R_p99_us='' R_non2xx='' R_unexpected='' R_first_unexpected='' R_errors=''
# wrk_run NAME ARGS...: runs wrk with bench/wrk/request.lua (its WRK_*
# environment set by the caller), keeps the output as $out/wrk-NAME.txt
# and sets R_requests, R_rps, R_p50_us, R_p99_us, R_non2xx, R_unexpected,
# R_first_unexpected, R_errors from its RESULT line.
wrk_run() {
    local name=$1
    shift
    local raw=$out/wrk-$name.txt
    { echo "# $(date -u +%FT%TZ) wrk $* ($(load))"; } >"$raw"
    wrk -s bench/wrk/request.lua "$@" >>"$raw" 2>&1 || die "wrk $name failed: see $raw"
    local line
    line=$(grep '^RESULT ' "$raw") || die "wrk $name printed no RESULT line: see $raw"
    for kv in ${line#RESULT }; do
        printf -v "R_${kv%%=*}" '%s' "${kv#*=}"
    done
}

# clean: the last wrk run had no unexpected status and no socket error.
clean() { [ "$R_unexpected" = 0 ] && [ "$R_errors" = 0 ]; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
at_least() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "PASS" : "MISS") }'; }
below() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t ? "PASS" : "MISS") }'; }
sign() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$@"; }

echo "== bench/api.sh $(date -u +%FT%TZ), $(nproc) cores, $(load), wrk -t$threads -c$conns -d$duration"

big=$tmp/big
python3 bench/gen_tree.py "$big" --jobs "$jobs" --logs "$logs" --secret "$secret"
empty=$tmp/empty
python3 bench/gen_tree.py "$empty" --jobs 0 --bare --secret "$secret"

start_daemon "$big"
sleep "$settle"
rss_idle=$(rss_kib)
split_idle=$(rss_split)
echo "karajod ($jobs jobs x $logs logs) pid $pid at $url, VmRSS $rss_idle KiB"
cp "/proc/$pid/smaps_rollup" "$out/smaps-idle-$jobs.txt" 2>/dev/null || true

# --- 1. signed-request throughput -------------------------------------
unset WRK_METHOD WRK_BODY WRK_HEADERS WRK_PATH2 WRK_BODY2 WRK_HEADERS2 WRK_EXPECT
export WRK_EXPECT=200
wrk_run health-rps -t"$threads" -c"$conns" -d"$duration" "$url/karajo/health"
health_rps=$R_rps
clean || die "GET /karajo/health: $R_unexpected unexpected statuses (first $R_first_unexpected), $R_errors socket errors"
figure health_rps "$health_rps" req/s - BASE "GET /karajo/health, wrk -t$threads -c$conns -d$duration; $(load)"

# a. webhook of a paused job: 412 ERR_JOB_PAUSED every time.
hook_body='{"_karajo_epoch":1700000000,"ref":"refs/heads/main"}'
check=$(curl -sS -X POST -H "X-Karajo-Sign: $(sign "$secret" "$hook_body")" --data-binary "$hook_body" \
    -w ' %{http_code}' "$url/karajo/api/job_exec/run/bench/paused")
case $check in *ERR_JOB_PAUSED*' 412') ;; *) die "webhook of the paused job answered: $check" ;; esac
hook_sig=$(sign "$secret" "$hook_body")
export WRK_METHOD=POST WRK_BODY=$hook_body WRK_HEADERS="X-Karajo-Sign: $hook_sig" WRK_EXPECT=412
wrk_run webhook-paused -t"$threads" -c"$conns" -d"$duration" "$url/karajo/api/job_exec/run/bench/paused"
res=$(at_least "$R_rps" 50000)
if [ "$R_unexpected" != 0 ] || [ "$R_errors" != 0 ]; then
    res=MISS
fi
figure webhook_paused_rps "$R_rps" req/s ">=50000" "$res" \
    "412 ERR_JOB_PAUSED expected: $R_unexpected others (first $R_first_unexpected), $R_errors socket errors; x$(ratio "$R_rps" "$health_rps") of health; $(load)"

# b. signed pause/resume (form body signed with the global secret, SPEC 7).
pause_body="_karajo_epoch=1700000000&id=bench_toggle"
resume_body="_karajo_epoch=1700000001&id=bench_toggle"
pause_sig=$(sign "$secret" "$pause_body")
export WRK_BODY=$pause_body WRK_HEADERS="X-Karajo-Sign: $pause_sig" WRK_EXPECT=200
check=$(curl -sS -X POST -H "$WRK_HEADERS" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$pause_body" -w ' %{http_code}' "$url/karajo/api/job_exec/pause")
case $check in *'"status":"paused"'*' 200') ;; *) die "signed pause answered: $check" ;; esac
wrk_run pause-repeat -t"$threads" -c"$conns" -d"$duration" "$url/karajo/api/job_exec/pause"
res=$(at_least "$R_rps" 50000)
clean || res=MISS
figure pause_signed_rps "$R_rps" req/s ">=50000" "$res" \
    "signed pause of a paused job (200): $R_unexpected others (first $R_first_unexpected), $R_errors socket errors; x$(ratio "$R_rps" "$health_rps") of health; $(load)"

export WRK_PATH2=/karajo/api/job_exec/resume WRK_BODY2=$resume_body
resume_sig=$(sign "$secret" "$resume_body")
export WRK_HEADERS2="X-Karajo-Sign: $resume_sig"
wrk_run pause-resume -t"$threads" -c"$conns" -d"$duration" "$url/karajo/api/job_exec/pause"
res=$(at_least "$R_rps" 50000)
clean || res=MISS
figure pause_resume_signed_rps "$R_rps" req/s ">=50000" "$res" \
    "signed pause and resume in turn, each a durable state change (200): $R_unexpected others, $R_errors socket errors; x$(ratio "$R_rps" "$health_rps") of health; $(load)"
unset WRK_METHOD WRK_BODY WRK_HEADERS WRK_PATH2 WRK_BODY2 WRK_HEADERS2 WRK_EXPECT

# --- 2. GET /environment latency ----------------------------------------
env_bytes=$(curl -fsS "$url/karajo/api/environment" | wc -c)
env_jobs=$(curl -fsS "$url/karajo/api/environment" | jq '.data.jobs | length')
[ "$env_jobs" -ge "$jobs" ] || die "GET /environment lists $env_jobs jobs, expected $jobs or more"
declare -A lat
for c in 1 16; do
    t=$((c < 2 ? 1 : 2))
    for what in health environment environment_gzip; do
        headers=
        case $what in
            health) path=/karajo/health ;;
            environment) path=/karajo/api/environment ;;
            # What every browser, so the dashboard, sends.
            environment_gzip) path=/karajo/api/environment headers="Accept-Encoding: gzip, deflate, br" ;;
        esac
        cpu0=$(cpu_ticks)
        WRK_HEADERS=$headers wrk_run "$what-c$c" -t"$t" -c"$c" -d"$duration" --latency "$url$path"
        lat[$what-$c-cpu]=$(awk -v t="$(($(cpu_ticks) - cpu0))" -v hz="$(getconf CLK_TCK)" -v n="$R_requests" \
            'BEGIN { printf "%.3f", (n > 0 ? t * 1000 / hz / n : 0) }')
        if [ "$R_non2xx" != 0 ] || [ "$R_errors" != 0 ]; then die "GET $path -c$c: $R_non2xx non-2xx, $R_errors socket errors"; fi
        lat[$what-$c-p50]=$(ms "$R_p50_us")
        lat[$what-$c-p99]=$(ms "$R_p99_us")
        lat[$what-$c-rps]=$R_rps
    done
done
figure env_p50_c1 "${lat[environment-1-p50]}" ms "<2" "$(below "${lat[environment-1-p50]}" 2)" \
    "$env_jobs jobs x $logs logs, $env_bytes bytes; wrk -t1 -c1; p99 ${lat[environment-1-p99]} ms, ${lat[environment-1-rps]} req/s, daemon CPU ${lat[environment-1-cpu]} ms/req; health p50 ${lat[health-1-p50]} ms p99 ${lat[health-1-p99]} ms; $(load)"
figure env_p99_c1 "${lat[environment-1-p99]}" ms - INFO "as env_p50_c1"
figure env_gzip_p50_c1 "${lat[environment_gzip-1-p50]}" ms "<2" "$(below "${lat[environment_gzip-1-p50]}" 2)" \
    "Accept-Encoding: gzip (the dashboard); p99 ${lat[environment_gzip-1-p99]} ms, ${lat[environment_gzip-1-rps]} req/s, x$(ratio "${lat[environment_gzip-1-rps]}" "${lat[environment-1-rps]}") the req/s without gzip; daemon CPU ${lat[environment_gzip-1-cpu]} ms/req"
scales=$(awk -v a="${lat[environment-16-rps]}" -v b="${lat[environment-1-rps]}" 'BEGIN { print (a > b ? "PASS" : "MISS") }')
figure env_rps_c16 "${lat[environment-16-rps]}" req/s ">c1 rps" "$scales" \
    "wrk -t2 -c16: x$(ratio "${lat[environment-16-rps]}" "${lat[environment-1-rps]}") of -c1 (${lat[environment-1-rps]} req/s), no errors; health -c16 ${lat[health-16-rps]} req/s; $(load)"
figure env_p50_c16 "${lat[environment-16-p50]}" ms - INFO \
    "p99 ${lat[environment-16-p99]} ms, daemon CPU ${lat[environment-16-cpu]} ms/req; health -c16 p50 ${lat[health-16-p50]} ms p99 ${lat[health-16-p99]} ms"

# --- 3. memory and start-up -----------------------------------------------
sleep "$settle"
rss_after=$(rss_kib)
split_after=$(rss_split)
cp "/proc/$pid/smaps_rollup" "$out/smaps-after-$jobs.txt" 2>/dev/null || true

# --- 4. karajoctl list against this daemon --------------------------------
cmd="$karajoctl --socket $big/karajod.sock list"
$cmd >"$out/karajoctl-list-$jobs.txt" || die "$cmd failed"
hyperfine -N --warmup 10 --runs "$list_runs" --export-json "$out/karajoctl-list-$jobs.json" "$cmd" \
    >"$out/karajoctl-list-$jobs-hyperfine.txt"
list_big=$(jq '.results[0].median * 1000000 | round / 1000' "$out/karajoctl-list-$jobs.json")
stop_daemon

start_daemon "$empty"
sleep "$settle"
rss_empty=$(rss_kib)
split_empty=$(rss_split)
stop_daemon
figure rss_idle "$rss_idle" KiB "<8192" "$(below "$rss_idle" 8192)" \
    "$jobs jobs x $logs logs, VmRSS ${settle}s after start-up ($split_idle); 0 jobs: $rss_empty KiB ($split_empty); $(load)"
figure rss_after_load "$rss_after" KiB "<8192" "$(below "$rss_after" 8192)" \
    "same daemon ${settle}s after the wrk runs above, environment -c16 included ($split_after)"

python3 bench/startup.py "$karajod" "$big/etc/karajo/karajo.conf" --runs "$startup_runs" \
    --out "$out/startup-$jobs.tsv" | tee "$out/startup-$jobs.txt"
read -r -a s_big <"$out/startup-$jobs.txt"
python3 bench/startup.py "$karajod" "$empty/etc/karajo/karajo.conf" --runs "$startup_runs" \
    --out "$out/startup-0.tsv" | tee "$out/startup-0.txt"
read -r -a s_empty <"$out/startup-0.txt"
get() {
    local k=$1 kv
    shift
    for kv in "$@"; do
        if [ "${kv%%=*}" = "$k" ]; then echo "${kv#*=}"; fi
    done
}
up_big=$(get health_p50_ms "${s_big[@]}")
figure startup "$up_big" ms "<100" "$(below "$up_big" 100)" \
    "exec -> first 200 of /karajo/health, median of $startup_runs; p90 $(get health_p90_ms "${s_big[@]}") ms; listening line $(get listen_p50_ms "${s_big[@]}") ms; 0 jobs: $(get health_p50_ms "${s_empty[@]}") ms; $(load)"

figure karajoctl_list "$list_big" ms "<20" "$(below "$list_big" 20)" \
    "$jobs-job daemon, hyperfine -N median of $list_runs; $(load)"
RUNS=$list_runs KARAJOD_BIN=$karajod KARAJOCTL_BIN=$karajoctl bench/karajoctl-list.sh >"$out/karajoctl-list-example.txt"
list_ex=$(jq '.results[0].median * 1000000 | round / 1000' "$out/karajoctl-list.json")
figure karajoctl_list_example "$list_ex" ms "<20" "$(below "$list_ex" 20)" \
    "example tree testdata/, hyperfine -N median of $list_runs"
echo "== done $(date -u +%FT%TZ); figures in $figures"
