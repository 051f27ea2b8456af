#!/usr/bin/env bash
# /environment with 1,000 jobs x 5 logs as the dashboard asks for it
# (Accept-Encoding: gzip) and without, for two karajod binaries side by
# side in one run: e.g. the build before the gzip form was kept and after.
#
#   BEFORE=/path/karajod AFTER=/path/karajod bench/env-gzip.sh
#
# One wrk client (-t1 -c1) for DURATION (default 10s) per case; prints
# p50, p99 and req/s per binary and encoding, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
: "${BEFORE:?BEFORE=path of the baseline karajod}" "${AFTER:?AFTER=path of the karajod to compare}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
python3 bench/gen_tree.py "$tmp/tree" --jobs 1000 --logs 5 --secret s3cret >/dev/null

# wrk's p50, p99 (ms) and req/s of one case.
measure() {
    local url=$1 header=$2
    wrk -t1 -c1 -d"$duration" --latency -H "$header" "$url/karajo/api/environment" | awk '
        / 50%/ {p50=$2} / 99%/ {p99=$2} /Requests\/sec/ {rps=$2}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END { printf "%.3f %.3f %.0f\n", ms(p50), ms(p99), rps }'
}

declare -A r
for which in BEFORE AFTER; do
    bin=${!which}
    "$bin" --config "$tmp/tree/etc/karajo/karajo.conf" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    url=
    for _ in $(seq 600); do
        url=$(sed -n 's/^karajod: listening on //p' "$tmp/out"); [ -n "$url" ] && break; sleep 0.05
    done
    [ -n "$url" ] || { cat "$tmp/err" >&2; exit 1; }
    curl -fsS -o /dev/null "$url/karajo/api/environment"
    r[$which-plain]=$(measure "$url" "Accept-Encoding: identity")
    r[$which-gzip]=$(measure "$url" "Accept-Encoding: gzip, deflate, br")
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
echo "== /environment, 1,000 jobs x 5 logs, wrk -t1 -c1 -d$duration, $(nproc) cores, $(uptime | sed 's/.*load average: /load /')"
printf '%-7s %-6s %9s %9s %9s\n' binary enc p50_ms p99_ms req/s
for k in BEFORE-plain BEFORE-gzip AFTER-plain AFTER-gzip; do
    read -r p50 p99 rps <<<"${r[$k]}"
    printf '%-7s %-6s %9s %9s %9s\n' "${k%-*}" "${k#*-}" "$p50" "$p99" "$rps"
done
read -r _ _ before_gz <<<"${r[BEFORE-gzip]}"; read -r _ _ after_gz <<<"${r[AFTER-gzip]}"; read -r _ _ after_plain <<<"${r[AFTER-plain]}"
awk -v a="$after_gz" -v b="$before_gz" -v p="$after_plain" 'BEGIN {
    printf "gzip req/s after/before: x%.1f; after, gzip/plain: x%.2f\n", a / b, a / p }'
