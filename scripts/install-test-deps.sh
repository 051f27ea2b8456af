#!/usr/bin/env bash
# Installs what karajo's tests need beyond Rust, only when it is missing:
# Python's aiosmtpd (a real SMTP server for the e-mail tests), openssl
# (self-signed certificates for it) and PostgreSQL (the history tests
# initdb a throw-away cluster from /usr/lib/postgresql/*/bin). Safe to run again; quick when done.
set -euo pipefail

need_apt=()
command -v openssl >/dev/null || need_apt+=(openssl)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if ((${#need_apt[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6' \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'aiosmtpd==1.4.6'
fi
