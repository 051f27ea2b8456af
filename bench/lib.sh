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
