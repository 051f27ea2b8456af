#!/usr/bin/env bash
# Every SPEC 14 figure in one command, against the real karajod (release
# build) on 127.0.0.1:
#
#   bench/run.sh            API side (bench/api.sh), then engine side
#                           (bench/engine.sh: 1 GiB output, true runs,
#                           timers with 10 and with 100 jobs; ~20 min);
#                           the table is printed and written to
#                           bench/out/summary.md
#
# The two scripts take their own knobs (durations, counts); see their
# headers. Each figure is one line of bench/out/figures.tsv:
# name, value, unit, target, PASS|MISS, baseline and detail.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
: >"$out/figures.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
command -v wrk >/dev/null && command -v hyperfine >/dev/null || {
    echo "bench/run.sh: installing wrk and hyperfine (apt)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk hyperfine >/dev/null
}
cargo build --release -q -p karajod -p karajoctl
bash bench/api.sh
bash bench/engine.sh bigout throughput
# Timer precision twice: a realistic 10 jobs on the same minute, then 100
# at once (bounded by fork/exec on 2 cores; see BENCHMARKS.md).
TIMER_JOBS=${TIMER_JOBS_FEW:-10} bash bench/engine.sh timer
TIMER_JOBS=${TIMER_JOBS_MANY:-100} bash bench/engine.sh timer
{
    echo "## Machine"
    echo
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
    echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- Kernel: $(uname -sr); $(rustc --version)"
    echo "- Run at: $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $load_before"
    echo
    echo "| figure | value | target | result | baseline / detail |"
    echo "|---|---|---|---|---|"
    while IFS=$'\t' read -r name value unit target result detail; do
        echo "| $name | $value $unit | $target | $result | $detail |"
    done <"$out/figures.tsv"
} >"$out/summary.md"
cat "$out/summary.md"
! grep -q $'\tMISS\t' "$out/figures.tsv" || { echo "bench/run.sh: some figures miss their target" >&2; exit 1; }
