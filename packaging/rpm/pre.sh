# %pre of karajo: the user and group "karajo" before the files are laid out,
# so /etc/karajo can belong to the group (what %sysusers_create_compat does).
# The line is packaging/karajo.sysusers; build.sh checks they agree.
systemd-sysusers --replace=/usr/lib/sysusers.d/karajo.conf - <<'SYSUSERS' || :
u     karajo -   "karajo job runner"  /var/lib/karajo
SYSUSERS
