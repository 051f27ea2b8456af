# %post of karajo: the system user, the directories, and the vendor preset
# (as %systemd_post does: enabled only where the distribution's presets say).
systemd-sysusers /usr/lib/sysusers.d/karajo.conf || :
systemd-tmpfiles --create /usr/lib/tmpfiles.d/karajo.conf || :
if [ "$1" -eq 1 ] && [ -x /usr/bin/systemctl ]; then
    systemctl --no-reload preset karajod.service >/dev/null 2>&1 || :
fi
