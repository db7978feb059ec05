#!/bin/sh
# netpull.sh: `satchel pull satchel://HOST:PORT` against a real satcheld
# (SPEC §10 "Pulling" over §11): a new school's store from the origin,
# each archive byte for byte the published file; a second pull that finds
# everything current; v2 published while the daemon runs, then only the
# changed files fetched; a chain origin -> school A -> satcheld on A ->
# school B; a resumed object (a .part holding half of an 8 MiB file is
# continued, not fetched again); refusals (a catalog key the school does
# not trust, a stopped daemon, nothing listening), each leaving the
# school's store as it was.
. "$(dirname "$0")/lib.sh"
need date sleep head sha256sum cut
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# serve PIDVAR PORTVAR STORE: satcheld serving STORE (start_satcheld); its
# port in PORTVAR.
serve()
{
	start_satcheld "$1" "satcheld serves $(basename "$3")" --store "$3"
	eval "$2=\$PORT"
}

# --- keys, policies, bundles ----------------------------------------------------

make_keys root catalog catalog2 author
CATALOG_ID=$(key_id "$TMP/catalog.key.pub")

make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care new-citizen-orientation
expect_success "trust policy: catalog key, author for the example bundles"
make_policy "$TMP/policy2" "$TMP/catalog2.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "a second policy: only catalog2's key signs catalogs"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2" "serial 2"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care v1"
make_repo new-citizen-orientation
head -c 8388608 /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/big1.satchel"
expect_success "build new-citizen-orientation with an 8 MiB file" "serial 1"
archive_hashes "$TMP/cb1.satchel" >"$TMP/h.cb1"
archive_hashes "$TMP/cb2.satchel" >"$TMP/h.cb2"
archive_hashes "$TMP/fhc1.satchel" >"$TMP/h.fhc1"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel"
expect_success "the origin, with two bundles published"

serve DO OPORT "$O"
URL=satchel://127.0.0.1:$OPORT

# --- a new school's store over the network --------------------------------------------

SCHOOL=$TMP/school
N_BOTH=$(count "$TMP/h.cb1" "$TMP/h.fhc1")
run_satchel pull "$URL" --store "$SCHOOL"
also "meta/trust is the origin's policy" cmp -s "$SCHOOL/meta/trust" "$O/meta/trust"
also "meta/catalog is the origin's, byte for byte" \
    cmp -s "$SCHOOL/meta/catalog" "$O/meta/catalog"
also "release files are the origin's" \
    cmp -s "$SCHOOL/meta/releases/calligraphy-basics/1.signed" \
    "$O/meta/releases/calligraphy-basics/1.signed"
also "objects are the origin's" test "$(objects "$SCHOOL")" = "$(objects "$O")"
also "tmp/ empty" dir_empty "$SCHOOL/tmp"
expect_success "pull $URL --store SCHOOL: a new store" \
    "$SCHOOL: new store; 2 releases updated, 0 already current; $N_BOTH files copied" \
    "catalog serial 3"

run_satchel archive --store "$SCHOOL" -o "$TMP/s-cb.satchel" calligraphy-basics
expect_success "archive calligraphy-basics from the school"
same_bytes "$TMP/s-cb.satchel" "$TMP/cb1.satchel" \
    "calligraphy-basics from the school equals the published file"
run_satchel archive --store "$SCHOOL" -o "$TMP/s-fhc.satchel" family-health-care
expect_success "archive family-health-care from the school"
same_bytes "$TMP/s-fhc.satchel" "$TMP/fhc1.satchel" \
    "family-health-care from the school equals the published file"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL: clean" "$SCHOOL: clean"

objects "$SCHOOL" >"$TMP/school.objects"
cp "$SCHOOL/meta/catalog" "$TMP/school.catalog"
run_satchel pull "$URL" --store "$SCHOOL"
also "no object added" test "$(objects "$SCHOOL")" = "$(cat "$TMP/school.objects")"
also "the same catalog" cmp -s "$SCHOOL/meta/catalog" "$TMP/school.catalog"
also "tmp/ empty" dir_empty "$SCHOOL/tmp"
expect_success "pull again: already current, nothing copied" \
    "0 releases updated, 2 already current; 0 files copied"

# --- v2 published while the daemon runs -------------------------------------------------

run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish calligraphy-basics v2 to the origin" "catalog serial 4"
NEW2=$(LC_ALL=C comm -13 "$TMP/h.cb1" "$TMP/h.cb2" | wc -l | tr -d ' ')
run_satchel pull "$URL" --store "$SCHOOL"
also "the school's catalog is the origin's" cmp -s "$SCHOOL/meta/catalog" "$O/meta/catalog"
also "the school's objects: v1, v2 and family-health-care" \
    test "$(objects "$SCHOOL")" = "$(LC_ALL=C sort -u "$TMP/h.cb1" "$TMP/h.cb2" "$TMP/h.fhc1")"
expect_success "pull after v2: only the $NEW2 changed files copied" \
    "$SCHOOL: 1 release updated, 1 already current; $NEW2 files copied" \
    "catalog serial 4"
run_satchel archive --store "$SCHOOL" -o "$TMP/s-cb2.satchel" calligraphy-basics
expect_success "archive calligraphy-basics v2 from the school"
same_bytes "$TMP/s-cb2.satchel" "$TMP/cb2.satchel" \
    "calligraphy-basics v2 from the school equals the published file"

# --- a chain: origin -> school A -> satcheld on A -> school B -------------------------------

serve DA APORT "$SCHOOL"
B=$TMP/school-b
run_satchel store init --trust "$TMP/policy" "$B"
run_satchel pull "satchel://127.0.0.1:$APORT" --store "$B"
also "B's catalog is the origin's" cmp -s "$B/meta/catalog" "$O/meta/catalog"
also "B's objects: v2 and family-health-care" \
    test "$(objects "$B")" = "$(LC_ALL=C sort -u "$TMP/h.cb2" "$TMP/h.fhc1")"
expect_success "pull from satcheld on school A into school B" \
    "$B: 2 releases updated, 0 already current" "catalog serial 4"
run_satchel archive --store "$B" -o "$TMP/b-cb2.satchel" calligraphy-basics
expect_success "archive calligraphy-basics from school B"
same_bytes "$TMP/b-cb2.satchel" "$TMP/cb2.satchel" \
    "calligraphy-basics from school B equals the published file"
run_satchel archive --store "$B" -o "$TMP/b-fhc.satchel" family-health-care
expect_success "archive family-health-care from school B"
same_bytes "$TMP/b-fhc.satchel" "$TMP/fhc1.satchel" \
    "family-health-care from school B equals the published file"
run_satchel fsck "$B"
expect_success "fsck B: clean" "$B: clean"
kill_recorded "$DA"

# --- resume: a .part holding half of an object is continued -------------------------------

run_satchel publish --store "$O" "$TMP/big1.satchel"
expect_success "publish new-citizen-orientation to the origin" "catalog serial 5"
R=$TMP/school-r
run_satchel store init --trust "$TMP/policy" "$R"
BIGSUM=$(sha256sum "$TMP/new-citizen-orientation/big.bin" | cut -d ' ' -f 1)
mkdir -p "$R/tmp/pull-5"
head -c 4194304 "$TMP/new-citizen-orientation/big.bin" >"$R/tmp/pull-5/$BIGSUM.part"
run_satchel pull "$URL" --store "$R" new-citizen-orientation
also "tmp/ empty" dir_empty "$R/tmp"
expect_success "a .part with 4 of 8 MiB: only the rest fetched" \
    '/1 release updated, 0 already current; [0-9]+ files copied \(4\.[0-2] MiB\)/'
run_satchel archive --store "$R" -o "$TMP/r-big.satchel" new-citizen-orientation
expect_success "archive new-citizen-orientation after the resumed pull"
same_bytes "$TMP/r-big.satchel" "$TMP/big1.satchel" \
    "the resumed bundle equals the published file"
R2=$TMP/school-r2
run_satchel store init --trust "$TMP/policy" "$R2"
snapshot "$R2"
mkdir -p "$R2/tmp/pull-5"
head -c 4194304 /dev/urandom >"$R2/tmp/pull-5/$BIGSUM.part"
run_satchel pull "$URL" --store "$R2" new-citizen-orientation
unchanged "$R2"
expect_fail "a .part that is not the object's prefix: refused, removed" \
    "new-citizen-orientation@1" "big.bin" "damaged"
run_satchel pull "$URL" --store "$R2" new-citizen-orientation
expect_success "... and the next pull fetches it whole" \
    '/1 release updated, 0 already current; [0-9]+ files copied \(8\.[0-2] MiB\)/'

# --- refusals ---------------------------------------------------------------------------

K=$TMP/school-k
# The server serves K's own policy (another policy of the same serial
# would be refused before the catalog, SPEC §7 "Rotation") and the
# catalog that catalog.key, which policy2 does not list, signed.
cp "$TMP/policy2" "$O/meta/trust"
run_satchel store init --trust "$TMP/policy2" "$K"
snapshot "$K"
run_satchel pull "$URL" --store "$K"
unchanged "$K"
expect_fail "a catalog key the school does not trust: refused naming the catalog" \
    "$URL" "not signed by a catalog key"

cp -a "$SCHOOL" "$TMP/school-s"
snapshot "$TMP/school-s"
kill_recorded "$DO"
run_satchel pull "$URL" --store "$TMP/school-s"
unchanged "$TMP/school-s"
expect_fail "the daemon stopped: refused naming the address, store unchanged" \
    "$URL" "cannot connect"

T0=$(date +%s)
run_satchel pull satchel://127.0.0.1:1 --store "$TMP/school-s"
T1=$(date +%s)
unchanged "$TMP/school-s"
expect_fail "nothing listening: refused promptly" "satchel://127.0.0.1:1" \
    "cannot connect"
ok "$([ $((T1 - T0)) -lt 5 ] && echo 0 || echo 1)" \
    "... within 5 s ($((T1 - T0)) s)"

run_satchel pull satchel://127.0.0.1 --store "$TMP/school-s"
unchanged "$TMP/school-s"
expect_fail "an address without a port: refused" "satchel://HOST:PORT"

done_testing
