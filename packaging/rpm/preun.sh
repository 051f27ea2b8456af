# %preun of karajo: on erase (not upgrade), stop and disable the service,
# as %systemd_preun does.
if [ "$1" -eq 0 ] && [ -x /usr/bin/systemctl ]; then
    systemctl --no-reload disable --now karajod.service >/dev/null 2>&1 || :
fi
