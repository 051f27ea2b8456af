#!/usr/bin/env bash
# How long `karajod check` takes on big configurations (issue 14: loading
# was quadratic; the target is 100,000 jobs in under 2 s, release build).
#
#   bench/config.sh [N ...]     default: 10000 20000 40000 80000 100000
#
# For each N, writes a dir_base in a temp dir with N jobs in job.d/ (1,000
# per file, each with a schedule, a webhook path and two commands, so the
# duplicate-ID and duplicate-path checks see every job) and times
# `karajod check --config ...` (summary to /dev/null) with bash's `time`,
# best of RUNS (default 5). Prints one line per N: jobs, wall and CPU
# seconds, and PASS or MISS of the CPU time against 2 s for 100,000 jobs
# scaled linearly (so it also shows whether loading stays linear).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 20000 40000 80000 100000)
cargo build --release -q -p karajod
bin=$PWD/target/release/karajod
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # DIR N
    local dir=$1 n=$2
    mkdir -p "$dir/etc/karajo/job.d"
    printf '[karajo]\ndir_base = %s\nsecret = bench\n' "$dir" >"$dir/etc/karajo/karajo.conf"
    awk -v n="$n" -v dir="$dir/etc/karajo/job.d" 'BEGIN {
        for (i = 0; i < n; i++) {
            if (i % 1000 == 0) { if (f) close(f); f = sprintf("%s/jobs-%05d.conf", dir, i / 1000) }
            printf "[job \"Bench job %d\"]\ndescription = generated\nschedule = daily@%02d:%02d\npath = /bench/%d\ncommand = echo %d\ncommand = true\n\n", i, i % 24, i % 60, i, i > f
        }
    }'
}

# Prints "WALL CPU": the best of RUNS runs in seconds, wall clock and
# user+system CPU. CPU time is what to judge on a busy machine: it does
# not count the time other processes hold the cores.
best_seconds() { # CONFIG
    local best_wall= best_cpu=
    for _ in $(seq "$runs"); do
        local t
        t=$({ TIMEFORMAT='%R %U %S'; time "$bin" check --config "$1" >/dev/null 2>&1; } 2>&1)
        read -r wall user sys <<<"$t"
        local cpu
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
        if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then best_wall=$wall; fi
        if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then best_cpu=$cpu; fi
    done
    echo "$best_wall $best_cpu"
}

echo "karajod check, release build, best of $runs runs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s  %8s  %8s  %s\n' jobs wall_s cpu_s "result (cpu < 2 s x jobs/100000)"
for n in "${sizes[@]}"; do
    dir=$tmp/n$n
    gen "$dir" "$n"
    "$bin" check --config "$dir/etc/karajo/karajo.conf" >/dev/null # must be valid
    read -r wall cpu <<<"$(best_seconds "$dir/etc/karajo/karajo.conf")"
    result=$(awk -v s="$cpu" -v n="$n" 'BEGIN { print (s < 2 * n / 100000 ? "PASS" : "MISS") }')
    printf '%8d  %8s  %8s  %s\n' "$n" "$wall" "$cpu" "$result"
    rm -rf "$dir"
done
