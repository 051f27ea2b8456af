#!/usr/bin/env bash
# Every figure of SPEC 14 and of part two (SPEC 15, 16, 18, 23) in one
# command, against the real karajod (release build) on 127.0.0.1:
#
#   bench/run.sh            the whole set, ~40 min on 2 cores (the sum of the
#                           scripts' own estimates; QUICK=1 took 6 min)
#   QUICK=1 bench/run.sh    every knob shrunk (below): each script runs
#                           once, end to end, in ~5-8 min. A smoke run:
#                           shorter samples and smaller trees, so its
#                           figures are not comparable with a full run's
#
# In this order, each script also runnable alone (see its header):
#   bench/api.sh            HTTP side of SPEC 14 (signed requests, /environment,
#                           RSS, start-up, karajoctl list)
#   bench/engine.sh         1 GiB of output, runs of `true`; then its timer
#                           part with 10 minutely jobs and again with 100
#   bench/history.sh        the run history (SPEC 15, 23)
#   bench/seconds.sh        100 jobs due at the same second (SPEC 23):
#                           EVERY=5 idle, then EVERY=5 LOAD=1 (under wrk)
#   bench/webhook-peer.sh   signed webhooks beside adnanh/webhook (SPEC 23)
#   bench/pings.sh          pings into passive checks (SPEC 18)
#   bench/minute-jobs.sh    10,000 one-minute jobs (167 starts/s) with the
#                           API asked beside them (SPEC 23), ~4 min
#   bench/curve.sh          start-up, RSS and /environment with 10 / 100 /
#                           1,000 / 10,000 jobs (SPEC 23): bench/out/curve.{tsv,md,svg}
#   bench/many-jobs.sh      only with BASE_BIN set: 10,000 jobs, BASE_BIN
#                           beside KARAJOD_BIN in the same run
#
# Binaries: with KARAJOD_BIN set nothing is built anywhere (karajoctl,
# examples/forkexec and examples/history_bench are the ones beside it;
# KARAJOCTL_BIN, FORKEXEC_BIN and HISTORY_BENCH_BIN override them).
# Without it, run.sh builds the release karajod, karajoctl and the two
# examples once and passes KARAJOD_BIN on to every script.
#
# QUICK=1 gives each script (these values win over the environment's):
#   api.sh           DURATION=2s STARTUP_RUNS=5 LIST_RUNS=20 SETTLE=1
#   engine.sh        BIG_BYTES=268435456 RUNS=600; the timer part once, with
#                    10 jobs (TIMER_JOBS_FEW) and TIMER_MINUTES=1 (~2.5 min:
#                    it waits for a minute boundary), not with 100
#   history.sh       ROWS=100000 JOBS=100 PER_JOB=100 DURATION=2s STARTS=3
#   seconds.sh       JOBS=100 SECONDS_RUN=15 (3 bursts)
#   webhook-peer.sh  DURATION=2s;  pings.sh  DURATION=2s
#   minute-jobs.sh   JOBS=1000 MINUTES=1
#   curve.sh         JOBS_LIST="10 100 1000" ROUNDS=3 ENV_RUNS=40
#   many-jobs.sh     JOBS=1000 ROUNDS=2 (with BASE_BIN only)
#
# Output in bench/out/: one line per figure in figures.tsv (name, value,
# unit, target, PASS|MISS|INFO, detail), every script's output in
# run-STEP.log beside the raw tool outputs, and summary.md: the mode, the
# binary, the machine, each step's time and exit status, the table of
# every figure and the cost-curve table. A script that fails adds a MISS
# line run_STEP and the run goes on. Exits 1 when a figure misses.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
printf 'name\tvalue\tunit\ttarget\tresult\tdetail\n' >"$out/figures.tsv"
rm -f "$out/curve.tsv" "$out/curve.md" "$out/curve.svg"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$SECONDS
quick=${QUICK:-}
[ "$quick" = 0 ] && quick=

missing=()
for tool in wrk hyperfine webhook jq sqlite3 curl; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench/run.sh: installing ${missing[*]} (apt)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -z "${KARAJOD_BIN:-}" ]; then
    cargo build --release -q -p karajoctl
    cargo build --release -q -p karajod --bin karajod --example forkexec --example history_bench
    KARAJOD_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/karajod
    built=" (built by this run)"
else
    built=
fi
[ -x "$KARAJOD_BIN" ] || { echo "bench/run.sh: KARAJOD_BIN=$KARAJOD_BIN is not an executable" >&2; exit 1; }
export KARAJOD_BIN

# The knobs of each step; empty in a full run (the scripts' defaults).
q_api=() q_engine=() q_history=() q_seconds=() q_peer=() q_pings=() q_minute=() q_curve=() q_many=()
timer_counts=("${TIMER_JOBS_FEW:-10}" "${TIMER_JOBS_MANY:-100}")
if [ -n "$quick" ]; then
    mode="QUICK=1 (every knob shrunk: a smoke run, not comparable with a full run)"
    q_api=(DURATION=2s STARTUP_RUNS=5 LIST_RUNS=20 SETTLE=1)
    q_engine=(BIG_BYTES=268435456 RUNS=600 TIMER_MINUTES=1)
    q_history=(ROWS=100000 JOBS=100 PER_JOB=100 DURATION=2s STARTS=3)
    q_seconds=(JOBS=100 SECONDS_RUN=15)
    q_peer=(DURATION=2s)
    q_pings=(DURATION=2s)
    q_minute=(JOBS=1000 MINUTES=1)
    q_curve=(QUICK=1 JOBS_LIST="10 100 1000" ROUNDS=3 ENV_RUNS=40)
    q_many=(JOBS=1000 ROUNDS=2)
    timer_counts=("${TIMER_JOBS_FEW:-10}")
else
    mode="full"
fi

step_names=() step_cmds=() step_secs=() step_rcs=()
# step NAME COMMAND...: runs it with its output in $out/run-NAME.log (and
# on the terminal); a failure is a MISS figure, and the run goes on.
step() {
    local name=$1 t0=$SECONDS rc
    shift
    echo "== bench/run.sh: $name, $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
    set +e
    "$@" 2>&1 | tee "$out/run-$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    step_names+=("$name")
    step_cmds+=("$(printf '%q ' "$@")")
    step_secs+=($((SECONDS - t0)))
    step_rcs+=("$rc")
    if [ "$rc" != 0 ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "run_$name" "$rc" exit 0 MISS \
            "the step failed: $(tail -1 "$out/run-$name.log" | tr '\t' ' '); see bench/out/run-$name.log" >>"$out/figures.tsv"
    fi
}

step api env "${q_api[@]}" bash bench/api.sh
step engine env "${q_engine[@]}" bash bench/engine.sh bigout throughput
# Timer precision: a realistic 10 jobs on the same minute, then 100 at
# once (bounded by fork/exec on 2 cores; see BENCHMARKS.md).
for n in "${timer_counts[@]}"; do
    step "engine-timer-$n" env "${q_engine[@]}" TIMER_JOBS="$n" bash bench/engine.sh timer
done
step history env "${q_history[@]}" bash bench/history.sh
step seconds-idle env "${q_seconds[@]}" EVERY=5 LOAD=0 bash bench/seconds.sh
step seconds-load env "${q_seconds[@]}" EVERY=5 LOAD=1 bash bench/seconds.sh
step webhook-peer env "${q_peer[@]}" bash bench/webhook-peer.sh
step pings env "${q_pings[@]}" bash bench/pings.sh
step minute-jobs env "${q_minute[@]}" bash bench/minute-jobs.sh
step curve env "${q_curve[@]}" bash bench/curve.sh
if [ -n "${BASE_BIN:-}" ]; then
    step many-jobs env "${q_many[@]}" bash bench/many-jobs.sh
fi

elapsed=$((SECONDS - t_start))
rustc=$(rustc --version 2>/dev/null || echo "rustc not found")
# cell TEXT: TEXT fit for a markdown table cell.
cell() { local s=${1//|/\\|}; printf '%s' "$s"; }
{
    echo "# bench/run.sh, $started"
    echo
    echo "- Mode: $mode"
    echo "- karajod: $KARAJOD_BIN$built, modified $(date -u -r "$KARAJOD_BIN" '+%Y-%m-%d %H:%M UTC')"
    echo "- bench/ at $(git rev-parse --short HEAD 2>/dev/null || echo '?') ($(git branch --show-current 2>/dev/null || echo '?'))"
    echo "- Took $((elapsed / 60)) min $((elapsed % 60)) s; figures: $(awk -F'\t' 'NR > 1 {n[$5]++} END {printf "%d PASS, %d MISS, %d INFO", n["PASS"], n["MISS"], n["INFO"]}' "$out/figures.tsv")"
    echo
    echo "## Machine"
    echo
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
    echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- Kernel: $(uname -sr); $rustc"
    echo "- Load before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "## Steps"
    echo
    echo "| step | command | time | exit |"
    echo "|---|---|---|---|"
    for i in "${!step_names[@]}"; do
        secs=${step_secs[$i]}
        echo "| ${step_names[$i]} | \`$(cell "${step_cmds[$i]}")\` | $((secs / 60)) min $((secs % 60)) s | ${step_rcs[$i]} |"
    done
    echo
    echo "## Figures"
    echo
    echo "| figure | value | target | result | baseline / detail |"
    echo "|---|---|---|---|---|"
    while IFS=$'\t' read -r name value unit target result detail; do
        echo "| $name | $(cell "$value $unit") | $(cell "$target") | $result | $(cell "$detail") |"
    done < <(tail -n +2 "$out/figures.tsv")
    if [ -f "$out/curve.md" ]; then
        echo
        echo "## Cost curve (bench/curve.sh)"
        echo
        if [ -n "$quick" ]; then
            echo "QUICK=1: no 10,000-job row, so SPEC 23's 10,000-job figures (start-up, idle RSS,"
            echo "/environment after a change) are not in this run."
            echo
        fi
        sed 's/^### /### Table: /' "$out/curve.md"
        echo
        echo "![cost curve](curve.svg)"
    fi
} >"$out/summary.md"
cat "$out/summary.md"
! grep -q $'\tMISS\t' "$out/figures.tsv" || { echo "bench/run.sh: some figures miss their target" >&2; exit 1; }
