#!/bin/sh
# trust-rotation.sh: trust policies signed by a threshold of root keys and
# replaced one serial at a time (SPEC §7 "Rotation", §10, §11): `satchel
# trust` changes a policy only with a threshold of the old roots and of
# the new (1-of-1 rotation; roots added, a threshold raised; 2-of-3 with
# one key replaced; the threshold lowered); `satchel store set-trust` puts
# the chain in force on the origin; a mirror offline for five rotations
# walks the chain from a store on disk, from a real satcheld, and as a
# satcheld mirror; every
# refusal (the old roots' threshold missed, the new roots' missed, a
# rollback, the same serial with other bytes, a link missing, one key's
# signature twice, a catalog or a release signed only by a revoked key)
# exits 1 naming the policy and what was wrong, and leaves the mirror's
# store byte for byte as it was.
. "$(dirname "$0")/lib.sh"
need cp cmp grep awk
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# sig_line POLICY KEYNAME: POLICY's signature line by the key KEYNAME.pub.
sig_line()
{
	grep "^signature ed25519 $(key_id "$TMP/$2.key.pub") " "$1"
}

# without_sig IN OUT KEYNAME: OUT is IN without KEYNAME's signature.
without_sig()
{
	grep -v "^signature ed25519 $(key_id "$TMP/$3.key.pub") " "$1" >"$2"
}

# copy_store FROM TO: TO is a copy of the store FROM (times kept).
copy_store()
{
	rm -rf "$2"
	cp -a "$1" "$2"
}

# source_with BASE DIR POLICY...: DIR is a copy of the store BASE that
# holds the POLICYs (in order) in meta/trust.d, the last in force: a
# source made by hand, as an attacker (or a damaged disk) would.
source_with()
{
	_base=$1
	_dir=$2
	shift 2
	copy_store "$_base" "$_dir"
	for _p in "$@"; do
		_s=$(sed -n 's/^serial //p' "$_p" | head -n 1)
		cp "$_p" "$_dir/meta/trust.d/$_s.policy"
		cp "$_p" "$_dir/meta/trust"
	done
}

# copy_edit FROM TO ARGS...: TO is a copy of the policy FROM, then
# `satchel trust ARGS...` runs (ARGS name TO where the verb wants it).
copy_edit()
{
	cp "$1" "$2"
	shift 2
	run_satchel trust "$@"
}

# --- keys, the first policy, bundles, the origin -------------------------------

make_keys r1 r2 r3 r4 r5 cat cat2 author author2
ID_R1=$(key_id "$TMP/r1.key.pub")
ID_R2=$(key_id "$TMP/r2.key.pub")
ID_R4=$(key_id "$TMP/r4.key.pub")
ID_R5=$(key_id "$TMP/r5.key.pub")
ID_CAT=$(key_id "$TMP/cat.key.pub")
ID_CAT2=$(key_id "$TMP/cat2.key.pub")
ID_AUTH=$(key_id "$TMP/author.key.pub")
ID_AUTH2=$(key_id "$TMP/author2.key.pub")

P=$TMP/p
run_satchel trust new --root-key "$TMP/r1.key" -o "$P.1"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/r1.key" \
    "$P.1" "$TMP/cat.key.pub"
also "add-publisher" "$SATCHEL" trust add-publisher --root-key \
    "$TMP/r1.key" "$P.1" "$TMP/author.key.pub" 'calligraphy-*'
expect_success "policy: root r1 (1 of 1), catalog key, author" \
    "new trust policy, serial 1, 1 root key"
cp "$P.1" "$P.3"
run_satchel trust show "$P.3"
expect_success "the policy is at serial 3, signed by r1" "serial:    3" \
    "threshold: 1 of 1 root keys" "signed by $ID_R1"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2" "serial 2"
run_satchel build -C "$CB" --key "$TMP/author2.key" -o "$TMP/cb2b.satchel"
expect_success "build calligraphy-basics v2 signed by author2" "serial 2"

O=$TMP/origin
make_origin "$O" "$P.3" "$TMP/cat.key" "$TMP/cb1.satchel"
expect_success "the origin at policy 3, calligraphy-basics 1 published"
O3=$TMP/origin3
copy_store "$O" "$O3"

M3=$TMP/m3
run_satchel pull "$O" --store "$M3"
expect_success "a mirror takes the origin's policy 3 and its release" \
    "new store; 1 release updated"
also "its meta/trust.d/3.policy" cmp -s "$M3/meta/trust.d/3.policy" "$P.3"

# --- 1 of 1: r1 hands over to r2 ------------------------------------------------

copy_edit "$P.3" "$P.4x" replace-root --root-key "$TMP/r1.key" \
    "$P.4x" "$TMP/r1.key.pub" "$TMP/r2.key.pub"
also "the policy file is unchanged" cmp -s "$P.4x" "$P.3"
expect_fail "1 of 1: only the old root r1 signs: the new root's threshold is missed" \
    "trust policy 4: signed by 0 of its own 1 root keys, threshold 1"
copy_edit "$P.3" "$P.4x" replace-root --root-key "$TMP/r2.key" \
    "$P.4x" "$TMP/r1.key.pub" "$TMP/r2.key.pub"
also "the policy file is unchanged" cmp -s "$P.4x" "$P.3"
expect_fail "1 of 1: only the new root r2 signs: the old root's threshold is missed" \
    "trust policy 4: signed by 0 of the 1 root keys of policy 3, threshold 1"
copy_edit "$P.3" "$P.4" replace-root --root-key "$TMP/r1.key" \
    --root-key "$TMP/r2.key" "$P.4" "$TMP/r1.key.pub" "$TMP/r2.key.pub"
expect_success "1 of 1: r1 replaced by r2, signed by both" \
    "serial 4, root key $ID_R1 replaced by $ID_R2"

run_satchel store set-trust "$O" "$P.4"
also "meta/trust is policy 4" cmp -s "$O/meta/trust" "$P.4"
also "meta/trust.d/4.policy" cmp -s "$O/meta/trust.d/4.policy" "$P.4"
also "meta/trust.d/3.policy is kept" cmp -s "$O/meta/trust.d/3.policy" "$P.3"
expect_success "store set-trust: the origin takes policy 4" \
    "trust policy 4 now in force (was 3)"

M=$TMP/m-1of1
copy_store "$M3" "$M"
run_satchel pull "$O" --store "$M"
also "meta/trust is policy 4" cmp -s "$M/meta/trust" "$P.4"
also "meta/trust.d/4.policy" cmp -s "$M/meta/trust.d/4.policy" "$P.4"
expect_success "a mirror at policy 3 pulls and takes policy 4" \
    "trust policy 4 now in force (1 policy of the chain accepted)"
M4=$TMP/m4
copy_store "$M" "$M4"

# --- roots added, the threshold raised; 2 of 3 with one key replaced ------------

copy_edit "$P.4" "$P.5" add-root --root-key "$TMP/r2.key" "$P.5" \
    "$TMP/r3.key.pub"
expect_success "add-root r3 (signed by r2)" "serial 5, root key"
copy_edit "$P.5" "$P.6x" add-root --threshold 2 --root-key "$TMP/r2.key" \
    "$P.6x" "$TMP/r4.key.pub"
also "the policy file is unchanged" cmp -s "$P.6x" "$P.5"
expect_fail "add-root r4 raising the threshold to 2, signed by r2 alone: refused" \
    "trust policy 6: signed by 1 of its own 3 root keys, threshold 2"
copy_edit "$P.5" "$P.6" add-root --threshold 2 --root-key "$TMP/r2.key" \
    --root-key "$TMP/r4.key" "$P.6" "$TMP/r4.key.pub"
expect_success "add-root r4 raising the threshold to 2, signed by r2 and r4" \
    "serial 6, root key $ID_R4 added; threshold 2"
run_satchel trust show "$P.6"
expect_success "policy 6: 2 of 3 root keys" "threshold: 2 of 3 root keys"

copy_edit "$P.6" "$P.7x" replace-root --root-key "$TMP/r2.key" \
    --root-key "$TMP/r5.key" "$P.7x" "$TMP/r4.key.pub" "$TMP/r5.key.pub"
also "the policy file is unchanged" cmp -s "$P.7x" "$P.6"
expect_fail "2 of 3: r4 replaced by r5, signed by r2 and r5: 1 old root is too few" \
    "trust policy 7: signed by 1 of the 3 root keys of policy 6, threshold 2"
copy_edit "$P.6" "$P.7" replace-root --root-key "$TMP/r2.key" \
    --root-key "$TMP/r3.key" "$P.7" "$TMP/r4.key.pub" "$TMP/r5.key.pub"
expect_success "2 of 3: r4 replaced by r5, signed by r2 and r3 (roots of both)" \
    "serial 7, root key $ID_R4 replaced by $ID_R5"

# The same change signed by two people in turn: r2 writes it with
# --partial, r3 adds a signature; the result is policy 7 byte for byte.
cp "$P.6" "$P.6copy"
run_satchel trust replace-root --partial --root-key "$TMP/r2.key" \
    -o "$P.7d" "$P.6copy" "$TMP/r4.key.pub" "$TMP/r5.key.pub"
also "the policy it changes is unchanged" cmp -s "$P.6copy" "$P.6"
expect_success "2 of 3, one signer at a time: r2 writes the change with --partial" \
    "serial 7: signed by 1 of its own 3 root keys (threshold 2), by 1 of the 3 root keys of policy 6 (threshold 2): more signatures needed"
run_satchel trust show "$P.7d"
expect_fail "show refuses the half-signed policy" \
    "trust policy 7: signed by 1 of its own 3 root keys, threshold 2"
source_with "$O3" "$TMP/s" "$P.4" "$P.5" "$P.6" "$P.7d"
copy_store "$M3" "$TMP/victim"
snapshot "$TMP/victim"
run_satchel pull "$TMP/s" --store "$TMP/victim"
unchanged "$TMP/victim"
expect_fail "a pull refuses the half-signed policy 7" \
    "trust policy 7: signed by 1 of its own 3 root keys, threshold 2"
run_satchel trust sign --root-key "$TMP/r4.key" "$P.7d"
expect_fail "sign without --previous: r4, an old root only, is refused" \
    "is not a root key of this policy"
run_satchel trust sign --root-key "$TMP/r3.key" --previous "$P.6" "$P.7d"
expect_success "r3 signs it: both thresholds met" \
    "by 2 of the 3 root keys of policy 6 (threshold 2): complete"
same_bytes "$P.7d" "$P.7" "the policy signed in turn is policy 7 byte for byte"

copy_edit "$P.7" "$P.8x" set-threshold --root-key "$TMP/r2.key" "$P.8x" 1
also "the policy file is unchanged" cmp -s "$P.8x" "$P.7"
expect_fail "threshold lowered to 1, signed by r2 alone: the old threshold 2 is missed" \
    "trust policy 8: signed by 1 of the 3 root keys of policy 7, threshold 2"
copy_edit "$P.7" "$P.8" set-threshold --root-key "$TMP/r2.key" \
    --root-key "$TMP/r5.key" "$P.8" 1
expect_success "threshold lowered to 1, signed by r2 and r5" \
    "serial 8, threshold 1 (was 2)"
copy_edit "$P.8" "$P.9x" remove-root --root-key "$TMP/r2.key" "$P.9x" \
    "$TMP/r1.key.pub"
expect_fail "remove-root of a key that is not a root" \
    "is not a root key"
copy_edit "$P.8" "$P.9x" add-catalog --root-key "$TMP/r1.key" "$P.9x" \
    "$TMP/cat2.key.pub"
also "the policy file is unchanged" cmp -s "$P.9x" "$P.8"
expect_fail "a revoked root key signs alone: not a root of either policy" \
    "key $ID_R1 is not a root key of this policy or its successor"

snapshot "$O"
run_satchel store set-trust "$O" "$P.6" "$P.5"
unchanged "$O"
expect_fail "store set-trust of 6 before 5: refused, the origin unchanged" \
    "trust policy 6 does not follow the policy 4 in force (policy 5 is needed first)"
without_sig "$P.8" "$P.8-no-r5" r5
run_satchel store set-trust "$O" "$P.5" "$P.6" "$P.7" "$P.8-no-r5"
unchanged "$O"
expect_fail "store set-trust 5 6 7 and a bad 8: none taken" \
    "trust policy 8: signed by 1 of the 3 root keys of policy 7"
run_satchel store set-trust "$O" "$P.5" "$P.6" "$P.7" "$P.8"
also "meta/trust is policy 8" cmp -s "$O/meta/trust" "$P.8"
for _s in 3 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$O/meta/trust.d/$_s.policy" "$P.$_s"
done
expect_success "store set-trust 5 6 7 8: the origin at policy 8" \
    "trust policy 8 now in force (was 4)"
snapshot "$O"
run_satchel store set-trust "$O" "$P.4"
unchanged "$O"
expect_fail "store set-trust of policy 4 on a store at 8: rollback refused" \
    "trust policy 4 is older than the policy 8 in force (rollback refused)"
run_satchel store set-trust "$O" "$P.8"
expect_success "store set-trust of the policy in force: nothing to do" \
    "trust policy 8 already in force"
run_satchel fsck "$O"
expect_success "fsck of the origin: the chain 3..8 checks"

# --- a mirror offline for five rotations walks the chain -------------------------

M=$TMP/m-walk-local
copy_store "$M3" "$M"
run_satchel pull "$O" --store "$M"
also "meta/trust is policy 8" cmp -s "$M/meta/trust" "$P.8"
for _s in 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$M/meta/trust.d/$_s.policy" "$P.$_s"
done
expect_success "pull from the origin's store: 3 -> 8, five policies" \
    "trust policy 8 now in force (5 policies of the chain accepted)"
M8=$TMP/m8
copy_store "$M" "$M8"
run_satchel fsck "$M"
expect_success "fsck of the mirror: the chain checks" "clean"
M=$TMP/m-fsck
copy_store "$M8" "$M"
rm -f "$M/meta/trust.d/6.policy"
run_satchel fsck "$M"
like "$OUT" "trust policy 7 does not follow the policy 5 in force" \
    "fsck reports a link missing from meta/trust.d"
copy_store "$M8" "$M"
copy_edit "$P.6" "$P.7all" replace-root --root-key "$TMP/r2.key" \
    --root-key "$TMP/r3.key" --root-key "$TMP/r5.key" "$P.7all" \
    "$TMP/r4.key.pub" "$TMP/r5.key.pub"
expect_success "policy 7 again, signed by r2, r3 and r5" "serial 7"
without_sig "$P.7all" "$P.7-r2r5" r3
chmod u+w "$M/meta/trust.d/7.policy"
cp "$P.7-r2r5" "$M/meta/trust.d/7.policy"
run_satchel fsck "$M"
like "$OUT" "trust policy 7: signed by 1 of the 3 root keys of policy 6, threshold 2" \
    "fsck reports a link that too few of the old roots signed"
expect_fail "fsck: the store has problems" "problem"

start_satcheld DO "satcheld serves the origin at policy 8" --store "$O" \
    --http-listen 127.0.0.1:0
URL=satchel://127.0.0.1:$PORT
HPORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$_pf")
M=$TMP/m-walk-net
copy_store "$M3" "$M"
run_satchel pull "$URL" --store "$M"
also "meta/trust is policy 8" cmp -s "$M/meta/trust" "$P.8"
for _s in 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$M/meta/trust.d/$_s.policy" "$P.$_s"
done
expect_success "pull $URL: 3 -> 8, each policy between asked for by its serial" \
    "trust policy 8 now in force (5 policies of the chain accepted)"
M=$TMP/m-walk-net2
copy_store "$M4" "$M"
run_satchel pull "$URL" --store "$M"
also "meta/trust is policy 8" cmp -s "$M/meta/trust" "$P.8"
expect_success "pull $URL from policy 4: four policies" \
    "trust policy 8 now in force (4 policies of the chain accepted)"
run_satchel pull "$URL" --store "$M"
unlike "$OUT" "trust policy" "a pull at the newest policy accepts none"
expect_success "a second pull finds policy 8 in force"

# The same walk over the static transport: satcheld's /store/ serves
# meta/trust.d/ as any web server would.
M=$TMP/m-walk-http
copy_store "$M3" "$M"
run_satchel pull "http://127.0.0.1:$HPORT/store/" --store "$M"
also "meta/trust is policy 8" cmp -s "$M/meta/trust" "$P.8"
expect_success "pull http://.../store/ from policy 3: the chain over HTTP" \
    "trust policy 8 now in force (5 policies of the chain accepted)"

# A USB drive made from the origin takes the whole chain, so that a school
# several rotations behind can walk it from the drive.
USB=$TMP/usb
run_satchel pull "$URL" --store "$USB"
for _s in 3 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$USB/meta/trust.d/$_s.policy" "$P.$_s"
done
also "meta/trust is policy 8" cmp -s "$USB/meta/trust" "$P.8"
expect_success "pull $URL into a new store (a USB drive): the chain 3..8 with it" \
    "new store"
USB2=$TMP/usb2
run_satchel pull "$O" --store "$USB2"
for _s in 3 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$USB2/meta/trust.d/$_s.policy" "$P.$_s"
done
expect_success "pull of the origin's store into a new store: the chain too" \
    "new store"
M=$TMP/m-walk-usb
copy_store "$M3" "$M"
run_satchel pull "$USB" --store "$M"
also "meta/trust is policy 8" cmp -s "$M/meta/trust" "$P.8"
expect_success "a school at policy 3 walks the chain from the drive" \
    "trust policy 8 now in force (5 policies of the chain accepted)"

# satcheld mirroring the origin, its store left at policy 3.
M=$TMP/m-walk-daemon
copy_store "$M3" "$M"
start_satcheld DM "a mirror's satcheld at policy 3, upstream $URL" \
    --store "$M" --upstream "$URL" --interval 2 --retry 1
also "its store reaches policy 8 within 60 s" \
    wait_until 60 cmp -s "$M/meta/trust" "$P.8"
for _s in 4 5 6 7 8; do
	also "meta/trust.d/$_s.policy" cmp -s "$M/meta/trust.d/$_s.policy" "$P.$_s"
done
also "it logs the walk" wait_until 20 log_has "$DLOG" "trust policy 8 \\(5 new\\)"
ok 0 "satcheld --upstream walks the chain 3 -> 8 as a pull does"
kill_recorded "$DM"

# --- every refusal, the victim unchanged ---------------------------------------

# refused DESCRIPTION VICTIM SOURCE PATTERN...: a pull of SOURCE into a
# copy of the store VICTIM is refused with the PATTERNs and leaves it as
# it was.
refused()
{
	_desc=$1
	_v=$TMP/victim
	copy_store "$2" "$_v"
	_src=$3
	shift 3
	snapshot "$_v"
	run_satchel pull "$_src" --store "$_v"
	unchanged "$_v"
	expect_fail "$_desc" "$@"
}

# The old roots' threshold missed: policy 4 without r1's signature.
without_sig "$P.4" "$P.4-no-r1" r1
source_with "$O3" "$TMP/s" "$P.4-no-r1"
refused "policy 4 signed by its own root only: the old root's threshold is missed" \
    "$M3" "$TMP/s" \
    "trust policy 4: signed by 0 of the 1 root keys of policy 3, threshold 1"
# The new roots' threshold missed: policy 4 without r2's signature.
without_sig "$P.4" "$P.4-no-r2" r2
source_with "$O3" "$TMP/s" "$P.4-no-r2"
refused "policy 4 signed by the old root only: its own threshold is missed" \
    "$M3" "$TMP/s" \
    "trust policy 4: signed by 0 of its own 1 root keys, threshold 1"
# 2 of 3: policy 7 signed by r2 and r5 only (2 of its own roots, 1 of
# policy 6's; made above with r3's signature too, which was dropped).
source_with "$O3" "$TMP/s" "$P.4" "$P.5" "$P.6" "$P.7-r2r5" "$P.8"
refused "a chain 4..8 whose policy 7 has 1 of the 3 old roots: none of it taken" \
    "$M3" "$TMP/s" \
    "trust policy 7: signed by 1 of the 3 root keys of policy 6, threshold 2"
# One key's signature twice: r2's line doubled where r3's was (counted
# twice, it would reach policy 7's own threshold 2 and policy 6's).
without_sig "$P.7" "$P.7-no-r3" r3
awk -v id="$ID_R2" '{ print } $0 ~ "^signature ed25519 " id " " { print }' \
    "$P.7-no-r3" >"$P.7-r2-twice"
also "the crafted policy names r2 twice" \
    test "$(grep -c "^signature ed25519 $ID_R2 " "$P.7-r2-twice")" -eq 2
source_with "$O3" "$TMP/s" "$P.4" "$P.5" "$P.6" "$P.7-r2-twice" "$P.8"
refused "policy 7 with r2's signature twice: refused, never counted twice" \
    "$M3" "$TMP/s" "7.policy" "key $ID_R2 signs twice"
# The same at the newest policy, over the network.
kill_recorded "$DO"
source_with "$O3" "$TMP/s-net" "$P.4" "$P.5" "$P.6" "$P.7-r2r5"
start_satcheld DS "satcheld serves a source whose policy 7 has 1 old root" \
    --store "$TMP/s-net"
refused "pull satchel://: the old roots' threshold missed at policy 7" \
    "$M3" "satchel://127.0.0.1:$PORT" \
    "trust policy 7: signed by 1 of the 3 root keys of policy 6, threshold 2"
kill_recorded "$DS"
# Rollback: the source's policy 6 is older than the mirror's 8.
source_with "$O3" "$TMP/s" "$P.4" "$P.5" "$P.6"
refused "a source at policy 6, the mirror at 8: rollback refused" \
    "$M8" "$TMP/s" \
    "trust policy 6 is older than the policy 8 in force (rollback refused)"
# The same serial, other bytes.
copy_edit "$P.3" "$P.4alt" add-publisher --root-key "$TMP/r1.key" \
    "$P.4alt" "$TMP/author.key.pub" 'literacy-*'
expect_success "another policy 4 (a fork: a pattern added)" "serial 4"
source_with "$O3" "$TMP/s" "$P.4alt"
refused "a source with another policy 4 than the mirror's 4: refused" \
    "$M4" "$TMP/s" \
    "trust policy 4 differs from the policy 4 in force, which has the same serial"
# A link missing from the source's chain.
source_with "$O3" "$TMP/s" "$P.4" "$P.5" "$P.6" "$P.7" "$P.8"
rm -f "$TMP/s/meta/trust.d/6.policy"
refused "a source that lacks policy 6 of the chain: refused" \
    "$M3" "$TMP/s" "the source has no trust policy 6 (needed to go from policy 3 to 8)"

# --- revoked keys: what only they signed is refused -----------------------------

# The catalog key replaced: a source at policy 9 whose catalog is still
# signed by the revoked key (its thief, say).
copy_edit "$P.8" "$P.9c" replace-catalog --root-key "$TMP/r2.key" \
    "$P.9c" "$TMP/cat.key.pub" "$TMP/cat2.key.pub"
expect_success "policy 9: catalog key replaced by cat2" \
    "serial 9, catalog key $ID_CAT replaced by $ID_CAT2"
copy_store "$O" "$TMP/o9"
snapshot "$TMP/o9"
run_satchel store set-trust "$TMP/o9" "$P.9c"
unchanged "$TMP/o9"
expect_fail "store set-trust on an origin whose catalog key policy 9 revokes: refused" \
    "which trust policy 9 does not list"
source_with "$O" "$TMP/s" "$P.9c"
refused "a catalog signed only by the revoked catalog key: refused" \
    "$M8" "$TMP/s" "not signed by a catalog key"
refused "... also for a mirror at policy 3 that walks to 9 (it keeps 3)" \
    "$M3" "$TMP/s" "not signed by a catalog key"
M=$TMP/m-cat
copy_store "$M8" "$M"
run_satchel pull "$O" --store "$M"
expect_success "the origin (policy 8, catalog by cat) still pulls at policy 8" \
    "already current"
# The origin's operator points catalog-key at cat2, then set-trust: the
# catalog is signed again with cat2, and mirrors take both.
sed "s|^catalog-key = .*|catalog-key = $TMP/cat2.key|" "$O/config" \
    >"$TMP/o9/config"
CSERIAL=$(catalog_serial "$TMP/o9")
run_satchel store set-trust "$TMP/o9" "$P.9c"
also "the catalog's serial went up by one" \
    test "$(catalog_serial "$TMP/o9")" -eq $((CSERIAL + 1))
also "the catalog is signed by cat2" grep -q "^signature ed25519 $ID_CAT2 " \
    "$TMP/o9/meta/catalog"
expect_success "catalog-key set to cat2, then store set-trust: policy 9, catalog signed again" \
    "trust policy 9 now in force (was 8)" "catalog signed again"
run_satchel pull "$TMP/o9" --store "$M"
also "meta/trust is policy 9" cmp -s "$M/meta/trust" "$P.9c"
also "meta/catalog is the origin's" cmp -s "$M/meta/catalog" "$TMP/o9/meta/catalog"
expect_success "a mirror at policy 8 takes policy 9 and the catalog cat2 signed" \
    "trust policy 9 now in force"

# The publisher key replaced: author's v2 is refused, author2's taken.
copy_edit "$P.8" "$P.9p" replace-publisher --root-key "$TMP/r2.key" \
    "$P.9p" "$TMP/author.key.pub" "$TMP/author2.key.pub"
expect_success "policy 9: publisher author replaced by author2" \
    "serial 9, publisher key $ID_AUTH replaced by $ID_AUTH2"
run_satchel trust show "$P.9p"
expect_success "author2 keeps author's patterns" \
    "publisher  $ID_AUTH2  calligraphy-*"
copy_store "$O" "$TMP/s"
run_satchel publish --store "$TMP/s" "$TMP/cb2.satchel"
also "set-trust 9" "$SATCHEL" store set-trust "$TMP/s" "$P.9p"
expect_success "a source: v2 signed by author published, then policy 9"
refused "a release signed only by the revoked publisher key: refused" \
    "$M8" "$TMP/s" "calligraphy-basics@2 is not signed by a publisher"
copy_store "$O" "$TMP/s2"
run_satchel store set-trust "$TMP/s2" "$P.9p"
expect_success "another source takes policy 9" "trust policy 9 now in force"
snapshot "$TMP/s2"
run_satchel publish --store "$TMP/s2" "$TMP/cb2.satchel"
unchanged "$TMP/s2"
expect_fail "the origin at policy 9 refuses author's (revoked) signature" \
    "publisher"
run_satchel publish --store "$TMP/s2" "$TMP/cb2b.satchel"
expect_success "the origin at policy 9 takes v2 signed by author2"
M=$TMP/m-pub
copy_store "$M8" "$M"
run_satchel pull "$TMP/s2" --store "$M"
also "meta/trust is policy 9" cmp -s "$M/meta/trust" "$P.9p"
expect_success "v2 signed by author2 (the replacement) is taken with policy 9" \
    "trust policy 9 now in force" "1 release updated"

done_testing
