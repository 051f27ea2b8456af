#!/usr/bin/env bash
# Runs every test of karajo: unit, integration (the real daemon on
# loopback), e-mail against a real SMTP server, doc tests, and the
# dashboard in headless Chromium. Installs the few non-Rust tools the
# tests need (aiosmtpd, openssl, chromium, the npm packages) when missing.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-test-deps.sh
cargo test --workspace --no-fail-fast
bash e2e/run.sh
