#!/usr/bin/env bash
# Measures `karajoctl list` end to end (process start to exit, one request
# over the control socket, table rendered) against karajod serving a copy
# of the example tree testdata/. Target (SPEC 14): under 20 ms.
#
#   bench/karajoctl-list.sh              real karajod (release build)
#   bench/karajoctl-list.sh --stand-in   a Python stand-in serving
#                                        testdata/golden/environment.json:
#                                        measures the client alone
#
# Uses hyperfine when installed (apt-get install hyperfine), else a loop
# timed with `date +%s%N`. Results go to bench/out/.
# KARAJOD_BIN / KARAJOCTL_BIN name the binaries (given = no build; the
# karajoctl defaults to the one beside KARAJOD_BIN); else both are built
# into target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${KARAJOD_BIN:-}${KARAJOCTL_BIN:-}" ]; then
    karajod=${KARAJOD_BIN:-$PWD/target/release/karajod}
    karajoctl=${KARAJOCTL_BIN:-$(dirname "$karajod")/karajoctl}
    build=
else
    karajod=$PWD/target/release/karajod
    karajoctl=$PWD/target/release/karajoctl
    build=1
fi
mode=${1:-daemon}
runs=${RUNS:-300}
out=bench/out
mkdir -p "$out"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
sock=$tmp/karajod.sock

if [ "$mode" = --stand-in ]; then
    [ -z "$build" ] || cargo build --release -q -p karajoctl
    python3 - "$sock" testdata/golden/environment.json <<'PY' &
import http.server, json, socketserver, sys
env = json.load(open(sys.argv[2]))
body = json.dumps({"code": 200, "message": "OK", "data": env}).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(sys.argv[1], H).serve_forever()
PY
    pid=$!
else
    [ -z "$build" ] || cargo build --release -q -p karajoctl -p karajod
    cp -r testdata/etc "$tmp/"
    conf=$tmp/etc/karajo/karajo.conf
    sed -i -e "s|^dir_base = .*|dir_base = $tmp|" \
        -e "s|^listen_address = .*|listen_address = 127.0.0.1:0\ncontrol_socket = $sock|" \
        -e "/^dir_public = /d" "$conf"
    "$karajod" --config "$conf" >"$tmp/karajod.out" 2>"$tmp/karajod.err" &
    pid=$!
fi

for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
if ! [ -S "$sock" ]; then
    echo "bench: the daemon did not create $sock" >&2
    cat "$tmp"/karajod.err 2>/dev/null >&2 || true
    exit 1
fi
cmd="$karajoctl --socket $sock list"
$cmd >/dev/null

if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/karajoctl-list.json" "$cmd"
else
    times=()
    for _ in $(seq "$runs"); do
        t0=$(date +%s%N); $cmd >/dev/null; t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {
        printf "karajoctl list: median %.2f ms, p95 %.2f ms, max %.2f ms over %d runs\n",
            a[int(NR/2)+1]/1000, a[int(NR*0.95)]/1000, a[NR]/1000, NR }' | tee "$out/karajoctl-list.txt"
fi
