#!/usr/bin/env bash
# Runs every test of karajo: unit, integration (the real daemon on
# loopback), e-mail against a real SMTP server, and doc tests.
# Installs the few non-Rust tools the tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-test-deps.sh
cargo test --workspace
