#!/bin/sh
# pull.sh: `satchel pull` and `satchel gc`. A USB round trip (origin ->
# a new USB store -> a school's store, each archive byte for byte the
# published file), a partial pull, an update that copies only the changed
# files, every refusal on the pull path (a damaged, larger, shorter or
# missing object, a catalog by an unknown key, an older catalog or bundle,
# a swapped release manifest, an expired or forged catalog, a source that
# is not a store, a destination without a trust policy, a publisher the
# destination does not allow), each leaving the destination byte for byte
# as it was; resuming after SIGKILL; gc and pull --keep.
#
# PULL_SEED=N replays the random kill delays of the resume cases, as
# fractions of the measured pull time; PULL_TIME (seconds) replaces that
# time. Both are printed.
. "$(dirname "$0")/lib.sh"
need zstd tar python3 find xargs awk date sleep truncate ps stat id

cd "$TMP" || bail_out "cannot enter $TMP"

# --- helpers -----------------------------------------------------------------

# object_path SHA256: objects/ab/cdef..., relative to a store.
object_path()
{
	printf 'objects/%s/%s\n' "$(printf '%s' "$1" | cut -c 1-2)" \
	    "$(printf '%s' "$1" | cut -c 3-)"
}

# ls_serial DIR NAME: the serial `satchel ls DIR` shows for NAME (empty
# when it does not list NAME).
ls_serial()
{
	"$SATCHEL" ls "$1" 2>/dev/null | awk -v n="$2" '$1 == n { print $3 }'
}

# copy_store FROM NAME: a copy of the store FROM as $TMP/NAME, in $D.
copy_store()
{
	D=$TMP/$2
	rm -rf "$D"
	cp -a "$1" "$D"
}

# resign_catalog IN OUT KEY PYTHON: rewrites the catalog IN into OUT,
# signed by the private KEY alone. The PYTHON statements see `hdr` (a dict
# of serial, issued, expires) and `bundles` (a list of [name, serial,
# sha256, bytes], strings) and may change them. Needs the python3
# cryptography module (have_crypto).
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

# --- keys, trust policies --------------------------------------------------------

make_keys root catalog catalog2 author
CATALOG2_ID=$(key_id "$TMP/catalog2.key.pub")
AUTHOR_ID=$(key_id "$TMP/author.key.pub")

# policy: the origin's and the school's; policy2: another origin's, whose
# catalog key the school does not know; policy-cb: a school that takes
# only calligraphy-basics from that author.
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care new-citizen-orientation
expect_success "trust policy: catalog key, author for the example bundles" "serial 1"

make_policy "$TMP/policy2" "$TMP/catalog2.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "a second trust policy: only catalog2's key signs catalogs"

make_policy "$TMP/policy-cb" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
expect_success "a third trust policy: author allowed calligraphy-basics only"

# --- bundles -------------------------------------------------------------------------

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
LESSON=lessons/02-holding-the-brush/index.html
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2 (one lesson and bundle.conf changed)" \
    "serial 2"
OBJ_LESSON2=$(object_path "$(file_sum "$CB/$LESSON")")

make_repo family-health-care
FHC=$REPO
run_satchel build -C "$FHC" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care v1" "$AUTHOR_ID"

# A bigger bundle for the resume cases: 30 MB that do not compress.
make_repo new-citizen-orientation
head -c 30000000 /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/big1.satchel"
expect_success "build new-citizen-orientation with a 30 MB file" "serial 1"

archive_hashes "$TMP/cb1.satchel" >"$TMP/h.cb1"
archive_hashes "$TMP/cb2.satchel" >"$TMP/h.cb2"
archive_hashes "$TMP/fhc1.satchel" >"$TMP/h.fhc1"
archive_hashes "$TMP/big1.satchel" >"$TMP/h.big1"

# --- the origin ---------------------------------------------------------------------------

O=$TMP/origin
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
expect_success "store init: the origin" "new origin store"
run_satchel publish --store "$O" "$TMP/cb1.satchel"
expect_success "publish calligraphy-basics v1 to the origin" "catalog serial 2"
run_satchel publish --store "$O" "$TMP/fhc1.satchel"
expect_success "publish family-health-care v1 to the origin" "catalog serial 3"

# --- USB round trip -------------------------------------------------------------------------

USB=$TMP/usb
SCHOOL=$TMP/school
N_BOTH=$(count "$TMP/h.cb1" "$TMP/h.fhc1")

run_satchel pull "$O" --store "$USB"
also "STORE" test -f "$USB/STORE"
also "a mirror: no config" test ! -e "$USB/config"
also "meta/trust is the origin's policy" cmp -s "$USB/meta/trust" "$O/meta/trust"
also "meta/trust.d/ holds the origin's policy" \
    cmp -s "$USB/meta/trust.d/3.policy" "$O/meta/trust"
also "meta/catalog is the origin's, byte for byte" \
    cmp -s "$USB/meta/catalog" "$O/meta/catalog"
also "release files are the origin's" \
    cmp -s "$USB/meta/releases/calligraphy-basics/1.signed" \
    "$O/meta/releases/calligraphy-basics/1.signed"
also "objects are the origin's" test "$(objects "$USB")" = "$(objects "$O")"
also "tmp/ empty" dir_empty "$USB/tmp"
expect_success "pull ORIGIN --store USB: a new store with the origin's policy" \
    "$USB: new store; 2 releases updated, 0 already current; $N_BOTH files copied" \
    "0 already present; catalog serial 3"

run_satchel store init --trust "$TMP/policy" "$SCHOOL"
expect_success "store init --trust policy SCHOOL" "new mirror store"
run_satchel pull "$USB" --store "$SCHOOL"
also "tmp/ empty" dir_empty "$SCHOOL/tmp"
expect_success "pull USB --store SCHOOL" \
    "$SCHOOL: 2 releases updated, 0 already current; $N_BOTH files copied" \
    "catalog serial 3"
unlike "$OUT" "new store" "pull into an existing store does not call it new"

run_satchel archive --store "$SCHOOL" -o "$TMP/school-cb.satchel" calligraphy-basics
expect_success "archive calligraphy-basics from the school"
same_bytes "$TMP/school-cb.satchel" "$TMP/cb1.satchel" \
    "calligraphy-basics from the school equals the published file"
run_satchel archive --store "$SCHOOL" -o "$TMP/school-fhc.satchel" family-health-care
expect_success "archive family-health-care from the school"
same_bytes "$TMP/school-fhc.satchel" "$TMP/fhc1.satchel" \
    "family-health-care from the school equals the published file"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL: clean" "$SCHOOL: clean"
run_satchel fsck "$USB"
expect_success "fsck USB: clean" "$USB: clean"
run_satchel ls "$SCHOOL"
expect_success "ls SCHOOL lists both bundles" \
    '/^calligraphy-basics +1\.0 +1 /' '/^family-health-care +1\.0 +1 /'

# Copies at this state, for the rollback and refusal cases.
cp -a "$USB" "$TMP/usb-v1"
cp -a "$SCHOOL" "$TMP/school-v1"

# --- a partial pull -------------------------------------------------------------------------

S2=$TMP/school2
run_satchel store init --trust "$TMP/policy" "$S2"
expect_success "store init SCHOOL2"
run_satchel pull "$USB" --store "$S2" calligraphy-basics
also "only calligraphy-basics' objects" \
    test "$(objects "$S2")" = "$(cat "$TMP/h.cb1")"
also "no family-health-care release" test ! -e "$S2/meta/releases/family-health-care"
expect_success "pull USB --store SCHOOL2 calligraphy-basics: only that bundle" \
    "1 release updated" "$(count "$TMP/h.cb1") files copied"
run_satchel ls "$S2"
also "family-health-care not listed" test -z "$(printf '%s\n' "$OUT" | grep family-health-care)"
expect_success "ls SCHOOL2 shows only calligraphy-basics" '/^calligraphy-basics +1\.0 +1 /'
run_satchel fsck "$S2"
expect_success "fsck SCHOOL2 after a partial pull: clean" "clean"

snapshot "$S2"
run_satchel pull "$USB" --store "$S2" no-such-bundle
unchanged "$S2"
expect_fail "pull of an unknown NAME: refused naming it, store unchanged" \
    '"no-such-bundle"'

snapshot "$S2"
run_satchel pull "$USB" --store "$S2" family-health-care no-such-bundle
unchanged "$S2"
expect_fail "pull of a known and an unknown NAME: refused, nothing pulled" \
    '"no-such-bundle"'

run_satchel pull "$USB" --store "$S2"
expect_success "a later full pull adds the other bundle" \
    "1 release updated, 1 already current" \
    "$(LC_ALL=C comm -13 "$TMP/h.cb1" "$TMP/h.fhc1" | wc -l | tr -d ' ') files copied"
run_satchel ls "$S2"
expect_success "ls SCHOOL2 now lists both" \
    '/^calligraphy-basics +1\.0 +1 /' '/^family-health-care +1\.0 +1 /'
run_satchel archive --store "$S2" -o "$TMP/s2-fhc.satchel" family-health-care
same_bytes "$TMP/s2-fhc.satchel" "$TMP/fhc1.satchel" \
    "family-health-care from SCHOOL2 equals the published file"
run_satchel fsck "$S2"
expect_success "fsck SCHOOL2 after the full pull: clean" "clean"

# --- refusals that need no update -------------------------------------------------------------

mkdir "$TMP/not-a-store"
echo "notes" >"$TMP/not-a-store/notes.txt"
copy_store "$TMP/school-v1" r-notstore
snapshot "$D"
run_satchel pull "$TMP/not-a-store" --store "$D"
unchanged "$D"
expect_fail "pull from a directory that is not a store: refused, destination unchanged" \
    "$TMP/not-a-store" "not a Satchel store"

run_satchel pull "$TMP/not-a-store" --store "$TMP/never-made"
also "no destination created" test ! -e "$TMP/never-made"
expect_fail "pull from a non-store into a new directory: nothing created" \
    "not a Satchel store"

run_satchel store init "$TMP/no-trust"
expect_success "store init without --trust" "no trust policy"
snapshot "$TMP/no-trust"
run_satchel pull "$USB" --store "$TMP/no-trust"
unchanged "$TMP/no-trust"
expect_fail "pull into a store without a trust policy: refused, store unchanged" \
    "$TMP/no-trust" "no trust policy"

copy_store "$TMP/school-v1" r-nocatalog
snapshot "$D"
run_satchel pull "$TMP/no-trust" --store "$D"
unchanged "$D"
expect_fail "pull from a store with no catalog: refused, destination unchanged" \
    "$TMP/no-trust" "no catalog"

O2=$TMP/origin2
make_origin "$O2" "$TMP/policy2" "$TMP/catalog2.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel"
expect_success "a second origin, its catalog signed by catalog2's key"
# It carries the school's own policy: another policy of the same serial
# would be refused before the catalog is read (SPEC §7 "Rotation").
cp "$TMP/policy" "$O2/meta/trust"
run_satchel store init --trust "$TMP/policy" "$TMP/r-key"
snapshot "$TMP/r-key"
run_satchel pull "$O2" --store "$TMP/r-key"
unchanged "$TMP/r-key"
expect_fail "pull of a catalog signed by an unknown key: refused naming the key" \
    "$O2" "not signed by a catalog key" "$CATALOG2_ID"
copy_store "$TMP/school-v1" r-key2
snapshot "$D"
run_satchel pull "$O2" --store "$D"
unchanged "$D"
expect_fail "the same into a school that has a catalog: refused, school unchanged" \
    "not signed by a catalog key" "$CATALOG2_ID"

# A drive that carries the school's policy (as above), the origin's
# releases on it.
copy_store "$USB" usb-cb
cp "$TMP/policy-cb" "$TMP/usb-cb/meta/trust"
run_satchel store init --trust "$TMP/policy-cb" "$TMP/r-pub"
snapshot "$TMP/r-pub"
run_satchel pull "$TMP/usb-cb" --store "$TMP/r-pub"
unchanged "$TMP/r-pub"
expect_fail "pull of a bundle whose publisher the destination does not allow: refused" \
    "family-health-care@1" "not signed by a publisher"
run_satchel pull "$TMP/usb-cb" --store "$TMP/r-pub" calligraphy-basics
expect_success "... while the bundle it allows can be pulled alone" "1 release updated"

# --- update: v2 of one bundle -------------------------------------------------------------------

run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish calligraphy-basics v2 to the origin" "catalog serial 4"
NEW2=$(LC_ALL=C comm -13 "$TMP/h.cb1" "$TMP/h.cb2" | wc -l | tr -d ' ')
is "$NEW2" 2 "v2 changes exactly two files"

run_satchel pull "$O" --store "$USB"
also "USB's catalog is the origin's" cmp -s "$USB/meta/catalog" "$O/meta/catalog"
expect_success "pull ORIGIN --store USB after v2: only the changed files copied" \
    "$USB: 1 release updated, 1 already current; $NEW2 files copied" \
    "catalog serial 4"
run_satchel pull "$USB" --store "$SCHOOL"
also "the school's objects: v1, v2 and family-health-care" \
    test "$(objects "$SCHOOL")" = "$(LC_ALL=C sort -u "$TMP/h.cb1" "$TMP/h.cb2" "$TMP/h.fhc1")"
expect_success "pull USB --store SCHOOL after v2: only the changed files copied" \
    "$SCHOOL: 1 release updated, 1 already current; $NEW2 files copied" \
    "catalog serial 4"
run_satchel log "$SCHOOL" calligraphy-basics
also "serial 2 then serial 1" \
    test "$(printf '%s\n' "$OUT" | grep -o '(serial [0-9]*)' | tr '\n' ' ')" = \
    "(serial 2) (serial 1) "
expect_success "log SCHOOL shows both serials" \
    "calligraphy-basics 1.1 (serial 2)" "calligraphy-basics 1.0 (serial 1)"
run_satchel archive --store "$SCHOOL" -o "$TMP/school-cb2.satchel" calligraphy-basics
same_bytes "$TMP/school-cb2.satchel" "$TMP/cb2.satchel" \
    "v2 from the school equals the published file"
run_satchel archive --store "$SCHOOL" -o "$TMP/school-cb1.satchel" calligraphy-basics@1
same_bytes "$TMP/school-cb1.satchel" "$TMP/cb1.satchel" \
    "v1 is still retained at the school, byte for byte"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL after the update: clean" "clean"

objects "$SCHOOL" >"$TMP/objects.before"
run_satchel pull "$USB" --store "$SCHOOL"
also "no object added" test "$(objects "$SCHOOL")" = "$(cat "$TMP/objects.before")"
also "tmp/ empty" dir_empty "$SCHOOL/tmp"
expect_success "pulling again: already current, nothing copied" \
    "0 releases updated, 2 already current; 0 files copied"

# --- refusals on the pull path: damaged objects -------------------------------------------------

# Each from a copy of the USB drive at v2 into a copy of the school at v1,
# so that v2's new lesson must be copied.
copy_store "$USB" usb-flip
U=$D
chmod u+w "$U/$OBJ_LESSON2"
flip_byte "$U/$OBJ_LESSON2" 10
copy_store "$TMP/school-v1" r-flip
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "a USB object with a flipped byte: refused naming the bundle and file" \
    "calligraphy-basics@2" "\"$LESSON\"" "damaged"

copy_store "$USB" usb-longer
U=$D
chmod u+w "$U/$OBJ_LESSON2"
printf 'more bytes' >>"$U/$OBJ_LESSON2"
copy_store "$TMP/school-v1" r-longer
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "a USB object made larger: refused naming the file, school unchanged" \
    "calligraphy-basics@2" "\"$LESSON\"" "larger than"

copy_store "$USB" usb-shorter
U=$D
chmod u+w "$U/$OBJ_LESSON2"
truncate -s -1 "$U/$OBJ_LESSON2"
copy_store "$TMP/school-v1" r-shorter
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "a USB object one byte short: refused naming the file, school unchanged" \
    "calligraphy-basics@2" "\"$LESSON\"" "damaged"

copy_store "$USB" usb-missing
U=$D
rm -f "$U/$OBJ_LESSON2"
copy_store "$TMP/school-v1" r-missing
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "a USB object missing: refused naming the file, school unchanged" \
    "calligraphy-basics@2" "\"$LESSON\""

# --- refusals: catalogs and manifests ---------------------------------------------------------

copy_store "$SCHOOL" r-rollback
snapshot "$D"
run_satchel pull "$TMP/usb-v1" --store "$D"
unchanged "$D"
expect_fail "a USB copy older than the school's catalog: rollback refused, school unchanged" \
    "catalog serial 3" "serial 4" "rollback"

copy_store "$USB" usb-swap
U=$D
chmod u+w "$U/meta/releases/calligraphy-basics"
rm -f "$U/meta/releases/calligraphy-basics/2.signed"
cp "$U/meta/releases/calligraphy-basics/1.signed" \
    "$U/meta/releases/calligraphy-basics/2.signed"
copy_store "$TMP/school-v1" r-swap
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "release 2 replaced by release 1's manifest: not the one the catalog pins" \
    "calligraphy-basics@2" "not the one its catalog pins"

copy_store "$USB" usb-swap2
U=$D
rm -f "$U/meta/releases/calligraphy-basics/2.signed"
cp "$U/meta/releases/family-health-care/1.signed" \
    "$U/meta/releases/calligraphy-basics/2.signed"
copy_store "$TMP/school-v1" r-swap2
snapshot "$D"
run_satchel pull "$U" --store "$D"
unchanged "$D"
expect_fail "release 2 replaced by another bundle's manifest: refused" \
    "calligraphy-basics@2" "not the one its catalog pins"

if have_crypto; then
	resign_catalog "$O/meta/catalog" "$TMP/catalog.resigned" "$TMP/catalog.key" ''
	same_bytes "$TMP/catalog.resigned" "$O/meta/catalog" \
	    "the test's catalog signer reproduces the origin's catalog byte for byte"

	# Expired three days ago; otherwise the USB's v2 catalog.
	copy_store "$USB" usb-expired
	U=$D
	NOW=$(date +%s)
	resign_catalog "$USB/meta/catalog" "$U/meta/catalog" "$TMP/catalog.key" "
hdr['issued'] = $NOW - 10 * 86400
hdr['expires'] = $NOW - 3 * 86400"
	copy_store "$TMP/school-v1" r-expired
	snapshot "$D"
	run_satchel pull "$U" --store "$D"
	unchanged "$D"
	expect_fail "an expired catalog: refused naming the source, school unchanged" \
	    "$U: catalog serial 4 expired at"
	run_satchel pull --allow-expired "$U" --store "$D"
	also "the catalog is the expired one" cmp -s "$U/meta/catalog" "$D/meta/catalog"
	also "warning on stderr" test -n "$(printf '%s\n' "$ERR" | grep -F 'EXPIRED')"
	expect_success "pull --allow-expired accepts it and warns" "1 release updated"
	run_satchel archive --store "$D" -o "$TMP/expired-cb.satchel" calligraphy-basics
	same_bytes "$TMP/expired-cb.satchel" "$TMP/cb2.satchel" \
	    "after --allow-expired, v2 equals the published file"

	# An expiry moved a year ahead without re-signing (a freeze attack).
	copy_store "$USB" usb-forged
	U=$D
	python3 - "$U/meta/catalog" <<'PYEOF'
import re, sys
p = sys.argv[1]
t = open(p).read()
t2 = re.sub(r"^expires (\d+)$", lambda m: "expires %d" % (int(m.group(1)) + 365 * 86400),
            t, flags=re.M)
assert t2 != t
open(p, "w").write(t2)
PYEOF
	copy_store "$TMP/school-v1" r-forged
	snapshot "$D"
	run_satchel pull --allow-expired "$U" --store "$D"
	unchanged "$D"
	expect_fail "a catalog edited after signing: refused even with --allow-expired" \
	    "does not verify"

	# A newer catalog that lowers one bundle's serial back to v1.
	copy_store "$USB" usb-bundle-rollback
	U=$D
	V1PIN=$(awk '$1 == "bundle" && $2 == "calligraphy-basics" { print $4 }' \
	    "$TMP/usb-v1/meta/catalog")
	resign_catalog "$USB/meta/catalog" "$U/meta/catalog" "$TMP/catalog.key" "
hdr['serial'] += 1
for b in bundles:
    if b[0] == 'calligraphy-basics':
        b[1] = '1'
        b[2] = '$V1PIN'"
	copy_store "$SCHOOL" r-bundle-rollback
	snapshot "$D"
	run_satchel pull "$U" --store "$D"
	unchanged "$D"
	expect_fail "a newer catalog that lowers a bundle's serial: rollback refused" \
	    "calligraphy-basics serial 1" "serial 2" "rollback"
else
	skip "the expired, forged and per-bundle rollback catalogs" \
	    "no python3 cryptography module to sign a crafted catalog"
fi
run_satchel pull --allow-expired "$USB" --store "$SCHOOL"
expect_success "--allow-expired is accepted as an option (a current catalog: no warning)" \
    "0 releases updated"
unlike "$ERR" "EXPIRED" "no warning for a catalog that has not expired"

# --- gc ---------------------------------------------------------------------------------------------

# The origin holds calligraphy-basics v1 and v2 and family-health-care v1.
LC_ALL=C sort -u "$TMP/h.cb2" "$TMP/h.fhc1" >"$TMP/h.kept"
ONLY_V1=$(LC_ALL=C comm -23 "$TMP/h.cb1" "$TMP/h.kept" | wc -l | tr -d ' ')
isnt "$ONLY_V1" 0 "some objects are used by calligraphy-basics v1 only ($ONLY_V1)"

copy_store "$O" gc-origin
G=$D
snapshot "$G"
run_satchel gc --keep 2 "$G"
unchanged "$G"
expect_success "gc --keep 2: nothing removed, store unchanged" \
    "removed 0 releases and 0 objects"
run_satchel gc "$G"
expect_success "gc (default --keep 2): nothing removed" "removed 0 releases and 0 objects"

run_satchel gc --keep 1 "$G"
also "v1's release file removed" test ! -e "$G/meta/releases/calligraphy-basics/1.signed"
also "v2's release file kept" test -f "$G/meta/releases/calligraphy-basics/2.signed"
also "family-health-care kept" test -f "$G/meta/releases/family-health-care/1.signed"
also "the objects are exactly v2's and family-health-care's" \
    test "$(objects "$G")" = "$(cat "$TMP/h.kept")"
also "the catalog is unchanged" cmp -s "$G/meta/catalog" "$O/meta/catalog"
expect_success "gc --keep 1: removes v1's release and exactly the objects only v1 used" \
    "removed 1 releases and $ONLY_V1 objects"
run_satchel fsck "$G"
expect_success "fsck after gc --keep 1: clean" "clean"
run_satchel archive --store "$G" -o "$TMP/gc-cb2.satchel" calligraphy-basics
same_bytes "$TMP/gc-cb2.satchel" "$TMP/cb2.satchel" "after gc, v2 equals the published file"
run_satchel archive --store "$G" -o "$TMP/gc-fhc.satchel" family-health-care
same_bytes "$TMP/gc-fhc.satchel" "$TMP/fhc1.satchel" \
    "after gc, family-health-care equals the published file"
run_satchel archive --store "$G" -o "$TMP/gc-cb1.satchel" calligraphy-basics@1
also "no file written" test ! -e "$TMP/gc-cb1.satchel"
expect_fail "after gc --keep 1, archive NAME@1 fails" "calligraphy-basics@1" "not retained"
run_satchel publish --store "$G" "$TMP/cb1.satchel"
expect_fail "after gc, publishing v1 again is still a rollback" "rollback refused"

snapshot "$G"
run_satchel gc --keep 2 "$G"
unchanged "$G"
expect_success "gc --keep 2 after gc --keep 1: nothing removed" \
    "removed 0 releases and 0 objects"

mkdir -p "$G/tmp/pull-99"
echo leftover >"$G/tmp/pull-99/abc.part"
mkdir -p "$G/tmp/publish-XXXXXX"
echo '{' >"$G/meta/.catalog.tmp-AbC123"
echo x >"$G/meta/releases/calligraphy-basics/.3.signed.tmp-AbC123"
run_satchel gc "$G"
also "tmp/ emptied" dir_empty "$G/tmp"
also "an atomic write's temporary file in meta/ removed" \
    test ! -e "$G/meta/.catalog.tmp-AbC123"
also "and in meta/releases/NAME/" \
    test ! -e "$G/meta/releases/calligraphy-basics/.3.signed.tmp-AbC123"
also "the catalog kept" test -f "$G/meta/catalog"
expect_success "gc removes leftovers of interrupted work in tmp/ and meta/"

copy_store "$TMP/school-v1" pull-keep
run_satchel pull --keep 1 "$O" --store "$D"
also "v1's release file removed" test ! -e "$D/meta/releases/calligraphy-basics/1.signed"
also "v2's release file there" test -f "$D/meta/releases/calligraphy-basics/2.signed"
also "the objects are exactly v2's and family-health-care's" \
    test "$(objects "$D")" = "$(cat "$TMP/h.kept")"
expect_success "pull --keep 1: pulls v2, then gc removes v1 and its objects" \
    "1 release updated" "gc removed 1 releases and $ONLY_V1 objects"
run_satchel fsck "$D"
expect_success "fsck after pull --keep 1: clean" "clean"
run_satchel archive --store "$D" -o "$TMP/keep-cb2.satchel" calligraphy-basics
same_bytes "$TMP/keep-cb2.satchel" "$TMP/cb2.satchel" \
    "after pull --keep 1, v2 equals the published file"

# --- resume after SIGKILL ----------------------------------------------------------------------

OB=$TMP/origin-big
make_origin "$OB" "$TMP/policy" "$TMP/catalog.key" "$TMP/big1.satchel"
expect_success "an origin holding the 30 MB bundle"
N_BIG=$(count "$TMP/h.big1")

# How long a whole pull of it takes here.
run_satchel store init --trust "$TMP/policy" "$TMP/r0"
T0=$(now_ns)
run_satchel pull "$OB" --store "$TMP/r0"
T1=$(now_ns)
DUR=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }')
expect_success "an uninterrupted pull of the 30 MB bundle (${DUR} s)" \
    "$N_BIG files copied"

SEED=${PULL_SEED:-$(date +%s)}
DUR=${PULL_TIME:-$DUR}
diag "random kill delays: PULL_SEED=$SEED PULL_TIME=$DUR (set them to replay)"

# lacking DIR: counts the objects of the big bundle DIR still lacks
# (neither in objects/ nor checked in tmp/pull-*/), into LACKS.
lacking()
{
	LACKS=0
	for h in $(cat "$TMP/h.big1"); do
		if [ ! -e "$1/$(object_path "$h")" ] &&
		    [ -z "$(find "$1/tmp" -name "$h" 2>/dev/null)" ]; then
			LACKS=$((LACKS + 1))
		fi
	done
}

# Three pulls into a fresh store, each killed after a random delay.
for i in 1 2 3; do
	R=$TMP/resume-$i
	run_satchel store init --trust "$TMP/policy" "$R"
	DL=$(delay "$((SEED + i))" "$DUR")
	bg_start PID "$SATCHEL" pull "$OB" --store "$R"
	sleep "$DL"
	sigkill "$PID"
	lacking "$R"
	diag "kill $i (seed $((SEED + i))) after $DL s: exit status $BG_RC;" \
	    "tmp/: $(ls "$R/tmp" | tr '\n' ' '); objects still lacking: $LACKS of $N_BIG"
	run_satchel pull "$OB" --store "$R"
	expect_success "pull killed after $DL s: the next run exits 0 and copies only the $LACKS objects it lacks" \
	    "$LACKS files copied"
	run_satchel fsck "$R"
	also "tmp/ empty" dir_empty "$R/tmp"
	expect_success "fsck after the resumed pull $i: clean" "clean"
	run_satchel archive --store "$R" -o "$TMP/resume-$i.satchel" new-citizen-orientation
	same_bytes "$TMP/resume-$i.satchel" "$TMP/big1.satchel" \
	    "after the resumed pull $i, the archive equals the published file"
done

# A pull killed in the middle of a file leaves that part-copied file;
# the next run must resume over it as an ordinary user (root ignores a
# file's mode, so when we are root, that run is nobody's).
AS=
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
		AS="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups --"
	else
		AS=none
	fi
fi
PART=
if [ "$AS" != none ]; then
	RP=$TMP/resume-part
	j=1
	while [ "$j" -le 10 ] && [ -z "$PART" ]; do
		rm -rf "$RP"
		"$SATCHEL" store init --trust "$TMP/policy" "$RP" >/dev/null 2>&1
		DL=$(awk -v d="$DUR" -v s="$((SEED + 10 + j))" \
		    'BEGIN { srand(s); printf "%.4f\n", d * (0.3 + 0.6 * rand()) }')
		bg_start PID "$SATCHEL" pull "$OB" --store "$RP"
		sleep "$DL"
		sigkill "$PID"
		PART=$(find "$RP/tmp" -name '*.part' | head -n 1)
		j=$((j + 1))
	done
fi
if [ "$AS" = none ]; then
	skip "resume over a part-copied file as an ordinary user" \
	    "running as root without setpriv or a user nobody"
elif [ -z "$PART" ]; then
	skip "resume over a part-copied file as an ordinary user" \
	    "no kill of 10 landed in the middle of a file"
else
	diag "killed after $DL s, leaving ${PART#"$RP/"}" \
	    "($(stat -c '%s bytes, mode %a' "$PART"))"
	if [ -n "$AS" ]; then
		chmod 755 "$TMP"
		chown -R nobody "$RP"
	fi
	run $AS "$SATCHEL" pull "$OB" --store "$RP"
	expect_success "a pull killed in the middle of a file: the next run (as $(
	    [ -n "$AS" ] && echo nobody || id -un)) resumes over the part-copied file" \
	    "1 release updated"
	run_satchel fsck "$RP"
	expect_success "fsck after resuming over a part-copied file: clean" "clean"
	run_satchel archive --store "$RP" -o "$TMP/resume-part.satchel" new-citizen-orientation
	same_bytes "$TMP/resume-part.satchel" "$TMP/big1.satchel" \
	    "after resuming over a part-copied file, the archive equals the published file"
fi

# A sweep of kills across a pull that makes its destination (a USB drive
# being prepared): from 0 in steps of a thirtieth of its duration, until
# one lands after the end. Whatever state each leaves, the next pull
# completes and the store is clean. The small origin keeps it quick and
# its steps fine enough to land in the store's creation.
T0=$(now_ns)
run_satchel pull "$O" --store "$TMP/sweep0"
T1=$(now_ns)
STEP=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 / 30 }')
expect_success "an uninterrupted pull into a new directory (steps of $STEP s)" "new store"
RU=$TMP/sweep
FAILS=
HALF=0
KILLS=0
k=0
while [ "$k" -le 60 ]; do
	DL=$(awk -v s="$STEP" -v k="$k" 'BEGIN { printf "%.4f\n", s * k }')
	rm -rf "$RU"
	bg_start PID "$SATCHEL" pull "$O" --store "$RU"
	sleep "$DL"
	sigkill "$PID"
	[ "$BG_RC" = 0 ] && break
	KILLS=$((KILLS + 1))
	state="STORE written"
	if [ ! -e "$RU" ]; then
		state="no directory yet"
	elif [ ! -f "$RU/STORE" ]; then
		state="a directory without STORE: $(cd "$RU" && find . | LC_ALL=C sort | tr '\n' ' ')"
		HALF=$((HALF + 1))
	fi
	run_satchel pull "$O" --store "$RU"
	if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ]; then
		FAILS="$FAILS
killed after $DL s ($state): the next pull exited $RC: $(printf '%s\n' "$ERR" |
    grep -v '^copying: ' | head -n 3)"
	else
		run_satchel fsck "$RU"
		[ "$RC" -eq 0 ] || FAILS="$FAILS
killed after $DL s ($state): fsck exited $RC: $OUT"
		[ "$(ls_serial "$RU" calligraphy-basics)" = 2 ] || FAILS="$FAILS
killed after $DL s ($state): ls after the next pull: $("$SATCHEL" ls "$RU" 2>&1)"
	fi
	k=$((k + 1))
done
diag "$KILLS kills landed, $HALF of them while the store was being made"
if [ -n "$FAILS" ]; then
	printf '%s\n' "$FAILS" | sed 1d | head -n 20 | diag
fi
[ -z "$FAILS" ] && [ "$KILLS" -gt 0 ]
ok $? "a pull into a new directory, killed at each of $KILLS points: the next pull completes, fsck clean"

# --- two pulls at once -------------------------------------------------------------------------
# Both into one new store from the same source: the lock serialises them
# and both complete; the second finds everything current.

rm -rf "$TMP/conc" "$TMP/conc-src"
cp -a "$O" "$TMP/conc-src"
bg_start P1 "$SATCHEL" pull "$TMP/conc-src" --store "$TMP/conc"
E1=$BG_ERR
bg_start P2 "$SATCHEL" pull "$TMP/conc-src" --store "$TMP/conc"
E2=$BG_ERR
bg_wait "$P1"
R1=$BG_RC
bg_wait "$P2"
R2=$BG_RC
[ "$R1" = 0 ] && [ "$R2" = 0 ]
ok $? "two pulls into one store at once both exit 0 ($R1, $R2)" ||
	{ head -n 5 "$E1" | diag; head -n 5 "$E2" | diag; }
run_satchel fsck "$TMP/conc"
expect_success "and the store is clean" "clean"
run_satchel ls "$TMP/conc"
expect_success "and lists what the source holds" "calligraphy-basics" "family-health-care"

# --- progress ------------------------------------------------------------------------------------
# On a terminal, a bar with bytes, rate and ETA; otherwise plain lines.

if command -v script >/dev/null 2>&1; then
	rm -rf "$TMP/prog-tty"
	script -qec "'$SATCHEL' pull '$O' --store '$TMP/prog-tty'" "$TMP/typescript" \
	    >/dev/null 2>&1 </dev/null
	also "the pull on a terminal succeeds" test -f "$TMP/prog-tty/STORE"
	grep -q 'ETA [0-9]*:[0-9][0-9]' "$TMP/typescript"
	ok $? "on a terminal, progress is a bar with an ETA" ||
		tail -c 400 "$TMP/typescript" | diag
	grep -q '/s, ETA' "$TMP/typescript" && grep -q '\[#' "$TMP/typescript"
	ok $? "with a rate and a bar"
else
	skip "on a terminal, progress is a bar with an ETA" "no script(1)"
	skip "with a rate and a bar" "no script(1)"
fi
rm -rf "$TMP/prog-plain"
run_satchel pull "$O" --store "$TMP/prog-plain"
expect_success "a pull to a pipe succeeds"
like "$ERR" '/^copying: [0-9]+% \(/' "and prints plain progress lines"
unlike "$ERR" 'ETA' "without the terminal bar"

# --- --help and usage errors ------------------------------------------------------------------

run_satchel pull --help
expect_success "pull --help" "usage: satchel pull"
run_satchel gc --help
expect_success "gc --help" "usage: satchel gc"
run_satchel pull "$O"
expect_usage "pull without --store: usage error" "--store"
run_satchel pull --store "$SCHOOL"
expect_usage "pull without a SOURCE: usage error"
run_satchel pull --keep 0 "$O" --store "$SCHOOL"
expect_usage "pull --keep 0: usage error" "--keep"
run_satchel gc
expect_usage "gc without a DIR: usage error"
run_satchel gc --keep 0 "$SCHOOL"
expect_usage "gc --keep 0: usage error" "--keep"

done_testing
