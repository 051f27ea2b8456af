#!/usr/bin/env bash
# Browser tests of the karajo dashboard: installs what is missing (Debian's
# chromium, the npm packages from package-lock.json), builds karajod unless
# KARAJOD_BIN names one (finding the build through `cargo metadata`, so
# CARGO_TARGET_DIR is honoured), and runs every e2e/*.test.mjs in headless
# Chromium.
# Screenshots land in target/ui-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
if [ ! -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# npm ci only when node_modules does not match the lock file.
if ! cmp -s e2e/package-lock.json e2e/node_modules/.package-lock.json.ci 2>/dev/null; then
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.package-lock.json.ci)
fi
if [ -z "${KARAJOD_BIN:-}" ]; then
  cargo build -p karajod
  # Where that build went: CARGO_TARGET_DIR or .cargo/config may move it.
  target_dir=$(cargo metadata --format-version 1 --no-deps --offline |
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')
  export KARAJOD_BIN="$target_dir/debug/karajod"
fi
if [ ! -x "$KARAJOD_BIN" ]; then
  echo "e2e/run.sh: karajod not found at $KARAJOD_BIN (set KARAJOD_BIN or build with cargo build -p karajod)" >&2
  exit 1
fi
mkdir -p target/ui-screenshots
exec node --test --test-concurrency=1 e2e/
