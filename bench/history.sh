#!/usr/bin/env bash
# The run history (SPEC 15, 23), against the real karajod (release build)
# on 127.0.0.1 in temp dir_bases, each figure beside a baseline of the same run:
#   1. the store alone (karajod/examples/history_bench.rs): database time
#      per run (begin_run + end_run) p99, and the newest-50 query p99, with
#      ROWS rows of one job;
#   2. GET …/job_exec/runs?id=big&limit=50 p99 on a daemon whose database
#      holds ROWS rows, against GET …/job_exec?id=big (no database) on the
#      same daemon;
#   3. the daemon's idle RSS with that database, and its growth after the
#      wrk runs of 2 (the database's caches filled);
#   4. start-up (exec to "listening") with JOBS jobs × PER_JOB rows, against
#      the same jobs with an empty database.
#
# Usage: bench/history.sh
# Knobs: ROWS (1000000), JOBS (1000), PER_JOB (1000), DURATION (5s), STARTS (5),
#        KARAJOD_BIN (target/release/karajod; given = no build at all: the
#        store bench is then HISTORY_BENCH_BIN, default examples/history_bench
#        beside KARAJOD_BIN)
# Each figure: one line on stdout, appended to bench/out/figures.tsv as
# name, value, unit, target, PASS|MISS, detail. Raw data in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
root=$PWD
out=$root/bench/out
mkdir -p "$out"

ROWS=${ROWS:-1000000}
JOBS=${JOBS:-1000}
PER_JOB=${PER_JOB:-1000}
DURATION=${DURATION:-5s}
STARTS=${STARTS:-5}
target_dir=${CARGO_TARGET_DIR:-$root/target}
if [ -z "${KARAJOD_BIN:-}" ]; then
    cargo build --release -q -p karajod --bin karajod --example history_bench
    KARAJOD_BIN=$target_dir/release/karajod
    history_bench=$target_dir/release/examples/history_bench
else
    history_bench=${HISTORY_BENCH_BIN:-$(dirname "$KARAJOD_BIN")/examples/history_bench}
fi
for b in "$KARAJOD_BIN" "$history_bench"; do
    [ -x "$b" ] || { echo "bench/history.sh: $b is not an executable (build it: cargo build --release -p karajod --bin karajod --example history_bench)" >&2; exit 1; }
done
for tool in wrk sqlite3 curl; do
    command -v "$tool" >/dev/null || { echo "bench/history.sh: needs $tool (apt-get install wrk sqlite3 curl)" >&2; exit 1; }
done
echo "# bench/history.sh $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load:$(cut -d' ' -f1-3 /proc/loadavg)" >&2

work=$(mktemp -d /tmp/karajo-bench-history.XXXXXX)
pid=
trap 'stop; rm -rf "$work"' EXIT


# A tree with a config; $2 is the job sections.
tree() {
    mkdir -p "$1/etc/karajo"
    printf '[karajo]\nname = bench\nlisten_address = 127.0.0.1:0\ndir_base = %s\nsecret = s3cret\n%s' \
        "$1" "$2" >"$1/etc/karajo/karajo.conf"
}

# Starts karajod on tree $1; sets pid and url; prints the ms to "listening".
start() {
    local t0 t1
    t0=$(date +%s%N)
    "$KARAJOD_BIN" --config "$1/etc/karajo/karajo.conf" >"$1/karajod.out" 2>"$1/karajod.err" &
    pid=$!
    url=
    for _ in $(seq 4000); do
        url=$(sed -n 's|^karajod: listening on \(http://[0-9.:]*\).*|\1|p' "$1/karajod.out" 2>/dev/null || true)
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.002
    done
    t1=$(date +%s%N)
    [ -n "$url" ] || { echo "bench/history.sh: karajod did not come up" >&2; cat "$1/karajod.err" >&2; exit 1; }
    echo $(((t1 - t0) / 1000000))
}

kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status"; }

# wrk's p99 latency of one URL, in ms.
p99() {
    wrk -t1 -c1 -d"$DURATION" --latency "$1" >"$out/history-wrk-$2.txt"
    awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' \
        "$out/history-wrk-$2.txt"
}

# 1. The store alone.
mkdir -p "$work/store"
store=$("$history_bench" "$work/store" "$ROWS" 5000 5000)
echo "$store" >"$out/history-store.json"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$store" "$1"; }
run_p99_ms=$(awk -v u="$(field run_us_p99)" 'BEGIN { printf "%.3f", u / 1000 }')
figure history_db_time_per_run_p99 "$run_p99_ms" ms "< 1" "$(below "$run_p99_ms" 1)" \
    "begin_run + end_run on SQLite with $ROWS rows (p50 $(field run_us_p50) us); karajod/examples/history_bench.rs"

# 2 and 3. The runs API with ROWS rows, beside a read without the database.
big=$work/big
tree "$big" $'[job "big"]\nhistory_retention = 2000000\ncommand = true\n'
mkdir -p "$big/var/lib/karajo"
"$history_bench" "$big/var/lib/karajo" "$ROWS" 1 1 >/dev/null
start "$big" >/dev/null
idle=$(kib)
curl -sf "$url/karajo/api/job_exec/runs?id=big&limit=50" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; assert len(d) == 50, len(d)'
runs_p99=$(p99 "$url/karajo/api/job_exec/runs?id=big&limit=50" runs)
job_p99=$(p99 "$url/karajo/api/job_exec?id=big" job)
after=$(kib)
stop
ratio=$(awk -v a="$runs_p99" -v b="$job_p99" 'BEGIN { printf "%.2f", a / b }')
figure history_runs_limit50_p99 "$runs_p99" ms "< 5" "$(below "$runs_p99" 5)" \
    "$ROWS rows; GET job_exec?id= (no database) p99 $job_p99 ms on the same daemon: ratio $ratio"
growth=$(awk -v a="$after" -v b="$idle" 'BEGIN { printf "%.2f", (a - b) / 1024 }')
figure history_idle_rss_growth "$growth" MiB "< 4" "$(below "$growth" 4)" \
    "idle $((idle / 1024)) MiB after start with $ROWS rows, $((after / 1024)) MiB after the wrk runs"

# 4. Start-up with JOBS × PER_JOB rows, against an empty database.
jobs=""
for i in $(seq "$JOBS"); do jobs+=$'[job "j'$i$'"]\ncommand = true\n'; done
full=$work/full
empty=$work/empty
tree "$full" "$jobs"
tree "$empty" "$jobs"
# The first start makes the database and a row per job in `jobs`.
start "$full" >/dev/null
stop
sqlite3 "$full/var/lib/karajo/karajo.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE j(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM j WHERE n < $JOBS),
               c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $PER_JOB)
INSERT INTO runs (kind, job_id, counter, status, trigger, started_at, ended_at, duration_ms, attempts, log)
SELECT 'job', 'j' || j.n, c.n, 'success', 'timer', 1767225600000 + c.n * 60000, 1767225600005 + c.n * 60000, 5, 1, 0
FROM j, c;
INSERT INTO jobs (kind, job_id, last_counter)
WITH RECURSIVE j(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM j WHERE n < $JOBS) SELECT 'job', 'j' || n, $PER_JOB FROM j WHERE true
ON CONFLICT (kind, job_id) DO UPDATE SET last_counter = excluded.last_counter;
COMMIT;
SQL
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
with_rows=$(for _ in $(seq "$STARTS"); do start "$full"; stop; done | median)
without=$(for _ in $(seq "$STARTS"); do rm -f "$empty"/var/lib/karajo/karajo.db*; start "$empty"; stop; done | median)
ratio=$(awk -v a="$with_rows" -v b="$without" 'BEGIN { printf "%.2f", a / b }')
figure "history_startup_${JOBS}x$PER_JOB" "$with_rows" ms "< 150" "$(below "$with_rows" 150)" \
    "$JOBS jobs × $PER_JOB rows, median of $STARTS; the same jobs with a new empty database: $without ms, ratio $ratio"
