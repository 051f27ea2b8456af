#!/usr/bin/env bash
# The audit writer under a flood (BENCHMARKS.md, "Audit rows in batches"):
# GET /karajo/health, then signed webhooks of the paused job "bench paused"
# (412 each, every one audited), wrk -d5s with bench/wrk/request.lua; then
# the history database's `audit` rows against the audit log's lines.
#
# Usage: bench/audit-flood.sh KARAJOD TREE
#   TREE: made by `python3 bench/gen_tree.py TREE --jobs 1000 --logs 5
#   --secret s3cret`; its database and audit log are removed first.
# Knobs: WRKOPT (-t1 -c32). Run two builds alternately to compare them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: bench/audit-flood.sh KARAJOD TREE" >&2; exit 2; }
bin=$1 tree=$2
rm -f "$tree"/var/lib/karajo/karajo.db* "$tree/var/log/karajo/audit.log"
"$bin" --config "$tree/etc/karajo/karajo.conf" >"$tree/out" 2>"$tree/err" & pid=$!
for _ in $(seq 200); do url=$(sed -n 's/^karajod: listening on //p' "$tree/out"); [ -n "$url" ] && break; sleep 0.05; done
[ -n "$url" ] || { cat "$tree/err"; kill "$pid"; exit 1; }
until curl -fsS -o /dev/null "$url/karajo/health"; do sleep 0.05; done
body='{"_karajo_epoch":1700000000,"ref":"refs/heads/main"}'
sig=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(b"s3cret", sys.argv[1].encode(), hashlib.sha256).hexdigest())' "$body")
unset WRK_METHOD WRK_BODY WRK_HEADERS
export WRK_EXPECT=200
h=$(wrk -s bench/wrk/request.lua -t1 -c32 -d5s "$url/karajo/health" | grep ^RESULT)
export WRK_METHOD=POST WRK_BODY=$body WRK_HEADERS="X-Karajo-Sign: $sig" WRK_EXPECT=412
read -ra opt <<<"${WRKOPT:--t1 -c32}"
w=$(wrk -s bench/wrk/request.lua "${opt[@]}" -d5s "$url/karajo/api/job_exec/run/bench/paused" | grep ^RESULT)
sleep 1
rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from audit").fetchone()[0])' "$tree/var/lib/karajo/karajo.db")
lines=$(wc -l < "$tree/var/log/karajo/audit.log")
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "$(basename "$bin") health: $(echo "$h" | grep -o 'rps=[0-9.]*') hook: $(echo "$w" | grep -oE '(rps|p50_us|p99_us|unexpected)=[0-9.]*' | tr '\n' ' ') rows=$rows lines=$lines"
