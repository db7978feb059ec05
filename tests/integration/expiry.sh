#!/bin/sh
# expiry.sh: a catalog past its expiry (freeze attack) is refused by pull,
# leaving the destination as it was, and accepted with --allow-expired,
# which says so. The origin's catalog-expiry is set to 1 second in its
# config so that the catalog expires during the test.
. "$(dirname "$0")/lib.sh"

for k in root catalog author; do
	run_satchel keygen "$TMP/$k.key"
	expect_success "keygen $k"
done
run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy"
expect_success "trust new"
run_satchel trust add-catalog --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/catalog.key.pub"
expect_success "trust add-catalog"
run_satchel trust add-publisher --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/author.key.pub" 'calligraphy-*'
expect_success "trust add-publisher"
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build"

O=$TMP/origin
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
expect_success "store init (origin)"
printf 'catalog-expiry = 1\n' >> "$O/config"
run_satchel publish --store "$O" "$TMP/cb.satchel"
expect_success "publish with a catalog that expires after 1 s" "catalog serial 2"

S=$TMP/school
run_satchel store init --trust "$TMP/policy" "$S"
expect_success "store init (school)"
sleep 2
before=$(fingerprint "$S")
run_satchel pull "$O" --store "$S"
expect_fail "pull of an expired catalog is refused" "expired" "catalog serial 2"
is "$(fingerprint "$S")" "$before" "the school store is unchanged"
is "$(ls -A "$S/tmp")" "" "and its tmp/ is empty"

run_satchel pull --allow-expired "$O" --store "$S"
expect_success "pull --allow-expired accepts it" "1 release updated"
like "$ERR" "EXPIRED" "and warns that the catalog was expired"
run_satchel ls "$S"
expect_success "ls lists the bundle" "calligraphy-basics"
run_satchel fsck "$S"
expect_success "fsck clean" "clean"

printf 'catalog-expiry = 0\n' > "$TMP/bad-config"
cp "$TMP/bad-config" "$O/config"
run_satchel ls "$O"
expect_fail "a config with catalog-expiry 0 is refused, naming file:line" \
    "config:1" "catalog-expiry"

done_testing
