# shellcheck shell=bash disable=SC2154
# Shared by the bench scripts; each sources it after its `cd` to the
# repository root (`. bench/lib.sh`) and sets `out` (bench/out) and, for
# `stop`, `pid` (the daemon it started, empty when none).

# figure NAME VALUE UNIT TARGET RESULT DETAIL: prints the figure and
# appends it to $out/figures.tsv (bench/run.sh's table).
figure() {
    printf '%s: %s %s (target %s) %s — %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out/figures.tsv"
}

# below VALUE LIMIT: PASS when VALUE < LIMIT (as numbers), else MISS.
below() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t + 0) ? "PASS" : "MISS" }'; }

# stop: ends the daemon in $pid, if any, and waits for it.
stop() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    pid=
}

# karajod_bin SCRIPT: sets `bin` to $KARAJOD_BIN (which must be an
# executable), else to target/release/karajod, built with the release
# profile unless it exists. SCRIPT names the caller in the error.
karajod_bin() {
    if [ -n "${KARAJOD_BIN:-}" ]; then
        bin=$KARAJOD_BIN
        [ -x "$bin" ] || { echo "$1: KARAJOD_BIN=$bin is not an executable" >&2; exit 1; }
    else
        bin=$PWD/target/release/karajod
        [ -x "$bin" ] || cargo build --release -q -p karajod --bin karajod
    fi
}

# lateness_ms FILE SCRIPT: "runs p50 p99 max" in ms of the sorted
# microseconds in FILE (one per line); SCRIPT fails when it has none.
lateness_ms() {
    python3 - "$1" "$2" <<'PY'
import sys
v = [int(x) for x in open(sys.argv[1]) if x.strip()]
if not v:
    sys.exit(f"{sys.argv[2]}: no timer runs measured")
q = lambda p: v[min(len(v) - 1, int(p * len(v)))] / 1000
print(f"{len(v)} {q(0.5):.2f} {q(0.99):.2f} {v[-1] / 1000:.2f}")
PY
}
