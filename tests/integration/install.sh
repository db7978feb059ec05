#!/bin/sh
# install.sh: installing Satchel and running satcheld as a service (issues
# 7 and 8). `make install DESTDIR=...` puts the programs, the man pages,
# the example configuration and the state directory where the prefix,
# sysconfdir and localstatedir given to make, or to configure, say, and
# `make uninstall` takes every file back. As root: satcheld refuses to run
# without --user; with --user it binds, then runs as that user (its uid,
# gid and groups in /proc), everything it writes in the store, a network
# publish included, is that user's and writable by no one else, even
# under umask 000; a store the user cannot write is refused, naming it.
# --log-level drops the lines below it; --syslog sends lines to /dev/log
# with their priority (when no syslog daemon holds /dev/log); with
# libsystemd, sd_notify says READY=1, RELOADING=1 and STOPPING=1.
. "$(dirname "$0")/lib.sh"
need make sed find python3 curl
[ -x "$SATCHELD_BIN" ] || bail_out "$SATCHELD_BIN is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"
# A recursive make must not join the jobserver of the make check above.
unset MAKEFLAGS MFLAGS MAKELEVEL

# no_files DIR: prints the files (not directories) under DIR.
no_files()
{
	find "$1" ! -type d
}

# --- make install, make uninstall ----------------------------------------------

D=$TMP/destdir
P=/opt/satchel-test
E=/etc/opt/satchel-test
V=/var/opt/satchel-test
run make -C "$SATCHEL_BUILDDIR" install DESTDIR="$D" prefix="$P" \
    sysconfdir="$E" localstatedir="$V"
expect_success "make install DESTDIR prefix=$P sysconfdir=$E localstatedir=$V"
for f in "$P/bin/satchel" "$P/sbin/satcheld"; do
	[ -x "$D$f" ]
	ok $? "installed $f, executable"
done
for f in man1/satchel.1 man5/satchel-store.5 man7/satchel-protocol.7 \
    man8/satcheld.8; do
	[ -f "$D$P/share/man/$f" ]
	ok $? "installed the man page $P/share/man/$f"
done
CONF=$D$E/satchel/satcheld.conf
[ -f "$CONF" ]
ok $? "installed the example configuration $E/satchel/satcheld.conf"
like "$(cat "$CONF" 2>/dev/null)" "/^store = ${V}\\/lib\\/satchel\\/store\$/" \
    "its store is under localstatedir, $V/lib/satchel/store"
like "$(cat "$CONF" 2>/dev/null)" '/^user = satchel$/' \
    "it runs satcheld as the user satchel"
[ -d "$D$V/lib/satchel" ]
ok $? "made the state directory $V/lib/satchel"
# The installed file is a configuration satcheld reads: everything but
# the store (it does not exist here) is accepted.
run "$D$P/sbin/satcheld" -c "$CONF" --user "$(id -un)" \
    --sync-listen 127.0.0.1:0
expect_fail "the installed satcheld reads the installed configuration up to the missing store" \
    "cannot open store $V/lib/satchel/store"
run make -C "$SATCHEL_BUILDDIR" uninstall DESTDIR="$D" prefix="$P" \
    sysconfdir="$E" localstatedir="$V"
expect_success "make uninstall"
is "$(no_files "$D")" "" "make uninstall left no file behind"

# configure's own options, in a build directory of their own (only data
# is installed: nothing to compile).
if [ -f "$SATCHEL_SRCDIR/config.status" ]; then
	skip "configure --prefix --sysconfdir --localstatedir" \
	    "the source tree is configured in place"
else
	B=$TMP/cfg
	mkdir "$B"
	run sh -c 'cd "$1" && "$2/configure" --prefix=/usr/local/sat \
	    --sysconfdir=/etc/sat --localstatedir=/srv/sat && \
	    make install-data DESTDIR="$3"' sh "$B" "$SATCHEL_SRCDIR" "$TMP/d2"
	expect_success "configure --prefix=/usr/local/sat --sysconfdir=/etc/sat --localstatedir=/srv/sat; make install-data"
	[ -f "$TMP/d2/usr/local/sat/share/man/man8/satcheld.8" ] &&
	    [ -d "$TMP/d2/srv/sat/lib/satchel" ]
	ok $? "man pages under the prefix, the state directory under localstatedir"
	like "$(cat "$TMP/d2/etc/sat/satchel/satcheld.conf" 2>/dev/null)" \
	    '/^store = \/srv\/sat\/lib\/satchel\/store$/' \
	    "the configuration in sysconfdir, its store under localstatedir"
fi

# --- the log level ---------------------------------------------------------------

mkdir "$TMP/keys"
for k in root catalog author; do
	run_satchel keygen "$TMP/keys/$k.key"
	expect_success "keygen $k.key" '/^[0-9a-f]{16}$/'
done
run_satchel trust new --root-key "$TMP/keys/root.key" -o "$TMP/policy"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/keys/root.key" \
    "$TMP/policy" "$TMP/keys/catalog.key.pub"
also "add-publisher" "$SATCHEL" trust add-publisher \
    --root-key "$TMP/keys/root.key" "$TMP/policy" \
    "$TMP/keys/author.key.pub" 'calligraphy-*'
expect_success "a trust policy"
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/keys/catalog.key" \
    "$TMP/rootstore"
expect_success "an origin store, root's"

start_satcheld DW "satcheld --log-level warn starts" --store "$TMP/rootstore" \
    --log-level warn
if log_has "$DLOG" 'serving '; then
	ok 1 "--log-level warn: no info line"
	diag <"$DLOG"
else
	ok 0 "--log-level warn: no info line"
fi
kill_recorded "$DW"
no_sanitizer "$DLOG"

run_satcheld --store "$TMP/rootstore" --log-level loud
expect_usage "--log-level loud: usage error naming the levels" "loud" \
    "error, warn, info or debug"

# --- sd_notify -------------------------------------------------------------------

cat >"$TMP/notify.py" <<'EOF'
# Records each sd_notify datagram on the socket argv[1] as a line of
# argv[2]; ends at STOPPING=1 or after 60 s.
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 60
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.split("\n"):
            out.write(line + "\n")
        out.flush()
        if "STOPPING=1" in msg:
            break
EOF
if grep -q '^#define HAVE_SYSTEMD 1' "$SATCHEL_BUILDDIR/config.h" 2>/dev/null; then
	NS=$TMP/notify.sock
	: >"$TMP/notify.log"
	bg_start NPID python3 "$TMP/notify.py" "$NS" "$TMP/notify.log"
	wait_until 10 test -S "$NS" || bail_out "the notify listener did not start"
	NOTIFY_SOCKET=$NS
	export NOTIFY_SOCKET
	start_satcheld DN "satcheld under a NOTIFY_SOCKET starts" \
	    --store "$TMP/rootstore"
	unset NOTIFY_SOCKET
	wait_until 10 grep -qx 'READY=1' "$TMP/notify.log"
	ok $? "sd_notify: READY=1 once listening"
	# Counted anew at each try, not once when wait_until is called.
	ready_again()
	{
		[ "$(grep -cx 'READY=1' "$TMP/notify.log")" -ge 2 ]
	}
	kill -HUP "$(daemon_pid "$DN")"
	wait_until 10 grep -qx 'RELOADING=1' "$TMP/notify.log" &&
	    wait_until 10 ready_again
	ok $? "sd_notify: RELOADING=1 then READY=1 on SIGHUP"
	kill_recorded "$DN"
	wait_until 10 grep -qx 'STOPPING=1' "$TMP/notify.log"
	ok $? "sd_notify: STOPPING=1 on SIGTERM"
	kill_recorded "$NPID"
	no_sanitizer "$DLOG"
else
	skip "sd_notify" "built without libsystemd"
fi

# --- root, --user ----------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	skip "satcheld --user" "not running as root"
	done_testing
fi

run "$SATCHELD_BIN" --store "$TMP/rootstore" --sync-listen 127.0.0.1:0
expect_usage "as root without --user: refused" \
    "satcheld: refusing to run as root; give --user NAME"
run "$SATCHELD_BIN" --store "$TMP/rootstore" --sync-listen 127.0.0.1:0 \
    --user satchel-no-such-user
expect_fail "--user of a user that does not exist: exit 1 naming it" \
    "--user satchel-no-such-user: no such user"

U=nobody
id "$U" >/dev/null 2>&1 || bail_out "no user $U on this machine"
UID_N=$(id -u "$U")
GID_N=$(id -g "$U")
GROUPS_N=$(id -G "$U" | tr ' ' '\n' | sort -n | tr '\n' ' ')

run "$SATCHELD_BIN" --store "$TMP/rootstore" --sync-listen 127.0.0.1:0 \
    --user "$U"
expect_fail "--user $U with a store it cannot write: exit 1 naming both" \
    "store $TMP/rootstore is not writable by the user $U"

# The user must reach its files: $TMP is private to root.
chmod 711 "$TMP"
SVC=$TMP/svc
mkdir -p "$SVC/run"
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/keys/catalog.key" \
    "$SVC/store"
expect_success "an origin store for $U"
chown -R "$U:$GID_N" "$SVC"
# An origin signs each new catalog with its key: the user must read it.
chown "$U" "$TMP/keys/catalog.key"
chmod 711 "$TMP/keys"

# A free port below 1024, which only root may bind: satcheld binds it
# before it drops root.
LOW=$(python3 -c '
import socket
for p in range(1023, 599, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break
')
[ -n "$LOW" ] || bail_out "no free port below 1024 on 127.0.0.1"
# Under umask 000: whatever satcheld makes must still be nobody else's.
umask 000
bg_start DU "$SATCHELD_BIN" --store "$SVC/store" --user "$U" \
    --sync-listen "127.0.0.1:$LOW" --http-listen 127.0.0.1:0 \
    --port-file "$SVC/run/port"
DULOG=$BG_ERR
umask 022
if wait_port "$SVC/run/port" 20; then
	ok 0 "satcheld --user $U starts on port $LOW, below 1024 (sync $PORT)"
else
	ok 1 "satcheld --user $U starts"
	diag <"$DULOG"
	bail_out "satcheld --user $U did not start"
fi
HTTP=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$SVC/run/port")
DPID=$(daemon_pid "$DU")
[ -n "$DPID" ] || bail_out "no satcheld under $DU"
ST=/proc/$DPID/status
is "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$ST")" \
    "$UID_N $UID_N $UID_N $UID_N" \
    "real, effective, saved and file-system uid are $U's ($UID_N)"
is "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "$ST")" \
    "$GID_N $GID_N $GID_N $GID_N" "and the gids ($GID_N)"
is "$(awk '$1 == "Groups:" { for (i = 2; i <= NF; i++) print $i }' "$ST" |
    sort -n | tr '\n' ' ')" "$GROUPS_N" "its groups are $U's, root's are gone"
like "$(cat "$DULOG")" "/running as $U \\(uid $UID_N, gid $GID_N\\)/" \
    "one log line says whom it runs as"

# A publish over the network: the daemon writes objects, meta and the
# catalog into the store.
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/keys/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics"
run_satchel publish --to "satchel://127.0.0.1:$PORT" "$TMP/cb.satchel"
expect_success "publish to the daemon running as $U" "calligraphy-basics"
# The web library picks the new catalog up on a thread of its own.
served()
{
	[ "$(curl -sS -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$HTTP/bundle/calligraphy-basics")" = 200 ]
}
wait_until 20 served
ok $? "the web library serves the bundle (a view to count)"
kill_recorded "$DU"
no_sanitizer "$DULOG"
like "$(cat "$DULOG")" '/satcheld: stopped/' "it stopped cleanly"

ls "$SVC/store/stats/"*.json >/dev/null 2>&1
ok $? "the usage counts were written at exit (stats/)"
is "$(find "$SVC" ! -user "$U")" "" "every file in the store and the port file is $U's"
is "$(find "$SVC" -perm /022 ! -type l)" "" \
    "nothing satcheld made is group- or world-writable, under umask 000"

# --- syslog ----------------------------------------------------------------------

cat >"$TMP/syslog.py" <<'EOF'
# Plays the syslog daemon on /dev/log (argv[1]) for up to 30 s, writing
# each message as a line of argv[2]; removes the socket when done.
import os, signal, socket, sys, time
path, outp = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
try:
    s.settimeout(0.5)
    end = time.time() + 30
    with open(outp, "a") as out:
        while time.time() < end:
            try:
                msg = s.recv(8192).decode(errors="replace")
            except socket.timeout:
                continue
            out.write(msg.rstrip("\n") + "\n")
            out.flush()
finally:
    os.unlink(path)
EOF
if [ -e /dev/log ]; then
	skip "--syslog" "/dev/log belongs to a running syslog daemon"
else
	: >"$TMP/syslog.log"
	bg_start SPID python3 "$TMP/syslog.py" /dev/log "$TMP/syslog.log"
	if wait_until 10 test -S /dev/log; then
		run "$SATCHELD" --syslog --store "$TMP/no-store" \
		    --sync-listen 127.0.0.1:0
		is "$RC $SANITIZED" "1 0" "--syslog: a missing store still exits 1"
		is "$ERR" "" "--syslog: nothing on stderr"
		# <27>: facility daemon (3 * 8) + priority err (3); <28> warning.
		wait_until 10 grep -q 'cannot open store' "$TMP/syslog.log"
		like "$(cat "$TMP/syslog.log")" \
		    '/^<27>.*satcheld\[[0-9]+\]: cannot open store .*no-store/' \
		    "--syslog: the error reaches syslog as daemon.err, with the pid"
		like "$(cat "$TMP/syslog.log")" \
		    '/^<28>.*satcheld\[[0-9]+\]: --user root: running as root/' \
		    "--syslog: a warning as daemon.warning"
	else
		ok 1 "a stand-in syslog on /dev/log"
	fi
	kill_recorded "$SPID"
	[ ! -e /dev/log ]
	ok $? "the stand-in syslog removed /dev/log"
fi

done_testing
