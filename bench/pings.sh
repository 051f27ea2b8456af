#!/usr/bin/env bash
# Ping throughput and latency of passive checks (SPEC 18, issue 18's
# figure: 10,000 pings/s into checks with p99 < 5 ms): CHECKS checks of
# `period = 1h` in a release karajod on 127.0.0.1 (with its history
# database, as deployed), wrk sending GET /karajo/ping/KEY alternating
# between two checks for DURATION, CONNS connections on THREADS threads.
# Two runs: paced (each connection waits DELAY_MS before each request, so
# CONNS * 1000 / DELAY_MS pings/s at most: 15,000/s by default) for the
# figure, then flat out for the ceiling; first GET /karajo/health paced the
# same, as the baseline of this machine now. The paced run PASSes when it
# sustained at least 10,000 pings/s with p99 under 5 ms, every answer 200.
#
# Usage: bench/pings.sh     Knobs: CHECKS (100), DURATION (10s), THREADS (1),
#                           CONNS (30), DELAY_MS (2), MAX_CONNS (8, the flat-out run)
# KARAJOD_BIN overrides the binary (default target/release/karajod, built
# here with the release profile unless it exists; given = no build).
#
# Appended to bench/out/figures.tsv (name, value, unit, target, PASS|MISS,
# detail): pings_paced_rps (>= 10000/s) and pings_paced_p99 (< 5 ms) of
# the paced run, each PASS only when also every answer was 200 with no
# socket error and the other half of the figure holds (the figure is both
# at once); pings_flat_out_rps (INFO, the ceiling). Raw wrk outputs are
# kept as bench/out/pings-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
CHECKS=${CHECKS:-100}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNS=${CONNS:-30}
DELAY_MS=${DELAY_MS:-2}
MAX_CONNS=${MAX_CONNS:-8}
out=bench/out
mkdir -p "$out"
karajod_bin bench/pings.sh
command -v wrk >/dev/null || { echo "bench/pings.sh: wrk is missing (Debian package wrk)" >&2; exit 1; }
tree=$(mktemp -d /tmp/karajo-bench-pings.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tree"
}
trap cleanup EXIT
mkdir -p "$tree/etc/karajo"
{
    printf '[karajo]\ndir_base = %s\nlisten_address = 127.0.0.1:0\nsecret = bench\n' "$tree"
    for i in $(seq 0 $((CHECKS - 1))); do
        printf '[check "c%d"]\nkey = bench-key-%016d\nperiod = 1h\n' "$i" "$i"
    done
} >"$tree/etc/karajo/karajo.conf"
: >"$tree/out"
"$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/out" 2>"$tree/err" &
pid=$!
url=
for _ in $(seq 300); do
    url=$(sed -n 's/^karajod: listening on //p' "$tree/out")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "bench/pings.sh: karajod did not start:" >&2; cat "$tree/err" >&2; exit 1; }
curl -fsS "$url/karajo/ping/bench-key-$(printf %016d 0)" >/dev/null
key() { printf '/karajo/ping/bench-key-%016d' "$1"; }
# run NAME CONNS WRK_DELAY_MS PATH PATH2: one wrk run; prints its summary
# line and sets R_* from its RESULT line (bench/wrk/request.lua).
R_rps='' R_p50_us='' R_p99_us='' R_unexpected='' R_errors='' R_requests=''
run() {
    local raw=$out/pings-$1.txt
    WRK_EXPECT=200 WRK_PATH2=$5 WRK_DELAY_MS=$3 \
        wrk -s bench/wrk/request.lua -t"$THREADS" -c"$2" -d"$DURATION" "$url$4" >"$raw" 2>&1
    local line
    line=$(grep '^RESULT ' "$raw") || { cat "$raw" >&2; exit 1; }
    for kv in ${line#RESULT }; do
        printf -v "R_${kv%%=*}" '%s' "${kv#*=}"
    done
    python3 - "$1" "$R_rps" "$R_p50_us" "$R_p99_us" "$R_unexpected" "$R_errors" "$R_requests" <<'PY'
import sys
name = sys.argv[1]
rps, p50, p99, unexpected, errors, requests = (float(x) for x in sys.argv[2:])
ok = rps >= 10000 and p99 < 5000 and unexpected == 0 and errors == 0
verdict = {"paced": f"(target >= 10000/s with p99 < 5 ms): {'PASS' if ok else 'MISS'}",
           "health-paced": "(baseline: GET /karajo/health, paced the same)"}.get(name, "(the ceiling; no target)")
print(f"pings {name}: {rps:.0f}/s, p50 {p50 / 1000:.3f} ms, p99 {p99 / 1000:.3f} ms, "
      f"non-200 {unexpected:.0f}, errors {errors:.0f}, {requests:.0f} sent {verdict}")
PY
}
echo "== bench/pings.sh $(date -u +%FT%TZ), $(nproc) cores, $(uptime | sed 's/.*load average: /load /'), $CHECKS checks"
run health-paced "$CONNS" "$DELAY_MS" /karajo/health /karajo/health
health="GET /karajo/health paced the same: $R_rps/s, p99 $(awk -v u="$R_p99_us" 'BEGIN { printf "%.3f", u / 1000 }') ms"
run paced "$CONNS" "$DELAY_MS" "$(key 0)" "$(key 1)"
paced_rps=$R_rps
paced_p50=$(awk -v u="$R_p50_us" 'BEGIN { printf "%.3f", u / 1000 }')
paced_p99=$(awk -v u="$R_p99_us" 'BEGIN { printf "%.3f", u / 1000 }')
paced_clean="non-200 $R_unexpected, socket errors $R_errors, $R_requests sent"
result=$(awk -v r="$R_rps" -v p="$paced_p99" -v u="$R_unexpected" -v e="$R_errors" \
    'BEGIN { print (r + 0 >= 10000 && p + 0 < 5 && u + 0 == 0 && e + 0 == 0) ? "PASS" : "MISS" }')
run flat-out "$MAX_CONNS" "" "$(key 0)" "$(key 1)"
flat="$R_rps/s, p99 $(awk -v u="$R_p99_us" 'BEGIN { printf "%.3f", u / 1000 }') ms, non-200 $R_unexpected, socket errors $R_errors"
flat_rps=$R_rps
pings=$(curl -fsS "$url/karajo/api/environment" | python3 -c 'import json,sys; c=json.load(sys.stdin)["data"]["checks"]; print(c["c0"]["pings"] + c["c1"]["pings"] - 1)')
echo "pings counted by the daemon: $pings"

what="$CHECKS checks, GET /karajo/ping/KEY on 2 checks, wrk -t$THREADS -c$CONNS, each connection ${DELAY_MS} ms between requests, $DURATION"
figure pings_paced_rps "$paced_rps" pings/s ">=10000 with p99 <5 ms" "$result" \
    "$what; p50 $paced_p50 ms, p99 $paced_p99 ms; $paced_clean; $health; load $(cut -d' ' -f1-3 /proc/loadavg)"
figure pings_paced_p99 "$paced_p99" ms "<5 at >=10000/s" "$result" "as pings_paced_rps: $paced_rps pings/s"
figure pings_flat_out_rps "$flat_rps" pings/s - INFO \
    "the ceiling: wrk -t$THREADS -c$MAX_CONNS, no pause, $DURATION: $flat; the daemon counted $pings pings in all runs"
