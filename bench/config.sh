#!/usr/bin/env bash
# How long `karajod check` takes on big configurations (issue 14: loading
# was quadratic; the target is 100,000 jobs in under 2 s, release build).
#
#   bench/config.sh [N ...]     default: 10000 20000 40000 80000 100000
#
# For each N, writes a dir_base in a temp dir with N jobs in job.d/ (1,000
# per file, each with a schedule, a webhook path and two commands, so the
# duplicate-ID and duplicate-path checks see every job) and times
# `karajod check --config ...` (summary to /dev/null). Uses hyperfine
# (median of RUNS, default 5) when it is installed, else the best of RUNS
# runs timed with `date +%s%N`. Prints one line per N: jobs, seconds, PASS
# or MISS against 2 s for 100,000 jobs scaled linearly.
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

median_seconds() { # CONFIG
    if command -v hyperfine >/dev/null; then
        hyperfine -N -r "$runs" -w 1 --export-json "$tmp/h.json" "$bin check --config $1" >/dev/null 2>&1
        python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$tmp/h.json"
    else
        local best=
        for _ in $(seq "$runs"); do
            local t0 t1
            t0=$(date +%s%N)
            "$bin" check --config "$1" >/dev/null
            t1=$(date +%s%N)
            local d=$(((t1 - t0) / 1000000))
            if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d; fi
        done
        awk -v ms="$best" 'BEGIN { printf "%.3f\n", ms / 1000 }'
    fi
}

tool=$(command -v hyperfine >/dev/null && echo "hyperfine median of $runs" || echo "best of $runs, date +%s%N")
echo "karajod check, release build, $tool"
printf '%8s  %8s  %s\n' jobs seconds result
for n in "${sizes[@]}"; do
    dir=$tmp/n$n
    gen "$dir" "$n"
    "$bin" check --config "$dir/etc/karajo/karajo.conf" >/dev/null # must be valid
    s=$(median_seconds "$dir/etc/karajo/karajo.conf")
    result=$(awk -v s="$s" -v n="$n" 'BEGIN { print (s < 2 * n / 100000 ? "PASS" : "MISS") }')
    printf '%8d  %8s  %s\n' "$n" "$s" "$result"
    rm -rf "$dir"
done
