# %postun of karajo: after an upgrade, restart a running service on the new
# binary, as %systemd_postun_with_restart does. Data and the user "karajo"
# are kept on erase (RPM practice; remove /var/lib/karajo by hand).
if [ -x /usr/bin/systemctl ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart karajod.service >/dev/null 2>&1 || :
    fi
fi
