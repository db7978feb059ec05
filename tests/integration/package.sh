#!/bin/sh
# package.sh: the Debian package (issue 8). A copy of the tracked source
# tree (never the tree itself) is built with `dpkg-buildpackage -us -uc
# -b`; lintian reports no error; the .deb holds satchel, satcheld, the
# man pages, the configuration (a conffile) and the systemd unit, which
# asks for Type=notify, a read-only system but /var/lib/satchel and no new
# privileges. As root, when the machine has neither the package nor the
# user: dpkg -i makes the system user satchel owning /var/lib/satchel,
# `systemd-analyze verify` passes on the installed unit, the installed
# satcheld started the unit's way (its configuration, as root) serves a
# store made by satchel as that user; then purge and the user's removal
# leave the machine as it was. Slow: a whole package build (no tests in
# it, no debug package).
. "$(dirname "$0")/lib.sh"
need dpkg-buildpackage dpkg-deb lintian git tar
[ -e "$SATCHEL_SRCDIR/.git" ] ||
	skip_all "$SATCHEL_SRCDIR is not a git checkout (the package is built from its tracked files)"
[ -f "$SATCHEL_SRCDIR/debian/control" ] || bail_out "no debian/control"

cd "$TMP" || bail_out "cannot enter $TMP"
unset MAKEFLAGS MFLAGS MAKELEVEL
VERSION=$(sed -n '1s/^satchel (\([^)]*\)).*/\1/p' "$SATCHEL_SRCDIR/debian/changelog")
[ -n "$VERSION" ] || bail_out "no version in debian/changelog"
ARCH=$(dpkg --print-architecture)
DEB=$TMP/satchel_${VERSION}_$ARCH.deb

# --- build --------------------------------------------------------------------

# The tracked files as they are in the work tree, edits included.
SRC=$TMP/satchel-$VERSION
mkdir "$SRC"
(cd "$SATCHEL_SRCDIR" && git ls-files -z | xargs -0 tar --ignore-failed-read -cf -) |
    tar -xf - -C "$SRC" || bail_out "cannot copy the source tree"
_saved=$TEST_TIMEOUT
TEST_TIMEOUT=1800
_t0=$(date +%s)
run sh -c 'cd "$1" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
    dpkg-buildpackage -us -uc -b' sh "$SRC"
TEST_TIMEOUT=$_saved
expect_success "dpkg-buildpackage -us -uc -b from a copy of the tree"
diag "the package built in $(($(date +%s) - _t0)) s"
[ -f "$DEB" ] || bail_out "no $DEB"
is "$(git -C "$SATCHEL_SRCDIR" status --porcelain --ignored -- debian)" "" \
    "the source tree's debian/ is untouched"

run lintian "$TMP/satchel_${VERSION}_$ARCH.changes"
if printf '%s\n' "$OUT" | grep -q '^E:'; then
	ok 1 "lintian: no error"
	printf '%s\n' "$OUT" | grep '^E:' | diag
else
	ok 0 "lintian: no error"
fi
printf '%s\n' "$OUT" | grep '^W:' | sed 's/^/lintian warning: /' | diag

# --- what the package holds ----------------------------------------------------

LIST=$(dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|')
for f in /usr/bin/satchel /usr/sbin/satcheld /etc/satchel/satcheld.conf \
    /lib/systemd/system/satcheld.service /var/lib/satchel/ \
    /usr/share/man/man1/satchel.1.gz /usr/share/man/man5/satchel-store.5.gz \
    /usr/share/man/man7/satchel-protocol.7.gz \
    /usr/share/man/man8/satcheld.8.gz; do
	like "$LIST" "$f" "the package holds $f"
done
is "$(dpkg-deb -f "$DEB" Package)" satchel "the package is named satchel"
like "$(dpkg-deb -I "$DEB" conffiles 2>/dev/null)" /etc/satchel/satcheld.conf \
    "/etc/satchel/satcheld.conf is a conffile"
like "$(dpkg-deb -f "$DEB" Depends)" '/libsystemd0/' \
    "satcheld is built with libsystemd (sd_notify)"
like "$(dpkg-deb -f "$DEB" Depends)" '/adduser/' "it depends on adduser"

X=$TMP/extract
dpkg-deb -x "$DEB" "$X" || bail_out "dpkg-deb -x failed"
UNIT=$(cat "$X/lib/systemd/system/satcheld.service")
for l in Type=notify ProtectSystem=strict NoNewPrivileges=yes \
    ReadWritePaths=/var/lib/satchel ProtectHome=yes PrivateTmp=yes \
    'ExecStart=/usr/sbin/satcheld --config /etc/satchel/satcheld.conf'; do
	like "$UNIT" "/^$l\$/" "the unit says $l"
done
CONF=$(cat "$X/etc/satchel/satcheld.conf")
like "$CONF" '/^user = satchel$/' "the configuration runs satcheld as satchel"
like "$CONF" '/^store = \/var\/lib\/satchel\/store$/' \
    "its store is in /var/lib/satchel"

# --- installed ------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	skip "dpkg -i, the user, systemd-analyze verify, purge" "not root"
	done_testing
fi
if dpkg-query -W -f='${Status}' satchel 2>/dev/null | grep -q installed ||
    getent passwd satchel >/dev/null || getent group satchel >/dev/null ||
    [ -e /var/lib/satchel ] || [ -e /etc/satchel ]; then
	skip "dpkg -i, the user, systemd-analyze verify, purge" \
	    "this machine has satchel installed, or its user: left alone"
	done_testing
fi

# Whatever happens, the machine ends as it was: no package, no user.
_pkg_cleanup()
{
	kill_recorded
	dpkg --purge satchel >/dev/null 2>&1
	rm -rf /var/lib/satchel
	getent passwd satchel >/dev/null && deluser --system --quiet satchel \
	    >/dev/null 2>&1
	getent group satchel >/dev/null && delgroup --system --quiet satchel \
	    >/dev/null 2>&1
	return 0
}
trap '_rc=$?; _pkg_cleanup; (exit $_rc); _cleanup' EXIT

run dpkg -i "$DEB"
expect_success "dpkg -i"
PW=$(getent passwd satchel)
like "$PW" '/^satchel:x:[0-9]+:[0-9]+:[^:]*:\/var\/lib\/satchel:/' \
    "the user satchel, its home /var/lib/satchel"
SUID=$(id -u satchel 2>/dev/null)
[ -n "$SUID" ] && [ "$SUID" -lt 1000 ]
ok $? "satchel is a system user (uid $SUID)"
is "$(id -gn satchel 2>/dev/null)" satchel "in a group of its own"
is "$(stat -c '%U:%G %a' /var/lib/satchel 2>/dev/null)" "satchel:satchel 755" \
    "/var/lib/satchel is the user's"
if command -v systemd-analyze >/dev/null 2>&1; then
	run systemd-analyze verify /lib/systemd/system/satcheld.service
	expect_success "systemd-analyze verify satcheld.service"
	is "$ERR" "" "systemd-analyze verify: no complaint"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# The unit's way, without systemd: as root with the packaged file.
chmod 711 "$TMP"
for k in root catalog author; do
	run_satchel keygen "$TMP/$k.key"
	expect_success "keygen $k.key" '/^[0-9a-f]{16}$/'
done
run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/catalog.key.pub"
also "add-publisher" "$SATCHEL" trust add-publisher --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/author.key.pub" 'calligraphy-*'
expect_success "a trust policy"
chmod 644 "$TMP/policy"
chown satchel "$TMP/catalog.key"
run runuser -u satchel -- /usr/bin/satchel store init --trust "$TMP/policy" \
    --catalog-key "$TMP/catalog.key" /var/lib/satchel/store
expect_success "the installed satchel makes an origin store as the user satchel"
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics"
bg_start DP /usr/sbin/satcheld --config /etc/satchel/satcheld.conf \
    --sync-listen 127.0.0.1:0 --port-file /var/lib/satchel/port
DPLOG=$BG_ERR
if wait_port /var/lib/satchel/port 20; then
	ok 0 "the installed satcheld serves with the packaged configuration (sync $PORT)"
	DPID=$(daemon_pid "$DP")
	is "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$DPID/status")" \
	    "$SUID $SUID $SUID $SUID" "it runs as satchel"
	run_satchel publish --to "satchel://127.0.0.1:$PORT" "$TMP/cb.satchel"
	expect_success "a publish to it lands" "calligraphy-basics"
	run_satchel ls "satchel://127.0.0.1:$PORT"
	expect_success "satchel ls of it lists the bundle" "calligraphy-basics"
	is "$(find /var/lib/satchel ! -user satchel)" "" \
	    "everything it wrote in /var/lib/satchel is satchel's"
else
	ok 1 "the installed satcheld serves with the packaged configuration"
	diag <"$DPLOG"
fi
kill_recorded "$DP"
like "$(cat "$DPLOG")" '/satcheld: stopped/' "it stops cleanly"

run dpkg --purge satchel
expect_success "dpkg --purge satchel"
[ ! -e /var/lib/satchel ] && [ ! -e /etc/satchel ] &&
    [ ! -e /lib/systemd/system/satcheld.service ] && [ ! -e /usr/sbin/satcheld ]
ok $? "purge removes the programs, the unit, /etc/satchel and /var/lib/satchel"
_pkg_cleanup
if getent passwd satchel >/dev/null || getent group satchel >/dev/null; then
	ok 1 "the user and group the test made are gone again"
else
	ok 0 "the user and group the test made are gone again"
fi

done_testing
