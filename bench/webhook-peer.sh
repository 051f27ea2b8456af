#!/usr/bin/env bash
# Signed webhooks side by side with adnanh/webhook (Debian package
# `webhook`), both on 127.0.0.1 in the same run (SPEC 23: >= 2x its rate).
#
#   (a) verified, then refused: karajod's paused job "bench paused" (412
#       ERR_JOB_PAUSED) against a webhook hook whose HMAC-SHA256 rule
#       passes and whose next rule fails (answered 412 too);
#   (b) verified, then `true` run: a karajod job `command = true` against
#       a hook executing /bin/true. Not the same work: karajod runs one
#       run per job and queues one trigger (the rest answer 429), webhook
#       starts a process per request; both counts are printed.
#
# Same body and X-Karajo-Sign header for both; wrk -t1 -c32 -d$DURATION
# with bench/wrk/request.lua. Usage: bench/webhook-peer.sh
# Knobs: DURATION (5s), KARAJOD_BIN (target/release/karajod, built here
# unless it exists; given = no build).
#
# Appended to bench/out/figures.tsv (name, value, unit, target, PASS|MISS,
# detail): webhook_peer_refused_ratio, karajod's req/s over webhook's in
# (a), PASS at >= 2 with every answer the expected 412 on both sides; and
# webhook_peer_run_ratio, the same for (b), INFO (not the same work). The
# raw wrk outputs are kept as bench/out/webhook-peer-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
duration=${DURATION:-5s}
out=bench/out
mkdir -p "$out"
karajod_bin bench/webhook-peer.sh
command -v webhook >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq webhook; }
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
tmp=$(mktemp -d /tmp/karajo-bench-peer.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
secret=s3cret
body='{"_karajo_epoch":1700000000,"ref":"refs/heads/main"}'
sig=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$secret" "$body")

python3 bench/gen_tree.py "$tmp/tree" --jobs 0 --secret "$secret" >/dev/null
mkdir -p "$tmp/tree/etc/karajo/job.d"
printf '[job "bench run"]\npath = /bench/run\ncommand = true\nlog_retention = 1\n' >"$tmp/tree/etc/karajo/job.d/run.conf"
"$bin" --config "$tmp/tree/etc/karajo/karajo.conf" >"$tmp/k.out" 2>"$tmp/k.err" &
pids+=($!)
cat >"$tmp/hooks.json" <<JSON
[
  {"id": "refused", "execute-command": "/bin/true", "trigger-rule-mismatch-http-response-code": 412,
   "trigger-rule": {"and": [
     {"match": {"type": "payload-hmac-sha256", "secret": "$secret", "parameter": {"source": "header", "name": "X-Karajo-Sign"}}},
     {"match": {"type": "value", "value": "refs/heads/never", "parameter": {"source": "payload", "name": "ref"}}}]}},
  {"id": "run", "execute-command": "/bin/true",
   "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$secret", "parameter": {"source": "header", "name": "X-Karajo-Sign"}}}}
]
JSON
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
webhook -hooks "$tmp/hooks.json" -ip 127.0.0.1 -port "$port" >"$tmp/w.out" 2>&1 &
pids+=($!)
kurl=
for _ in $(seq 400); do
    kurl=$(sed -n 's/^karajod: listening on //p' "$tmp/k.out")
    [ -n "$kurl" ] && curl -s -o /dev/null "http://127.0.0.1:$port/hooks/run" -X POST 2>/dev/null && break
    sleep 0.05
done
[ -n "$kurl" ] || { cat "$tmp/k.err" >&2; exit 1; }
wurl=http://127.0.0.1:$port

# one NAME URL EXPECT: wrk, prints "NAME rps p50_ms p99_ms non2xx unexpected".
one() {
    local name=$1 url=$2 expect=$3
    WRK_METHOD=POST WRK_BODY=$body WRK_HEADERS="X-Karajo-Sign: $sig|Content-Type: application/json" WRK_EXPECT=$expect \
        wrk -t1 -c32 -d"$duration" -s bench/wrk/request.lua "$url" >"$out/webhook-peer-$name.txt" 2>&1
    local line
    line=$(grep '^RESULT ' "$out/webhook-peer-$name.txt")
    python3 - "$name" "$line" <<'PY'
import sys
kv = dict(x.split("=", 1) for x in sys.argv[2].split()[1:])
print(f"{sys.argv[1]:<16} {float(kv['rps']):>10.0f} req/s  p50 {int(kv['p50_us'])/1000:.3f} ms  p99 {int(kv['p99_us'])/1000:.3f} ms  "
      f"non2xx {kv['non2xx']}  unexpected {kv['unexpected']} (first {kv['first_unexpected']})  errors {kv['errors']}")
PY
}
version=$(webhook -version 2>&1 | head -1)
echo "== bench/webhook-peer.sh $(date -u +%FT%TZ), $version, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
one karajod-refused "$kurl/karajo/api/job_exec/run/bench/paused" 412
one webhook-refused "$wurl/hooks/refused" 412
one karajod-run "$kurl/karajo/api/job_exec/run/bench/run" ""
one webhook-run "$wurl/hooks/run" 200
runs=$(find "$tmp/tree/var/log/karajo/job/bench_run" -type f 2>/dev/null | wc -l)
echo "karajod-run: answers 200 (queued) or 429 (one run and one trigger already queued); runs of the job that stayed on disk (log_retention 1): $runs"

# kv NAME KEY: a value of the RESULT line of that wrk run.
kv() { grep '^RESULT ' "$out/webhook-peer-$1.txt" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# ms NAME KEY: a latency of that run in ms.
ms() { awk -v us="$(kv "$1" "$2")" 'BEGIN { printf "%.3f", us / 1000 }'; }
ratio() { awk -v a="$(kv "$1" rps)" -v b="$(kv "$2" rps)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
clean() { [ "$(kv "$1" unexpected)" = 0 ] && [ "$(kv "$1" errors)" = 0 ]; }
side() { printf '%s %.0f req/s (p50 %s ms, p99 %s ms, %s unexpected, %s errors)' "$1" "$(kv "$2" rps)" "$(ms "$2" p50_us)" "$(ms "$2" p99_us)" "$(kv "$2" unexpected)" "$(kv "$2" errors)"; }
r=$(ratio karajod-refused webhook-refused)
result=$(awk -v r="$r" 'BEGIN { print (r + 0 >= 2) ? "PASS" : "MISS" }')
clean karajod-refused && clean webhook-refused || result=MISS
figure webhook_peer_refused_ratio "$r" x ">=2" "$result" \
    "(a) HMAC verified then refused, 412 expected: $(side karajod karajod-refused) / $(side "$version" webhook-refused); wrk -t1 -c32 -d$duration; load $(cut -d' ' -f1-3 /proc/loadavg)"
figure webhook_peer_run_ratio "$(ratio karajod-run webhook-run)" x - INFO \
    "(b) HMAC verified then true: $(side karajod karajod-run), non-2xx $(kv karajod-run non2xx) (429: one run and one trigger queued; $runs logs kept) / $(side webhook webhook-run), a process each: not the same work"
