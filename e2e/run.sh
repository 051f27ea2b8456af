#!/usr/bin/env bash
# Browser tests of the karajo dashboard: installs what is missing (Debian's
# chromium, the npm packages from package-lock.json), builds karajod unless
# KARAJOD_BIN names one, and runs every e2e/*.test.mjs in headless Chromium.
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
fi
mkdir -p target/ui-screenshots
exec node --test --test-concurrency=1 e2e/
