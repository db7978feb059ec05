#!/bin/sh
# attack.sh: the attack suite (issue 7), modelled on TUF's threat list.
# A hostile origin, mirror, USB drive or network peer tries each threat
# against the victims it can reach; each case ends with a clear refusal
# (exit 1 and a message naming what was wrong, or the daemon's log line),
# the victim's store byte for byte as it was (lib.sh fingerprint; a
# pull's tmp/pull-N/ may keep checked object bytes to resume from, SPEC
# §10), and, where a daemon is the victim, a good client served right
# afterwards. hostile.py (beside this file) is the hostile server: it
# speaks SPEC §11 and serves a store's documents, misbehaving as told.
#
# Victims: NET `satchel pull satchel://` into a school holding v1; MIRROR
# satcheld --upstream (a school's mirror daemon) holding v1; USB `satchel
# pull DIR`; DAEMON satcheld receiving a hostile publisher or client;
# ARCHIVE `satchel verify` / `satchel publish` of a hostile archive.
#
# Threat -> where it is tested (here unless a file is named):
#
# Arbitrary content
#   unsigned catalog      NET "an unsigned catalog"; pull.sh "a catalog
#                         edited after signing"; store.sh fsck garbage sig
#   unsigned bundle       store.sh "publish of an unsigned bundle";
#                         tamper.sh "a stripped signature fails"
#   wrong key, catalog    NET "a catalog signed by a key the victim does
#                         not trust"; netpull.sh, pull.sh, mirror.sh (MIRROR)
#   wrong key, release    NET "a release signed by a key the victim does
#                         not know"; store.sh; netpublish.sh and intake.sh
#                         (DAEMON: "an unknown publisher key")
#   out-of-scope key      NET and MIRROR "... outside its (key's) scope";
#                         pull.sh "a publisher the destination does not
#                         allow"; store.sh, netpublish.sh, intake.sh (DAEMON)
#   bogus PUBLISH_NEED    `satchel publish --to` a hostile server: "a
#                         PUBLISH_NEED asking for an object the manifest
#                         lacks", "... of 4 billion hashes" (endless data)
#   altered content       pull.sh (USB flipped byte), mirror.sh (MIRROR
#                         modified object), netpublish.sh (DAEMON altered
#                         object), tamper.sh (ARCHIVE)
# Rollback
#   of the catalog        NET and MIRROR "a catalog older than the
#                         victim's"; pull.sh (USB), mirror.sh
#   of a release          NET "a newer, validly signed catalog that lowers
#                         a release"; pull.sh (USB); store.sh, netpublish.sh,
#                         intake.sh (DAEMON: serial not greater)
#   of the trust policy   USB "a drive's older policy is refused" (the
#                         victim's meta/trust and trust.d unchanged);
#                         trust-rotation.sh (rollback, a fork of the same
#                         serial, by every transport); store.sh fsck of
#                         the policy history
# Freeze
#   expired catalog       NET "an expired catalog"; pull.sh (USB),
#                         expiry.sh, mirror.sh (MIRROR)
#   stalled upstream      NET and MIRROR "a server that never answers" /
#                         "a stalled upstream"; mirror.sh (SIGTERM during a
#                         stalled pull); daemon.sh (DAEMON: half a frame
#                         then silence, idle timeout)
# Mix-and-match           NET and MIRROR "release 1's valid manifest with
#                         the catalog of release 2"; pull.sh (USB, and
#                         another bundle's manifest); mirror.sh; intake.sh
# Endless data
#   object > manifest     NET and MIRROR "an object larger than its
#                         manifest says"; pull.sh (USB "made larger");
#                         netpublish.sh (DAEMON "more bytes than
#                         announced"); tamper.sh (ARCHIVE "a file that grew")
#   1 GB metadata         NET and MIRROR "a catalog announced as 1 GB";
#                         USB "catalog is 1 GB", "release file is 1 GB"
#                         (sparse files, refused by size); DAEMON "a PUBLISH
#                         announcing a 1 GiB manifest"; bad-input.sh
#                         (ARCHIVE "a 17 MiB manifest"); daemon.sh (a 10 MiB
#                         header before HELLO)
#   endless delta         NET and MIRROR "a delta that never ends"
#                         (hostile delta); delta.sh (damaged and swapped
#                         deltas from a doctored cache)
# Slow retrieval          NET and MIRROR "one byte a second" (the client's
#                         minimum rate, SATCHEL_IO_TIMEOUT=3 standing in for
#                         the 60 s default: the one byte a minute of the
#                         threat, scaled); limits.sh (DAEMON drops a slow
#                         reader and a trickling client, --min-rate)
# Path traversal, links
#   in archives           ARCHIVE publish of '..', symlink and hard link
#                         entries; bad-input.sh (verify of each, absolute
#                         paths); http.sh (the web library's URLs)
#   in requests           DAEMON "GET_META of the release '../../..'"
#                         (four names); http.sh (web library URLs)
#   in a store            USB "a FIFO" for the catalog, a release file, an
#                         object (pull, fsck and archive hung: fixed), the
#                         catalog a symbolic link to /dev/zero
#   in manifests          NET, USB, MIRROR and DAEMON (PUBLISH) "a manifest
#                         signed by the author naming ../../etc/cron.d/evil";
#                         bad-input.sh (ARCHIVE manifest paths)
# Zip/zstd bomb           ARCHIVE "verify stops at the manifest's size"
#                         (1 GiB in a few hundred kB) and publish; NET and
#                         MIRROR META_Z, OBJECT_DATA and OBJECT_PACK frames
#                         that inflate past their declared size;
#                         netpublish.sh (DAEMON PUBLISH_Z). No satchel
#                         program reads a zip (lesson zips are only written).
# Duplicate signatures    "one root signing twice does not make a threshold
#                         of 2" (trust show, and a USB drive's policy);
#                         ARCHIVE "the author's signature twice"; tamper.sh;
#                         tests/unit/test-trust.c (a root key listed twice
#                         counts once)
. "$(dirname "$0")/lib.sh"
need python3 zstd tar truncate cp mkfifo
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"
HOSTILE=$SATCHEL_SRCDIR/tests/integration/hostile.py

# --- keys, policies, bundles, the origin, the victims ----------------------------

make_keys root catalog author rogue stranger
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
expect_success "trust policy: author may publish calligraphy-basics"
cp "$TMP/policy" "$TMP/policy.old"
run_satchel trust add-publisher --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/rogue.key.pub" 'literacy-*'
expect_success "a newer policy: rogue may publish literacy-* only"
# An evil policy, which the victims never see: the victims' catalog key,
# and stranger and rogue allowed to publish calligraphy-basics.
make_policy "$TMP/policy.evil" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
also "add stranger" "$SATCHEL" trust add-publisher --root-key "$TMP/root.key" \
    "$TMP/policy.evil" "$TMP/stranger.key.pub" calligraphy-basics
also "add rogue" "$SATCHEL" trust add-publisher --root-key "$TMP/root.key" \
    "$TMP/policy.evil" "$TMP/rogue.key.pub" calligraphy-basics
expect_success "an evil policy: stranger and rogue may publish calligraphy-basics"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
cb_release "$CB" 2 1.1
# A file of 300 kB, so that its changed release travels as a delta.
head -c 300000 /dev/urandom | od -An -tx1 >"$CB/lessons/notes.txt"
git_commit "$CB" "Notes"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2" "serial 2"
for k in stranger rogue; do
	run_satchel build -C "$CB" --key "$TMP/$k.key" -o "$TMP/cb2-$k.satchel"
	expect_success "build calligraphy-basics v2 signed by $k" "serial 2"
done
# v3, never published: the base of the hostile archives offered to the
# origin (a serial it would take, so that only the archive is refused).
cb_release "$CB" 3 1.2
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb3.satchel"
expect_success "build calligraphy-basics v3" "serial 3"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key"
expect_success "the origin"
cp -a "$O" "$TMP/origin.empty"		# catalog serial 1: for a rollback
also "publish v1" "$SATCHEL" publish --store "$O" "$TMP/cb1.satchel"
ok 0 "the origin, with v1"
run_satchel store init --trust "$TMP/policy" "$TMP/school"
run_satchel pull "$O" --store "$TMP/school"
expect_success "the victim school holds v1" "1 release updated"
run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish v2 at the origin" "catalog serial 3"
# Every case starts from a copy of the school (cp -a keeps the times
# fingerprint compares): at v1, or, for a release's rollback, at v2.
cp -a "$TMP/school" "$TMP/school.pristine"
cp -a "$TMP/school" "$TMP/school2"
run_satchel pull "$O" --store "$TMP/school2"
expect_success "a second school holds v2" "1 release updated"
cp -a "$TMP/school2" "$TMP/school2.pristine"
objects "$TMP/school" >"$TMP/school.objects"
objects "$O" >"$TMP/origin.objects"
PRISTINE=$TMP/school.pristine

# victim: a fresh copy of the pristine school in $S, snapshotted.
S=$TMP/victim
victim()
{
	rm -rf "$S"
	cp -a "$PRISTINE" "$S"
	snapshot "$S"
}

# intact DIR: extra conditions of the next case: DIR's fingerprint is the
# snapshot's, and tmp/ holds nothing but a pull's staging directories
# (checked object bytes a later pull may resume from, SPEC §10).
intact()
{
	fingerprint "$1" | grep -v '  \./tmp/' >"$TMP/fp.after"
	grep -v '  \./tmp/' "$TMP/fp.before" >"$TMP/fp.before.notmp"
	if ! cmp -s "$TMP/fp.before.notmp" "$TMP/fp.after"; then
		diag "the store changed:"
		diff "$TMP/fp.before.notmp" "$TMP/fp.after" | head -n 20 | diag
	fi
	also "the store is unchanged" cmp -s "$TMP/fp.before.notmp" "$TMP/fp.after"
	also "tmp/ holds only staging directories" \
	    sh -c "! ls -A '$1/tmp' | grep -v '^pull-'"
}

# hostile PIDVAR MODE: tests/integration/hostile.py serving the documents
# of the store $HSTORE (default: the origin) with the misbehaviour MODE
# ("plain": none) on 127.0.0.1; sets HPORT.
_HN=0
hostile()
{
	_HN=$((_HN + 1))
	_hp=$TMP/hostile.$_HN.port
	_st=$TEST_TIMEOUT
	TEST_TIMEOUT=600
	bg_start "$1" python3 "$HOSTILE" "${HSTORE:-$O}" "$_hp" "$2"
	TEST_TIMEOUT=$_st
	HPORT=
	wait_file "$_hp" && HPORT=$(cat "$_hp")
	[ -n "$HPORT" ] || bail_out "hostile.py $2 did not start"
}

# --- a hostile server against `satchel pull satchel://` --------------------------

# net_case MODE DESCRIPTION [PATTERN...]: the victim pulls from a hostile
# server in MODE: exit 1, stderr naming the server and the PATTERNs, the
# store unchanged. SATCHEL_IO_TIMEOUT=3 makes a stall or trickle show in
# seconds, not minutes.
net_case()
{
	_mode=$1
	_desc=$2
	shift 2
	hostile HP "$_mode"
	victim
	in_sub 'SATCHEL_IO_TIMEOUT=3 run_satchel pull "satchel://127.0.0.1:$HPORT" --store "$S"'
	intact "$S"
	expect_fail "$_desc" "satchel://127.0.0.1:$HPORT" "$@"
	printf '%s\n' "$ERR" | diag
	kill_recorded "$HP"
}

net_case stall "freeze: a server that never answers: given up within the I/O timeout" \
    "timed out waiting for the server"
net_case slow "slow retrieval: one byte a second: given up as too slow" \
    "too slow" "at least 256 a second"
net_case meta-1g "endless data: a catalog announced as 1 GB: refused before allocation" \
    "META: total: 1073741824 bytes is not in 1..16777216"
net_case metaz-bomb "zstd bomb: a META_Z piece that inflates past its declared size" \
    "META_Z piece at offset 0: inflates past its declared size"
net_case objdata-bomb "zstd bomb: an OBJECT_DATA chunk that declares 100 bytes and inflates to 64 MiB" \
    "OBJECT_DATA at offset 0: inflates past its declared size"
net_case pack-bomb "zstd bomb: an OBJECT_PACK frame that inflates past the sizes it lists" \
    "OBJECT_PACK: inflates past its declared size"
net_case object-endless "endless data: an object larger than its manifest says" \
    "more object data than the" "bytes its manifest says"
net_case delta-endless "endless data: a delta that never ends (hostile delta)" \
    "a delta longer than" "the most its object's size allows"

# The author's `satchel publish --to` against a hostile server's
# PUBLISH_NEED: a list announcing 4 billion hashes, and an object the
# manifest does not have. The archive is only read.
cp "$TMP/cb3.satchel" "$TMP/cb3.copy"
for m in need-huge need-bogus; do
	hostile HP "$m"
	run_satchel publish --to "satchel://127.0.0.1:$HPORT" "$TMP/cb3.satchel"
	also "the archive is unchanged" cmp -s "$TMP/cb3.satchel" "$TMP/cb3.copy"
	case $m in
	need-huge) expect_fail "endless data: a PUBLISH_NEED of 4 billion hashes: refused by the limit" \
	    "PUBLISH_NEED: total: 4294967295 hashes, at most 1000000" ;;
	need-bogus) expect_fail "arbitrary content: a PUBLISH_NEED asking for an object the manifest lacks" \
	    "the server asked for 1 objects, the archive gave 0" ;;
	esac
	printf '%s\n' "$ERR" | diag
	kill_recorded "$HP"
done

# --- arbitrary content, rollback, mix-and-match, freeze: doctored stores -----------
#
# Each served as it is by hostile.py (mode plain) to `satchel pull
# satchel://`; the same stores as USB drives are pull.sh's cases.

# resign_catalog IN OUT KEY PYTHON: as in pull.sh: the catalog IN
# rewritten into OUT and signed by KEY alone; PYTHON may change `hdr`
# (serial, issued, expires) and `bundles` ([name, serial, sha256, bytes]).
resign_catalog()
{
	python3 - "$@" <<'PYEOF' || { _PENDING_DIAG="${_PENDING_DIAG}resigning $2 failed
"; return 1; }
import base64, hashlib, sys
from cryptography.hazmat.primitives import serialization
src, dst, keyf, code = sys.argv[1:5]
text = open(src).read()
body = text[:text.index("\nend\n") + 5]
hdr, bundles = {}, []
for line in body.split("\n")[1:-2]:
    f = line.split(" ")
    if f[0] == "bundle":
        bundles.append(f[1:])
    else:
        hdr[f[0]] = int(f[1])
exec(code)
body = "satchel-catalog 1\nserial %d\nissued %d\nexpires %d\n" % (
    hdr["serial"], hdr["issued"], hdr["expires"])
body += "".join("bundle " + " ".join(b) + "\n" for b in bundles) + "end\n"
key = serialization.load_pem_private_key(open(keyf, "rb").read(), None)
raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw)
sig = key.sign(b"SATCHEL-CATALOG-SIG-V1\0" + body.encode())
with open(dst, "w") as f:
    f.write(body + "signature ed25519 %s %s\n" % (
        hashlib.sha256(raw).hexdigest()[:16], base64.b64encode(sig).decode()))
PYEOF
}

have_crypto()
{
	python3 -c 'from cryptography.hazmat.primitives.asymmetric import ed25519' \
	    >/dev/null 2>&1
}

# doctored NAME: a copy of the origin at $TMP/NAME, writable, in $D.
doctored()
{
	D=$TMP/$1
	rm -rf "$D"
	cp -a "$O" "$D"
	chmod -R u+w "$D/meta"
}

doctored unsigned
sed -i '/^signature /d' "$D/meta/catalog"
HSTORE=$D net_case plain "arbitrary content: an unsigned catalog" \
    "catalog" "/signature|signed/"

run_satchel store init --trust "$TMP/policy.evil" --catalog-key \
    "$TMP/stranger.key" "$TMP/evil-catalog" 2>/dev/null
make_policy "$TMP/policy.stranger" "$TMP/stranger.key.pub" \
    "$TMP/author.key.pub" calligraphy-basics
make_origin "$TMP/evil-catalog" "$TMP/policy.stranger" "$TMP/stranger.key" \
    "$TMP/cb1.satchel" "$TMP/cb2.satchel"
expect_success "an evil origin whose catalog key is stranger's"
# It serves the victim's own policy: the attacker holds no root key, so
# any other policy would be refused first (a fork or a rollback).
cp "$TMP/policy" "$TMP/evil-catalog/meta/trust"
HSTORE=$TMP/evil-catalog net_case plain \
    "arbitrary content: a catalog signed by a key the victim does not trust" \
    "not signed by a catalog key" "$(key_id "$TMP/stranger.key.pub")"

for k in stranger rogue; do
	make_origin "$TMP/evil-$k" "$TMP/policy.evil" "$TMP/catalog.key" \
	    "$TMP/cb1.satchel" "$TMP/cb2-$k.satchel"
	expect_success "an evil origin (the victim's catalog key) with v2 signed by $k"
	cp "$TMP/policy" "$TMP/evil-$k/meta/trust"
done
HSTORE=$TMP/evil-stranger net_case plain \
    "arbitrary content: a release signed by a key the victim does not know" \
    "calligraphy-basics@2" "signed by: $(key_id "$TMP/stranger.key.pub")"
HSTORE=$TMP/evil-rogue net_case plain \
    "arbitrary content: a release signed by a known key outside its scope" \
    "calligraphy-basics@2" "signed by: $(key_id "$TMP/rogue.key.pub")"

HSTORE=$TMP/origin.empty net_case plain \
    "rollback: a catalog older than the victim's (serial 1 < 2)" \
    "rollback" "serial 1"

doctored mixmatch
rm -f "$D/meta/releases/calligraphy-basics/2.signed"
cp "$D/meta/releases/calligraphy-basics/1.signed" \
    "$D/meta/releases/calligraphy-basics/2.signed"
HSTORE=$D net_case plain \
    "mix-and-match: release 1's valid manifest with the catalog of release 2" \
    "calligraphy-basics@2" "not the one"

if have_crypto; then
	doctored release-rollback
	V1PIN=$(awk '$1 == "bundle" && $2 == "calligraphy-basics" { print $4 }' \
	    "$TMP/school.pristine/meta/catalog")
	resign_catalog "$O/meta/catalog" "$D/meta/catalog" "$TMP/catalog.key" "
hdr['serial'] += 1
for b in bundles:
    if b[0] == 'calligraphy-basics':
        b[1] = '1'
        b[2] = '$V1PIN'"
	PRISTINE=$TMP/school2.pristine
	HSTORE=$D net_case plain \
	    "rollback: a newer, validly signed catalog that lowers a release (2 to 1)" \
	    "calligraphy-basics" "rollback"
	PRISTINE=$TMP/school.pristine

	doctored expired
	NOW=$(date +%s)
	resign_catalog "$O/meta/catalog" "$D/meta/catalog" "$TMP/catalog.key" "
hdr['issued'] = $NOW - 10 * 86400
hdr['expires'] = $NOW - 3 * 86400"
	HSTORE=$D net_case plain "freeze: an expired catalog" "expired at"
else
	skip "rollback: a newer catalog that lowers a release" \
	    "python3's cryptography module is missing"
	skip "freeze: an expired catalog" "python3's cryptography module is missing"
fi

# --- a hostile upstream against satcheld --upstream (a school's mirror) ---------
#
# The victim is a mirror daemon whose store holds v1. Each case: its log
# names the upstream and what was wrong, its store is unchanged, and it
# still serves: a good client pulls v1 from it right afterwards.

# mirror_case MODE DESCRIPTION ERE: as net_case, the victim a satcheld
# mirroring the hostile server ($HSTORE, MODE); ERE must match the log
# line of the failed pull.
mirror_case()
{
	_mode=$1
	_mdesc=$2
	hostile HP "$_mode"
	victim
	SATCHEL_IO_TIMEOUT=3
	export SATCHEL_IO_TIMEOUT
	start_satcheld DM "mirror of a hostile upstream ($_mode)" --store "$S" \
	    --upstream "satchel://127.0.0.1:$HPORT" --interval 3600 --retry 3600
	unset SATCHEL_IO_TIMEOUT
	_hurl="satchel://127.0.0.1:$HPORT"
	also "a failed pull is logged within 60 s" wait_until 60 log_has "$DLOG" \
	    "pull from $_hurl failed"
	also "the log line names what was wrong: $3" log_has "$DLOG" \
	    "pull from $_hurl failed .*$3"
	_good=$(fresh_dir "good.$_HN")
	run_satchel store init --trust "$TMP/policy" "$_good"
	also "a good client pulls v1 from the mirror" "$SATCHEL" pull \
	    "satchel://127.0.0.1:$PORT" --store "$_good"
	also "... byte for byte v1" test "$(objects "$_good")" = "$(objects "$S")"
	also "the mirror still runs" kill -0 "$DM"
	kill_recorded "$DM"
	also "no sanitizer report" sanitizer_free "$DLOG"
	intact "$S"
	ok 0 "$_mdesc"
	grep 'mirror' "$DLOG" | head -n 3 | diag
	kill_recorded "$HP"
}

mirror_case stall "freeze: a stalled upstream: the mirror gives up, still serves" \
    "timed out waiting for the server"
mirror_case slow "slow retrieval: an upstream trickling a byte a second" \
    "too slow"
mirror_case meta-1g "endless data: an upstream's catalog announced as 1 GB" \
    "1073741824 bytes is not in 1\\.\\.16777216"
mirror_case metaz-bomb "zstd bomb: an upstream's META_Z piece" \
    "META_Z piece at offset 0: inflates past its declared size"
mirror_case pack-bomb "zstd bomb: an upstream's OBJECT_PACK" \
    "OBJECT_PACK: inflates past its declared size"
mirror_case object-endless "endless data: an upstream's object larger than its manifest says" \
    "more object data than the [0-9]+ bytes its manifest says"
mirror_case delta-endless "endless data: an upstream's endless delta" \
    "a delta longer than"
HSTORE=$TMP/mixmatch mirror_case plain \
    "mix-and-match: an upstream's release 1 manifest under release 2's catalog" \
    "not the one its catalog pins"
HSTORE=$TMP/evil-rogue mirror_case plain \
    "arbitrary content: an upstream's release signed outside its key's scope" \
    "signed by: $(key_id "$TMP/rogue.key.pub")"
HSTORE=$TMP/origin.empty mirror_case plain \
    "rollback: an upstream's older catalog" "rollback refused"

# --- USB drives: endless metadata, a rolled-back trust policy ----------------------

# usb_case DIR DESCRIPTION PATTERN...: the victim pulls from the store DIR.
usb_case()
{
	_usb=$1
	_udesc=$2
	shift 2
	victim
	run_satchel pull "$_usb" --store "$S"
	intact "$S"
	expect_fail "$_udesc" "$@"
	printf '%s\n' "$ERR" | diag
}

doctored usb-1g-catalog
truncate -s 1G "$D/meta/catalog"
usb_case "$D" "endless data: a USB store whose catalog is 1 GB: refused by its size" \
    "$D/meta/catalog" "/too large|larger than|exceeds|limit/"

doctored usb-1g-release
truncate -s 1G "$D/meta/releases/calligraphy-basics/2.signed"
usb_case "$D" "endless data: a USB store whose release file is 1 GB: refused by its size" \
    "calligraphy-basics" "/too large|larger than|exceeds|limit/"

# Link tricks on a drive: a FIFO where a file should be would block a
# reader for ever (bug fixed with these cases: the pull hung).
doctored usb-fifo-catalog
rm -f "$D/meta/catalog"
mkfifo "$D/meta/catalog"
usb_case "$D" "link tricks: a USB store whose catalog is a FIFO: refused, no hang" \
    "$D/meta/catalog" "not a regular file"
doctored usb-fifo-release
rm -f "$D/meta/releases/calligraphy-basics/2.signed"
mkfifo "$D/meta/releases/calligraphy-basics/2.signed"
usb_case "$D" "link tricks: a USB store whose release file is a FIFO: refused, no hang" \
    "2.signed" "not a regular file"
doctored usb-fifo-object
FOBJ=$(LC_ALL=C comm -13 "$TMP/school.objects" "$TMP/origin.objects" | head -n 1)
chmod u+w "$D/objects/$(echo "$FOBJ" | cut -c 1-2)"
rm -f "$D/objects/$(echo "$FOBJ" | cut -c 1-2)/$(echo "$FOBJ" | cut -c 3-)"
mkfifo "$D/objects/$(echo "$FOBJ" | cut -c 1-2)/$(echo "$FOBJ" | cut -c 3-)"
usb_case "$D" "link tricks: a USB store with a FIFO for an object: refused, no hang" \
    "$(echo "$FOBJ" | cut -c 3-)" "not a regular file"
snapshot "$D"
run_satchel fsck "$D"
unchanged "$D"
also "the report names the FIFO" out_has "$(echo "$FOBJ" | cut -c 3-): not a regular file"
expect_fail "link tricks: fsck of that drive reports the FIFO, no hang" \
    "problems found"
FNAME=$(grep -l "$FOBJ" "$D"/meta/releases/calligraphy-basics/*.signed |
    sed -n 's|.*/\([0-9]*\)\.signed$|\1|p' | head -n 1)
run_satchel archive --store "$D" -o "$TMP/fifo-out.satchel" \
    "calligraphy-basics@$FNAME"
unchanged "$D"
also "no archive written" test ! -e "$TMP/fifo-out.satchel"
expect_fail "link tricks: archive of a release with a FIFO object: refused, no hang" \
    "not a regular file"
doctored usb-symlink-catalog
rm -f "$D/meta/catalog"
ln -s /dev/zero "$D/meta/catalog"
usb_case "$D" "link tricks: a USB store whose catalog links to /dev/zero: refused" \
    "$D/meta/catalog" "not a regular file"

# The victim's policy is serial 4 (rogue added); the drive offers its
# catalog (already current) beside policy serial 3. The victim's policy
# and its history (meta/trust.d) stay byte for byte what they were,
# whatever the pull says of the drive.
rm -rf "$TMP/usb-oldpolicy"
cp -a "$TMP/school.pristine" "$TMP/usb-oldpolicy"
chmod -R u+w "$TMP/usb-oldpolicy/meta"
cp "$TMP/policy.old" "$TMP/usb-oldpolicy/meta/trust"
victim
(cd "$S/meta" && sha256sum trust trust.d/*) >"$TMP/trust.before"
run_satchel pull "$TMP/usb-oldpolicy" --store "$S"
(cd "$S/meta" && sha256sum trust trust.d/*) >"$TMP/trust.after"
also "meta/trust and meta/trust.d unchanged" \
    cmp -s "$TMP/trust.before" "$TMP/trust.after"
also "the victim's policy is still serial 4" \
    grep -qx 'serial 4' "$S/meta/trust"
expect_fail "rollback of the trust policy: a drive's older policy is refused" \
    "usb-oldpolicy" "rollback refused"

# --- archives: a zstd bomb, traversal and links, signatures counted twice -------

# The origin as it is, for the publish refusals below.
snapshot "$O"
ORIGIN_FP=$TMP/fp.origin
cp "$TMP/fp.before" "$ORIGIN_FP"
origin_unchanged()
{
	cp "$ORIGIN_FP" "$TMP/fp.before"
	unchanged "$O"
}

# A bundle whose bundle.conf entry inflates to 1 GiB of zeros (tens of
# kB of zstd), its signed manifest still giving the file's own size.
python3 - "$TMP/cb3.satchel" <<'PYEOF' | zstd -q -3 -f -o "$TMP/bomb.satchel" ||
import io, subprocess, sys, tarfile
raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True,
                     stdout=subprocess.PIPE).stdout
tin = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
class Zeros:
    def read(self, n=-1):
        return b"\0" * (n if n >= 0 else 1 << 20)
with sys.stdout.buffer as f:
    tout = tarfile.open(fileobj=f, mode="w|", format=tarfile.PAX_FORMAT)
    for ti in tin:
        b = tin.extractfile(ti).read()
        ti.pax_headers = {}
        if ti.name == "bundle.conf":
            ti.size = 1 << 30
            tout.addfile(ti, Zeros())
        else:
            tout.addfile(ti, io.BytesIO(b))
    tout.close()
PYEOF
    diag "making bomb.satchel failed"
BCSIZE=$(archive_entry "$TMP/cb3.satchel" bundle.conf | wc -c | tr -d ' ')
run_satchel verify --pubkey "$TMP/author.key.pub" "$TMP/bomb.satchel"
expect_fail "zstd bomb: verify stops at the manifest's size ($(wc -c <"$TMP/bomb.satchel") bytes inflating to 1 GiB)" \
    '"bundle.conf"' "1073741824 bytes, the manifest says $BCSIZE"
printf '%s\n' "$ERR" | diag
run_satchel publish --store "$O" "$TMP/bomb.satchel"
origin_unchanged
expect_fail "zstd bomb: publish refuses it, the origin unchanged" '"bundle.conf"'

# publish_crafted NAME PYTHON DESCRIPTION PATTERN...: cb3 rewritten by
# retar (lib.sh) and published into the origin: refused, origin unchanged.
publish_crafted()
{
	retar "$TMP/cb3.satchel" "$TMP/$1.satchel" "$2"
	run_satchel publish --store "$O" "$TMP/$1.satchel"
	origin_unchanged
	_pdesc=$3
	shift 3
	expect_fail "$_pdesc" "$@"
}
publish_crafted dotdot 'entries.insert(3, entry("lessons/../../evil.sh", b"rm -rf ~\n"))' \
    "path traversal: publish of an archive entry with '..'" \
    '"lessons/../../evil.sh"' '".." component'
publish_crafted symlink 'entries.insert(3, entry("lessons/passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd"))' \
    "link tricks: publish of an archive with a symbolic link" \
    "lessons/passwd" "symbolic link"
publish_crafted hardlink 'entries.insert(3, entry("lessons/hard", type=tarfile.LNKTYPE, linkname="bundle.conf"))' \
    "link tricks: publish of an archive with a hard link" \
    "lessons/hard" "hard link"
publish_crafted sigtwice 's = data(".satchel/SIGNATURES"); put(".satchel/SIGNATURES", s + s)' \
    "duplicate signatures: the author's signature twice in a bundle" \
    ".satchel/SIGNATURES" "twice"

# A trust policy of threshold 2 whose one root signature appears twice.
run_satchel keygen "$TMP/root2.key"
run_satchel trust new --root-key "$TMP/root.key" --root-key "$TMP/root2.key" \
    --threshold 2 -o "$TMP/policy.t2"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/root.key" \
    --root-key "$TMP/root2.key" "$TMP/policy.t2" "$TMP/catalog.key.pub"
expect_success "a policy of threshold 2 (root, root2)"
ROOT_ID=$(key_id "$TMP/root.key.pub")
{ grep -v '^signature ' "$TMP/policy.t2"
  grep "^signature ed25519 $ROOT_ID " "$TMP/policy.t2"
  grep "^signature ed25519 $ROOT_ID " "$TMP/policy.t2"; } >"$TMP/policy.dup"
run_satchel trust show "$TMP/policy.dup"
expect_fail "duplicate signatures: one root signing twice does not make a threshold of 2" \
    "$TMP/policy.dup"
printf '%s\n' "$ERR" | diag
doctored usb-dup-policy
cp "$TMP/policy.dup" "$D/meta/trust"
run_satchel pull "$D" --store "$TMP/new-from-dup"
also "no store made" test ! -e "$TMP/new-from-dup/meta/catalog"
expect_fail "duplicate signatures: a drive whose policy counts one root twice makes no store" \
    "meta/trust"
printf '%s\n' "$ERR" | diag

# --- path traversal inside a signed manifest, served with a valid catalog -------

# evil_signed ARCHIVE OUT: ARCHIVE's manifest with a file
# ../../etc/cron.d/evil added, signed by the author, as a signed manifest
# (manifest, then signature block) in OUT.
evil_signed()
{
	python3 - "$1" "$TMP/author.key" "$2" <<'PYEOF' || diag "evil manifest failed"
import base64, hashlib, io, subprocess, sys, tarfile
from cryptography.hazmat.primitives import serialization
arc, keyf, out = sys.argv[1:4]
raw = subprocess.run(["zstd", "-dc", arc], check=True, stdout=subprocess.PIPE).stdout
t = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
m = t.extractfile(".satchel/MANIFEST").read().decode()
evil = b"* * * * * root id\n"
lines = m.split("\n")
i = next(n for n, l in enumerate(lines) if l.startswith("file "))
lines.insert(i, "file 644 %d %s ../../etc/cron.d/evil" %
             (len(evil), hashlib.sha256(evil).hexdigest()))
lines = [("files %d %d" % (int(l.split()[1]) + 1, int(l.split()[2]) + len(evil))
          if l.startswith("files ") else l) for l in lines]
m = "\n".join(lines).encode()
key = serialization.load_pem_private_key(open(keyf, "rb").read(), None)
pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw)
sig = key.sign(b"SATCHEL-MANIFEST-SIG-V1\0" + m)
with open(out, "wb") as f:
    f.write(m + b"signature ed25519 %s %s\n" % (
        hashlib.sha256(pub).hexdigest()[:16].encode(), base64.b64encode(sig)))
PYEOF
}

if have_crypto; then
	doctored evil-path
	evil_signed "$TMP/cb2.satchel" "$D/meta/releases/calligraphy-basics/2.signed"
	EVSHA=$(file_sum "$D/meta/releases/calligraphy-basics/2.signed")
	EVLEN=$(wc -c <"$D/meta/releases/calligraphy-basics/2.signed" | tr -d ' ')
	resign_catalog "$O/meta/catalog" "$D/meta/catalog" "$TMP/catalog.key" "
hdr['serial'] += 1
for b in bundles:
    if b[0] == 'calligraphy-basics':
        b[2] = '$EVSHA'
        b[3] = '$EVLEN'"
	HSTORE=$D net_case plain \
	    "path traversal: a manifest signed by the author naming ../../etc/cron.d/evil" \
	    "../../etc/cron.d/evil" '".." component'
	usb_case "$D" "path traversal: the same signed manifest on a USB drive" \
	    "../../etc/cron.d/evil" '".." component'
	HSTORE=$D mirror_case plain \
	    "path traversal: the same signed manifest from an upstream" \
	    "\\.\\./\\.\\./etc/cron\\.d/evil"
else
	skip "path traversal inside a signed manifest" \
	    "python3's cryptography module is missing"
fi

# --- a hostile publisher against satcheld (an origin) -------------------------------
#
# publisher.py PORT MODE [FILE]: one connection to satcheld; "getmeta"
# asks GET_META for the release FILE (a name) and prints the answer; "file" sends
# FILE as a PUBLISH (a signed manifest) and prints the PUBLISH_RESULT, or
# the ERROR; "1g" sends a PUBLISH piece announcing a 1 GiB manifest and
# prints the ERROR that must answer it.
cat >"$TMP/publisher.py" <<'PYEOF'
import socket, struct, sys

port, mode = int(sys.argv[1]), sys.argv[2]

def text(b):
    return struct.pack(">I", len(b)) + b

def frame(t, p):
    return struct.pack(">IH", len(p), t) + p

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed")
        b += c
    return b

def read_frame(s):
    n, t = struct.unpack(">IH", recv_exact(s, 6))
    return t, recv_exact(s, n)

s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(frame(1, b"SATCHEL\0" + struct.pack(">HIH", 1, 1 << 20, 0)))
t, p = read_frame(s)
assert t == 1, "no HELLO"
if mode == "getmeta":
    n = sys.argv[3].encode()
    s.sendall(frame(0x100, b"\x03" + text(n) + b"\x00"))
    t, p = read_frame(s)
    if t == 0x101:
        print("META status %d" % p[5 + len(n)])
    elif t == 2:
        print("ERROR %d: %s" % (struct.unpack(">H", p[:2])[0], p[6:].decode()))
    sys.exit(0)
if mode == "file":
    d = open(sys.argv[3], "rb").read()
    s.sendall(frame(0x300, struct.pack(">QQ", len(d), 0) + text(d)))
else:
    s.sendall(frame(0x300, struct.pack(">QQ", 1 << 30, 0) + text(b"x" * 1000)))
t, p = read_frame(s)
if t == 0x304:
    ok, serial = struct.unpack(">BQ", p[:9])
    print("PUBLISH_RESULT ok %d serial %d: %s" % (ok, serial, p[13:].decode()))
elif t == 2:
    print("ERROR %d: %s" % (struct.unpack(">H", p[:2])[0], p[6:].decode()))
else:
    print("frame type 0x%x" % t)
try:
    s.settimeout(10)
    print("closed" if s.recv(1) == b"" else "still open")
except OSError:
    print("still open")
PYEOF

start_satcheld DO "satcheld serves the origin" --store "$O"
OPORT=$PORT
OLOG=$DLOG

# still_serves DESCRIPTION: a good client pulls from the origin's daemon.
still_serves()
{
	_g=$(fresh_dir "served.$TEST_COUNT")
	run_satchel store init --trust "$TMP/policy" "$_g"
	run_satchel pull "satchel://127.0.0.1:$OPORT" --store "$_g"
	also "the daemon runs" kill -0 "$DO"
	expect_success "$1" "catalog serial 3"
}

snapshot "$O"
run python3 "$TMP/publisher.py" "$OPORT" 1g
unchanged "$O"
expect_success "endless data: a PUBLISH announcing a 1 GiB manifest: ERROR, closed, origin unchanged" \
    "/ERROR [12]: .*(1073741824|large|total)/" "closed"
diag "$OUT"
still_serves "... and the origin's daemon still serves a good pull"

for n in '../../../meta/catalog@1' 'calligraphy-basics@1/../../../trust' \
    '..@1' 'calligraphy-basics@../../trust'; do
	run python3 "$TMP/publisher.py" "$OPORT" getmeta "$n"
	expect_success "path traversal: GET_META of the release '$n': refused" \
	    "/ERROR 1: .*name|META status 2/"
	diag "$OUT"
done
still_serves "... and the origin's daemon still serves a good pull"

if have_crypto; then
	evil_signed "$TMP/cb3.satchel" "$TMP/evil3.signed"
	snapshot "$O"
	run python3 "$TMP/publisher.py" "$OPORT" file "$TMP/evil3.signed"
	unchanged "$O"
	expect_success "path traversal: a PUBLISH of an author-signed manifest naming ../../etc: refused" \
	    "PUBLISH_RESULT ok 0" "../../etc/cron.d/evil"
	diag "$OUT"
	still_serves "... and the origin's daemon still serves a good pull"
else
	skip "path traversal: a PUBLISH of a signed manifest naming ../../etc" \
	    "python3's cryptography module is missing"
fi
kill_recorded "$DO"
no_sanitizer "$OLOG"

done_testing
