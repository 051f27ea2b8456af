#!/usr/bin/env bash
# CI check of the packages that packaging/build.sh made in target/packages/:
#   1. lintian (no errors) on the .deb, rpmlint (no errors) on the .rpm;
#   2. the file lists, conffiles and scripts are what SPEC 12 asks; both
#      ship karajo.conf(5) and the licence notices of the bundled crates
#      (every crate named in them); the RPM owns its directories;
#   3. the .deb installs with dpkg -i; the user, directories and modes are
#      right; systemd-analyze verify accepts the unit;
#   4. karajod runs as "karajo" on the packaged config (by hand: systemd is
#      not PID 1 here) and answers /karajo/health over TCP and over the
#      control socket, which members of the group "karajo" can use;
#   5. a broken config stops karajod with exit 78, which the unit's
#      RestartPreventExitStatus names (no restart loop);
#   6. dpkg --purge leaves nothing behind.
# Changes the machine (installs, then purges the package "karajo"): run it
# as root on a CI or throw-away machine. Idempotent: a previous run's
# leftovers are cleaned first. The daemon runs in its own network namespace
# when possible, so port 31937 cannot clash with another karajod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

target=${CARGO_TARGET_DIR:-$root/target}
out=$target/packages
work=$target/package-check
socket=/run/karajo/karajod.sock
port=31937
deadline_s=15

failures=()
step() { echo; echo "=== check.sh: $*"; }
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failures+=("$*"); }
die() { echo "FATAL: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (dpkg -i, runuser)"
for tool in lintian rpmlint rpm dpkg-deb curl systemd-analyze; do
    command -v "$tool" >/dev/null || die "$tool is missing: run packaging/install-tools.sh"
done
shopt -s nullglob
debs=("$out"/karajo_*.deb)
rpms=("$out"/karajo-*.rpm)
shopt -u nullglob
((${#debs[@]} == 1)) || die "expected one karajo_*.deb in $out (run packaging/build.sh), found ${#debs[@]}"
((${#rpms[@]} == 1)) || die "expected one karajo-*.rpm in $out (run packaging/build.sh), found ${#rpms[@]}"
deb=${debs[0]}
rpm=${rpms[0]}
mkdir -p "$work"

daemon_pid=
stop_daemon() {
    [[ -n $daemon_pid ]] || return 0
    kill -TERM "$daemon_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < deadline_s * 10; i++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
}
purge() { dpkg --purge karajo >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; return 1; }; }
cleanup() {
    stop_daemon
    if dpkg-query -W karajo >/dev/null 2>&1; then purge || true; fi
}
trap cleanup EXIT

# A leftover of an interrupted run: our own package only.
if dpkg-query -W karajo >/dev/null 2>&1; then
    echo "check.sh: purging a karajo package left by an earlier run"
    purge
fi

step "lintian $(basename "$deb")"
# Errors fail; warnings and infos are shown for the record. Overrides, each
# with its justification, are in packaging/debian/lintian-overrides.
if lintian --fail-on error --info "$deb"; then ok "lintian: no errors"; else fail "lintian reports errors"; fi

step "rpmlint $(basename "$rpm")"
if rpmlint -c packaging/rpm/rpmlint.toml "$rpm"; then ok "rpmlint: no errors"; else fail "rpmlint reports errors"; fi

step "file lists"
# $1 what, $2 expected file, $3 actual file
same_list() {
    if diff -u "$2" "$3"; then ok "$1"; else fail "$1 differs from the expected list (diff above: - expected, + actual)"; fi
}
cat >"$work/deb.expected" <<'LIST'
./etc/karajo/job.d/README
./etc/karajo/job_http.d/README
./etc/karajo/karajo.conf
./lib/systemd/system/karajod.service
./usr/bin/karajoctl
./usr/bin/karajod
./usr/lib/sysusers.d/karajo.conf
./usr/lib/tmpfiles.d/karajo.conf
./usr/share/bash-completion/completions/karajoctl
./usr/share/bash-completion/completions/karajod
./usr/share/doc/karajo/README.Debian
./usr/share/doc/karajo/THIRD-PARTY-LICENSES.gz
./usr/share/doc/karajo/changelog.Debian.gz
./usr/share/doc/karajo/copyright
./usr/share/fish/vendor_completions.d/karajoctl.fish
./usr/share/fish/vendor_completions.d/karajod.fish
./usr/share/man/man1/karajoctl.1.gz
./usr/share/man/man5/karajo.conf.5.gz
./usr/share/man/man8/karajod.8.gz
./usr/share/zsh/vendor-completions/_karajoctl
./usr/share/zsh/vendor-completions/_karajod
LIST
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort >"$work/deb.actual"
same_list "deb files" "$work/deb.expected" "$work/deb.actual"
# Listings go to files before grep -q reads them: with pipefail, a grep
# that stops at its first match makes the writer's SIGPIPE fail the test.
dpkg-deb -c "$deb" | awk '$1 ~ /^d/ {print $6}' >"$work/deb.dirs"
grep -qx './etc/karajo/job_http.d/' "$work/deb.dirs" || fail "deb: no /etc/karajo/job_http.d/"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/deb.conffiles"
if [[ $(cat "$work/deb.conffiles") == /etc/karajo/karajo.conf* ]]; then
    ok "deb conffiles: $(tr '\n' ' ' <"$work/deb.conffiles")"
else
    fail "deb conffiles: expected /etc/karajo/karajo.conf first, got: $(cat "$work/deb.conffiles")"
fi

dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$work/deb.control"
if grep -qx './md5sums' "$work/deb.control"; then
    ok "deb has md5sums"
else
    fail "deb has no md5sums"
fi

cat >"$work/rpm.expected" <<'LIST'
/etc/karajo/job.d/README
/etc/karajo/job_http.d/README
/etc/karajo/karajo.conf
/usr/bin/karajoctl
/usr/bin/karajod
/usr/lib/systemd/system/karajod.service
/usr/lib/sysusers.d/karajo.conf
/usr/lib/tmpfiles.d/karajo.conf
/usr/share/bash-completion/completions/karajoctl
/usr/share/bash-completion/completions/karajod
/usr/share/doc/karajo/README-install.md
/usr/share/doc/karajo/changelog
/usr/share/fish/vendor_completions.d/karajoctl.fish
/usr/share/fish/vendor_completions.d/karajod.fish
/usr/share/licenses/karajo/LICENSE
/usr/share/licenses/karajo/THIRD-PARTY-LICENSES.gz
/usr/share/man/man1/karajoctl.1.gz
/usr/share/man/man5/karajo.conf.5.gz
/usr/share/man/man8/karajod.8.gz
/usr/share/zsh/site-functions/_karajoctl
/usr/share/zsh/site-functions/_karajod
LIST
# Files only (directories are checked below).
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | awk '$1 !~ /^d/ {print $2}' | sort >"$work/rpm.actual"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | awk '$1 ~ /^d/ {print $2}' | sort >"$work/rpm.dirs"
same_list "rpm files" "$work/rpm.expected" "$work/rpm.actual"
# The config is %config(noreplace) (flags "cn"), group karajo, 0640.
conf=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEGROUPNAME}\n]' "$rpm" 2>/dev/null |
    grep '^/etc/karajo/karajo.conf ')
if [[ $conf == "/etc/karajo/karajo.conf cn -rw-r----- karajo" ]]; then ok "rpm config: $conf"; else fail "rpm config: $conf"; fi
rpm -qp --scripts "$rpm" >"$work/rpm.scripts" 2>/dev/null
for want in "preinstall scriptlet" "postinstall scriptlet" "preuninstall scriptlet" "postuninstall scriptlet" \
    "systemd-sysusers --replace" "systemd-tmpfiles --create" "systemctl --no-reload preset"; do
    grep -qF "$want" "$work/rpm.scripts" || fail "rpm scripts: no '$want'"
done
ok "rpm scripts present"

step "licence notices and karajo.conf(5)"
# Every crate of the release build's resolution is named in the notices.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/karajo/THIRD-PARTY-LICENSES.gz | gzip -dc >"$work/notices"
python3 packaging/licenses.py "$work/notices.fresh" >/dev/null
if cmp -s "$work/notices" "$work/notices.fresh"; then
    ok "deb notices: $(sed -n 3p "$work/notices")"
else
    fail "the deb's THIRD-PARTY-LICENSES differ from packaging/licenses.py's output for this tree"
fi
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man5/karajo.conf.5.gz | gzip -dc >"$work/karajo.conf.5"
for key in listen_address max_job_running command http_url smtp_server password; do
    grep -qx ".B $key" "$work/karajo.conf.5" || fail "karajo.conf(5) lacks $key"
done
ok "karajo.conf(5) lists the keys"

step "rpm owns its directories"
for dir in /etc/karajo /etc/karajo/job.d /etc/karajo/job_http.d /var/lib/karajo /var/log/karajo /srv/karajo \
    /run/karajo /usr/share/doc/karajo /usr/share/licenses/karajo; do
    if grep -qx "$dir" "$work/rpm.dirs"; then ok "rpm owns $dir"; else fail "rpm does not own $dir"; fi
done
dirs=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm" 2>/dev/null |
    grep -E ' (/etc/karajo|/var/lib/karajo|/srv/karajo)$' | tr '\n' ';')
if [[ $dirs == "drwxr-x--- root:karajo /etc/karajo;drwxr-xr-x karajo:karajo /srv/karajo;drwxr-x--- karajo:karajo /var/lib/karajo;" ]]; then
    ok "rpm directory modes: $dirs"
else
    fail "rpm directory modes: $dirs"
fi
# The RPM installs too: into a scratch root (no scripts, no dependencies:
# this is Debian), where its files and directories land as listed.
rm -rf "$work/rpmroot"
if rpm --root "$work/rpmroot" --nodeps --noscripts -i "$rpm" >"$work/rpm-install.log" 2>&1 &&
    [[ -x $work/rpmroot/usr/bin/karajod && -d $work/rpmroot/etc/karajo/job.d && -d $work/rpmroot/var/lib/karajo ]]; then
    ok "rpm -i --root: $(rpm --root "$work/rpmroot" -q karajo)"
else
    cat "$work/rpm-install.log" >&2
    fail "rpm -i into a scratch root failed"
fi
rm -rf "$work/rpmroot"

step "dpkg -i $(basename "$deb")"
if ! dpkg -i "$deb" >"$work/install.log" 2>&1; then
    cat "$work/install.log" >&2
    die "dpkg -i failed"
fi
ok "installed"
# $1 path, $2 expected "mode user group"
has_mode() {
    local got
    got=$(stat -c '%a %U %G' "$1" 2>/dev/null || echo missing)
    if [[ $got == "$2" ]]; then ok "$1: $got"; else fail "$1: expected $2, got $got"; fi
}
getent passwd karajo | grep -q ':/var/lib/karajo:' || fail "user karajo missing or wrong home: $(getent passwd karajo || true)"
getent group karajo >/dev/null || fail "group karajo missing"
has_mode /var/lib/karajo "750 karajo karajo"
has_mode /var/log/karajo "750 karajo karajo"
has_mode /run/karajo "750 karajo karajo"
has_mode /srv/karajo "755 karajo karajo"
has_mode /etc/karajo "750 root karajo"
has_mode /etc/karajo/karajo.conf "640 root karajo"
has_mode /etc/karajo/job.d "750 root karajo"
has_mode /etc/karajo/job_http.d "750 root karajo"

# An admin's own modes survive tmpfiles (run at every boot).
chmod 0755 /etc/karajo
systemd-tmpfiles --create /usr/lib/tmpfiles.d/karajo.conf >/dev/null 2>&1 || true
has_mode /etc/karajo "755 root karajo"
chmod 0750 /etc/karajo

step "systemd-analyze verify karajod.service"
if systemd-analyze verify /lib/systemd/system/karajod.service >"$work/verify.log" 2>&1 &&
    ! grep -q . "$work/verify.log"; then
    ok "unit accepted"
else
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify complained about karajod.service"
fi

step "systemd-analyze security karajod.service"
# The hardening must not erode unnoticed: exposure 1.9 today ("OK";
# 1.8 before LimitRTPRIO=1 replaced RestrictRealtime=yes for the timer thread);
# fail above 3.0 (systemd's "OK" band ends at 3.9).
if systemd-analyze security --offline=yes --threshold=30 /lib/systemd/system/karajod.service \
    >"$work/security.log" 2>&1; then
    ok "$(grep 'Overall exposure' "$work/security.log")"
else
    cat "$work/security.log" >&2
    fail "karajod.service exposure is above 3.0"
fi

step "a broken config: exit 78, no restart loop"
grep -qx 'RestartPreventExitStatus=78' /lib/systemd/system/karajod.service ||
    fail "karajod.service has no RestartPreventExitStatus=78"
broken=$(mktemp /tmp/karajo-broken.XXXXXX.conf)
printf '[karajo]\n[job "x"]\nschedule = hourly@61\ncommand = true\n' >"$broken"
chmod 0644 "$broken"
status=0
runuser -u karajo -- karajod --config "$broken" >"$work/broken.log" 2>&1 || status=$?
rm -f "$broken"
if ((status == 78)); then ok "karajod exits 78 on a broken config"; else fail "karajod exited $status on a broken config, not 78"; fi

step "karajod check on the packaged config, as karajo"
if runuser -u karajo -- karajod check --config /etc/karajo/karajo.conf >"$work/check.log" 2>&1; then
    ok "karajod check"
else
    cat "$work/check.log" >&2
    fail "karajod check refused the packaged config"
fi

step "karajod runs as karajo"
# In a fresh network namespace (own loopback) when we may make one.
netns=()
if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
    unshare -n -- sh -c 'ip link set lo up && exec runuser -u karajo -- karajod --config /etc/karajo/karajo.conf' \
        >"$work/daemon.log" 2>&1 &
    daemon_pid=$!
    # Talk to it only once it is in its own namespace, never to the host's port.
    for ((i = 0; i < deadline_s * 10; i++)); do
        [[ $(readlink "/proc/$daemon_pid/ns/net" 2>/dev/null) != "$(readlink /proc/self/ns/net)" ]] && break
        sleep 0.1
    done
    netns=(nsenter "--net=/proc/$daemon_pid/ns/net" --)
else
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port is in use and no network namespace can be made"
    fi
    runuser -u karajo -- karajod --config /etc/karajo/karajo.conf >"$work/daemon.log" 2>&1 &
    daemon_pid=$!
fi
# $1 what, then a command that must succeed before the deadline.
wait_for() {
    local what=$1 i
    shift
    for ((i = 0; i < deadline_s * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$daemon_pid" 2>/dev/null || { echo "karajod exited while waiting for $what" >&2; return 1; }
        sleep 0.1
    done
    echo "no $what after ${deadline_s}s" >&2
    return 1
}
health_tcp() { "${netns[@]}" curl -fsS --max-time 2 "http://127.0.0.1:$port/karajo/health"; }
if wait_for "TCP listener on 127.0.0.1:$port" health_tcp; then
    body=$(health_tcp)
    if [[ $body == *'"status":"ok"'* ]]; then ok "TCP /karajo/health: $body"; else fail "TCP /karajo/health answered: $body"; fi
else
    fail "karajod does not answer on 127.0.0.1:$port (log: $work/daemon.log)"
fi
# runuser stays as karajod's parent; the daemon is its only karajod child.
karajod_pid=$(pgrep -x karajod -P "$daemon_pid" || true)
user=$(ps -o user= -p "${karajod_pid:-0}" 2>/dev/null | tr -d ' ' || true)
if [[ $user == karajo ]]; then ok "karajod (pid $karajod_pid) runs as $user"; else fail "karajod runs as '$user', not karajo"; fi

step "control socket $socket"
if wait_for "control socket $socket (it comes with the api branch)" test -S "$socket"; then
    has_mode "$socket" "660 karajo karajo"
    # A member of the group "karajo" who is not the daemon's user: nobody
    # with the supplementary group karajo.
    as_member=(setpriv --reuid=nobody --regid=nogroup --groups=karajo --)
    as_other=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    body=$("${as_member[@]}" curl -fsS --max-time 2 --unix-socket "$socket" http://localhost/karajo/health || true)
    if [[ $body == *'"status":"ok"'* ]]; then ok "socket /karajo/health as a group member: $body"; else fail "socket /karajo/health as a group member answered: '$body'"; fi
    if "${as_other[@]}" curl -fsS --max-time 2 --unix-socket "$socket" http://localhost/karajo/health >/dev/null 2>&1; then
        fail "a user outside the group karajo can use the control socket"
    else
        ok "a user outside the group karajo cannot use the control socket"
    fi
    if "${as_member[@]}" karajoctl --socket "$socket" list >"$work/list.log" 2>&1; then
        ok "karajoctl list as a group member"
    else
        cat "$work/list.log" >&2
        fail "karajoctl list over $socket failed"
    fi
    # What the unit's ExecReload runs.
    if "${as_member[@]}" karajoctl --socket "$socket" reload >"$work/reload.log" 2>&1; then
        ok "karajoctl reload as a group member: $(head -n1 "$work/reload.log")"
    else
        cat "$work/reload.log" >&2
        fail "karajoctl reload over $socket failed"
    fi
else
    fail "no control socket $socket; log: $work/daemon.log"
fi

step "stop karajod (SIGTERM)"
if [[ -n $karajod_pid ]] && kill -0 "$karajod_pid" 2>/dev/null; then
    # Signal karajod itself, as systemd (KillMode=mixed) would; runuser
    # exits with its status.
    kill -TERM "$karajod_pid"
    status=0
    wait "$daemon_pid" || status=$?
    daemon_pid=
    if ((status == 0)); then ok "karajod stopped, exit 0"; else fail "karajod exited $status on SIGTERM"; fi
else
    fail "karajod was not running any more; its log ($work/daemon.log) ends with:"
    tail -n 20 "$work/daemon.log" >&2 || true
    stop_daemon
fi

step "dpkg --purge karajo"
purge || die "dpkg --purge failed"
left=$(ls -d /etc/karajo /var/lib/karajo /var/log/karajo /run/karajo /srv/karajo /usr/bin/karajo* \
    /lib/systemd/system/karajod.service 2>/dev/null || true)
if [[ -z $left ]]; then ok "nothing left behind"; else fail "left after purge: $left"; fi
if getent passwd karajo >/dev/null; then
    ok "user karajo kept (Debian practice: never remove a system user)"
fi

echo
if ((${#failures[@]})); then
    echo "check.sh: ${#failures[@]} failure(s):" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "check.sh: all package checks passed"
