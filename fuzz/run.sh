#!/usr/bin/env bash
# CI entry of the fuzz targets: installs cargo-fuzz if missing, builds every
# target, runs each for FUZZ_SECONDS (default 30) seeded from the committed
# corpus, and fails on any crash, leak or timeout.
#
#   fuzz/run.sh                  # every target, 30 s each
#   FUZZ_SECONDS=300 fuzz/run.sh ini schedule
#   FUZZ_BUILD_FLAGS=--dev fuzz/run.sh   # unoptimised build: ~3 min instead
#                                        # of ~15 min on 2 cores (CI uses it)
#
# New inputs go to a scratch copy of the corpus; the committed corpus is not
# touched (refresh it by hand with `cargo fuzz run` + `cargo fuzz cmin`).
# Stable toolchains work: RUSTC_BOOTSTRAP=1 lets cargo-fuzz use its nightly
# flags. Crashing inputs are kept in fuzz/artifacts/<target>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-30}"
# Word-split on purpose: a list of cargo-fuzz build options.
read -r -a build_flags <<<"${FUZZ_BUILD_FLAGS:-}"
export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(ini config schedule request)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

echo "fuzz/run.sh: building ${targets[*]}" >&2
for t in "${targets[@]}"; do
    cargo fuzz build "${build_flags[@]}" "$t"
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/karajo-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
# The targets' config files and dir_base go here, and so away at the end.
export KARAJO_FUZZ_DIR="$scratch/tmp"
mkdir -p "$KARAJO_FUZZ_DIR"
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "corpus/$t"
    echo "fuzz/run.sh: running $t for ${seconds}s" >&2
    if ! cargo fuzz run "${build_flags[@]}" "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 2>"$scratch/$t.log"; then
        tail -n 60 "$scratch/$t.log" >&2
        echo "fuzz/run.sh: target $t FAILED; the input is in fuzz/artifacts/$t/" >&2
        failed+=("$t")
    else
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+.*DONE)' "$scratch/$t.log" >&2 || true
    fi
done
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz/run.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz/run.sh: all ${#targets[@]} targets ran ${seconds}s without a crash" >&2
