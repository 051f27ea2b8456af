#!/usr/bin/env bash
# Installs what packaging/build.sh and packaging/check.sh need, only when
# missing, so running it again is cheap:
#   cargo-deb (crates.io, pinned by --locked),
#   lintian, rpmlint, rpm (rpmbuild, rpm -qlp), curl, systemd
#   (systemd-analyze), python3 (packaging/licenses.py) via apt.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

need_cargo=()
have cargo-deb || need_cargo+=(cargo-deb)
if ((${#need_cargo[@]})); then
    echo "install-tools: cargo install ${need_cargo[*]} (a few minutes)"
    cargo install --locked "${need_cargo[@]}"
fi

need_apt=()
have lintian || need_apt+=(lintian)
have rpmlint || need_apt+=(rpmlint)
have rpmbuild || need_apt+=(rpm)
have curl || need_apt+=(curl)
have systemd-analyze || need_apt+=(systemd)
have dpkg-deb || need_apt+=(dpkg)
have python3 || need_apt+=(python3)   # packaging/licenses.py
if ((${#need_apt[@]})); then
    echo "install-tools: apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
