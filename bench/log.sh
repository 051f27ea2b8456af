#!/usr/bin/env bash
# GET /karajo/api/job_exec/log of one 100 MiB run log, against the real
# karajod (release build) on 127.0.0.1 in a temp dir_base: the daemon's
# peak RSS (VmHWM) and the time to first byte and to the whole answer of
# REQUESTS requests one after the other, then PARALLEL at once, and the
# latency of GET /karajo/health while those run (does a log read hold up
# the async workers?). The first answer's content is checked against the
# file (base64-decoded, SHA-256).
#
# Usage: bench/log.sh
# Knobs: LOG_BYTES (104857600), REQUESTS (5), PARALLEL (4),
#        KARAJOD_BIN (target/release/karajod; given = no build),
#        LABEL (a name for this binary in the figures, default "this")
# Each figure: one line on stdout, appended to bench/out/figures.tsv as
# name, value, unit, target, PASS|MISS, detail. Raw data in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
root=$PWD
out=$root/bench/out
mkdir -p "$out"

LOG_BYTES=${LOG_BYTES:-104857600}
REQUESTS=${REQUESTS:-5}
PARALLEL=${PARALLEL:-4}
LABEL=${LABEL:-this}
if [ -z "${KARAJOD_BIN:-}" ]; then
    cargo build --release -q -p karajod --bin karajod
    KARAJOD_BIN=$root/target/release/karajod
fi
command -v curl >/dev/null || { echo "bench/log.sh: needs curl" >&2; exit 1; }
echo "# bench/log.sh $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $LABEL=$KARAJOD_BIN load:$(cut -d' ' -f1-3 /proc/loadavg)" >&2

tree=$(mktemp -d /tmp/karajo-bench-log.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tree"
}
trap cleanup EXIT


# A finished run on disk, as the daemon rebuilds it at start: lines of the
# real prefix and 64 bytes of text, cut to exactly LOG_BYTES.
mkdir -p "$tree/etc/karajo" "$tree/var/log/karajo/job/big"
printf '[karajo]\nname = bench\nlisten_address = 127.0.0.1:0\ndir_base = %s\nsecret = s3cret\n[job "big"]\ncommand = true\n' \
    "$tree" >"$tree/etc/karajo/karajo.conf"
log=$tree/var/log/karajo/job/big/big.1.success
# yes ends on SIGPIPE once head has enough, which pipefail would count.
{ yes '2026-01-01 00:00:00 UTC job: big: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' || true; } |
    head -c "$LOG_BYTES" >"$log"
chmod 600 "$log"
want_sha=$(sha256sum "$log" | cut -d' ' -f1)

"$KARAJOD_BIN" --config "$tree/etc/karajo/karajo.conf" >"$tree/karajod.out" 2>"$tree/karajod.err" &
pid=$!
url=
for _ in $(seq 400); do
    url=$(sed -n 's|^karajod: listening on \(http://[0-9.:]*\).*|\1|p' "$tree/karajod.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.025
done
[ -n "$url" ] || { echo "bench/log.sh: karajod did not come up" >&2; cat "$tree/karajod.err" >&2; exit 1; }
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
idle_kib=$(kib VmRSS)
log_url="$url/karajo/api/job_exec/log?id=big&counter=1"

# The answer is the API's JSON with the whole file in base64 `content`.
curl -sf -o "$tree/answer.json" "$log_url"
got_sha=$(python3 -c '
import base64, hashlib, json, sys
d = json.load(open(sys.argv[1]))
assert d["code"] == 200 and d["data"]["counter"] == 1 and d["data"]["status"] == "success", d.get("message")
print(hashlib.sha256(base64.b64decode(d["data"]["content"], validate=True)).hexdigest())' "$tree/answer.json")
rm -f "$tree/answer.json"
[ "$got_sha" = "$want_sha" ] || { echo "bench/log.sh: the answer's content differs from the log" >&2; exit 1; }

# Health probes every 20 ms while "$@" runs; sets $health_p50 and
# $health_max in ms. Runs in this shell: a subshell would run the EXIT trap.
probe_during() {
    local probes=$tree/probes.txt
    : >"$probes"
    (
        trap - EXIT
        while :; do curl -s -o /dev/null -w '%{time_total}\n' "$url/karajo/health" >>"$probes"; sleep 0.02; done
    ) &
    local prober=$!
    "$@"
    kill "$prober" 2>/dev/null || true
    wait "$prober" 2>/dev/null || true
    read -r health_p50 health_max < <(sort -n "$probes" |
        awk '{a[NR]=$1} END {if (NR == 0) print "- -"; else printf "%.1f %.1f\n", a[int((NR+1)/2)]*1000, a[NR]*1000}')
}

sequential() {
    for _ in $(seq "$REQUESTS"); do
        curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$log_url"
    done >"$out/log-$LABEL-sequential.txt"
}
parallel() {
    local curls=()
    for _ in $(seq "$PARALLEL"); do
        curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$log_url" &
        curls+=($!)
    done >"$out/log-$LABEL-parallel.txt"
    wait "${curls[@]}"
}

probe_during sequential
seq_health_p50=$health_p50 seq_health_max=$health_max
seq_peak_kib=$(kib VmHWM)
probe_during parallel
par_health_p50=$health_p50 par_health_max=$health_max
par_peak_kib=$(kib VmHWM)

stats() { # file -> "ttfb_ms_median total_ms_median"
    sort -k2 -n "$1" | awk '{t[NR]=$1; s[NR]=$2} END {m=int((NR+1)/2); printf "%.0f %.0f\n", t[m]*1000, s[m]*1000}'
}
read -r seq_ttfb seq_total < <(stats "$out/log-$LABEL-sequential.txt")
read -r par_ttfb par_total < <(stats "$out/log-$LABEL-parallel.txt")
mib() { python3 -c "print(round($1/1024, 1))"; }
bytes=$(head -1 "$out/log-$LABEL-sequential.txt" | cut -d' ' -f3)

figure "log_${LABEL}_peak_rss_sequential" "$(mib "$seq_peak_kib")" MiB "-" "-" \
    "$REQUESTS x GET of a $LOG_BYTES-byte log ($bytes-byte answer); idle RSS $(mib "$idle_kib") MiB; median TTFB $seq_ttfb ms, total $seq_total ms; /karajo/health p50 $seq_health_p50 ms, max $seq_health_max ms"
figure "log_${LABEL}_peak_rss_parallel" "$(mib "$par_peak_kib")" MiB "-" "-" \
    "$PARALLEL x GET at once; median TTFB $par_ttfb ms, total $par_total ms; /karajo/health p50 $par_health_p50 ms, max $par_health_max ms"
