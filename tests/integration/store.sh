#!/bin/sh
# store.sh: the store commands. `satchel store init` (an origin and a
# mirror), `publish` (deduplicated objects, a new signed catalog, and every
# refusal: rollback, a publisher outside its names, unsigned, unknown key,
# a tampered file, a mirror), `ls`, `log`, `archive` (byte for byte the
# published file), `fsck` (clean, then each kind of damage) and two
# publishes at once. Every refusal must leave the store as it was.
. "$(dirname "$0")/lib.sh"
need zstd tar python3 find xargs awk

cd "$TMP" || bail_out "cannot enter $TMP"

# --- helpers -----------------------------------------------------------------

# bad_objects DIR: every object whose content does not hash to its name,
# and every object that is not mode 0444.
bad_objects()
{
	find "$1/objects" -type f | while read -r f; do
		n=$(printf '%s' "${f#"$1/objects/"}" | tr -d /)
		[ "$(file_sum "$f")" = "$n" ] || echo "content: $f"
		[ "$(stat -c %a "$f")" = 444 ] || echo "mode $(stat -c %a "$f"): $f"
	done
}

# --- keys and a trust policy ----------------------------------------------------

make_keys root catalog author literacy stranger
AUTHOR_ID=$(key_id "$TMP/author.key.pub")
LITERACY_ID=$(key_id "$TMP/literacy.key.pub")
STRANGER_ID=$(key_id "$TMP/stranger.key.pub")

run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy"
expect_success "trust new" "serial 1"
run_satchel trust add-catalog --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/catalog.key.pub"
expect_success "trust add-catalog" "catalog key"
run_satchel trust add-publisher --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/author.key.pub" calligraphy-basics family-health-care \
    new-citizen-orientation
expect_success "trust add-publisher (author: the example bundles)" "$AUTHOR_ID"
run_satchel trust add-publisher --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/literacy.key.pub" 'literacy-*'
expect_success "trust add-publisher (literacy: literacy-*)" "$LITERACY_ID"
POLICY_SERIAL=4

# --- bundles ---------------------------------------------------------------------

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"

cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2 (one lesson and bundle.conf changed)" \
    "serial 2"

make_repo family-health-care
FHC=$REPO
run_satchel build -C "$FHC" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care signed by author" "$AUTHOR_ID"
run_satchel build -C "$FHC" --key "$TMP/literacy.key" -o "$TMP/fhc-literacy.satchel"
expect_success "build family-health-care signed only by the literacy-* key" \
    "$LITERACY_ID"

make_repo new-citizen-orientation
NCO=$REPO
run_satchel build -C "$NCO" --key "$TMP/author.key" -o "$TMP/nco1.satchel"
expect_success "build new-citizen-orientation signed by author" "$AUTHOR_ID"
run_satchel build -C "$NCO" -o "$TMP/nco-unsigned.satchel"
expect_success "build new-citizen-orientation unsigned"
run_satchel build -C "$NCO" --key "$TMP/stranger.key" -o "$TMP/nco-stranger.satchel"
expect_success "build new-citizen-orientation signed by a key the policy lacks" \
    "$STRANGER_ID"

# --- store init --------------------------------------------------------------------

O=$TMP/origin
M=$TMP/mirror

run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
also "STORE" test -f "$O/STORE"
also "config names the catalog key" grep -Fqx "catalog-key = $TMP/catalog.key" "$O/config"
also "objects/" test -d "$O/objects"
also "no object yet" dir_empty "$O/objects"
also "meta/trust is the policy" cmp -s "$O/meta/trust" "$TMP/policy"
also "meta/trust.d/$POLICY_SERIAL.policy is the policy" \
    cmp -s "$O/meta/trust.d/$POLICY_SERIAL.policy" "$TMP/policy"
also "meta/catalog" test -f "$O/meta/catalog"
also "meta/releases/ empty" dir_empty "$O/meta/releases"
also "tmp/ empty" dir_empty "$O/tmp"
expect_success "store init --trust --catalog-key: an origin with the whole layout" \
    "$O: new origin store"
like "$(head -n 2 "$O/meta/catalog" 2>&1)" "/^satchel-catalog 1
serial 1\$/" "store init: the origin's first catalog is serial 1"
run_satchel fsck "$O"
expect_success "fsck: a new origin is clean" "clean"

run_satchel store init --trust "$TMP/policy" "$M"
also "STORE" test -f "$M/STORE"
also "no config" test ! -e "$M/config"
also "no catalog" test ! -e "$M/meta/catalog"
also "meta/trust is the policy" cmp -s "$M/meta/trust" "$TMP/policy"
also "objects/" test -d "$M/objects"
also "meta/releases/" test -d "$M/meta/releases"
also "tmp/" dir_empty "$M/tmp"
expect_success "store init --trust without --catalog-key: a mirror" "$M: new mirror store"

run_satchel store init "$TMP/bare"
also "STORE" test -f "$TMP/bare/STORE"
also "no trust policy" test ! -e "$TMP/bare/meta/trust"
expect_success "store init without options: a mirror with no trust policy yet" \
    "mirror" "no trust policy"

mkdir "$TMP/busy"
echo "keep me" >"$TMP/busy/notes.txt"
run_satchel store init --trust "$TMP/policy" "$TMP/busy"
also "the directory is left alone" test "$(ls -A "$TMP/busy")" = notes.txt
expect_fail "store init refuses a non-empty directory" "$TMP/busy" "not empty"

snapshot "$O"
run_satchel store init --trust "$TMP/policy" "$O"
unchanged "$O"
expect_fail "store init refuses an existing store" "$O" "not empty"

run_satchel store init --catalog-key "$TMP/catalog.key" "$TMP/no-trust"
also "nothing created" test ! -e "$TMP/no-trust"
expect_fail "store init --catalog-key without --trust is refused" "--trust"

run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/stranger.key" \
    "$TMP/wrong-key"
also "nothing created" test ! -e "$TMP/wrong-key"
expect_fail "store init with a catalog key the policy lacks: names the key" \
    "$STRANGER_ID" "not a catalog key"

run_satchel ls "$TMP/busy"
expect_fail "ls on a directory that is not a store" "$TMP/busy" "not a Satchel store"
run_satchel ls "$O"
expect_success "ls on an empty origin"

# --- publish v1 -----------------------------------------------------------------------

T0=$(date +%s)
run_satchel publish --store "$O" "$TMP/cb1.satchel"
expect_success "publish calligraphy-basics v1" \
    "published calligraphy-basics 1.0 (serial 1)" \
    "$(archive_hashes "$TMP/cb1.satchel" | wc -l | tr -d ' ') new files" \
    "0 already present" "catalog serial 2"
T1=$(date +%s)
is "$(catalog_serial "$O")" 2 "publish v1: the catalog serial is 2"

archive_hashes "$TMP/cb1.satchel" >"$TMP/hashes1"
objects "$O" >"$TMP/objects1"
same_bytes "$TMP/objects1" "$TMP/hashes1" \
    "publish v1: one object per distinct file content, named by its SHA-256"
is "$(bad_objects "$O")" "" \
    "publish v1: every object is mode 0444 and its sha256sum equals its path name"
is "$(stat -c %a "$O/meta/releases/calligraphy-basics/1.signed" 2>&1)" 444 \
    "publish v1: the signed manifest meta/releases/calligraphy-basics/1.signed, mode 0444"
also "tmp/ empty" dir_empty "$O/tmp"
ok 0 "publish v1: nothing left in tmp/"

run_satchel ls "$O"
expect_success "ls: name, label, serial 1, 3 lessons" \
    '/^calligraphy-basics +1\.0 +1 +[0-9.]+ [KMG]?i?B +3  [0-9]{4}-/'

run_satchel ls --json "$O"
printf '%s\n' "$OUT" >"$TMP/ls.json"
also "exit 0" test "$RC" -eq 0
also "no sanitizer report" test "$SANITIZED" -eq 0
also "python3 -m json.tool accepts it" python3 -m json.tool "$TMP/ls.json"
is "$(python3 - "$TMP/ls.json" "$TMP/cb1.satchel" "$T0" "$T1" <<'PYEOF' 2>&1
import io, json, subprocess, sys, tarfile
d = json.load(open(sys.argv[1]))
raw = subprocess.run(["zstd", "-dc", sys.argv[2]], check=True,
                     stdout=subprocess.PIPE).stdout
files = [ti for ti in tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
         if ti.isfile() and not ti.name.startswith(".satchel/")]
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
assert len(d) == 1, d
e = d[0]
print(e["name"], e["label"], e["serial"], e["lessons"], e["title"],
      e["files"] == len(files), e["bytes"] == sum(ti.size for ti in files),
      t0 <= e["published"] <= t1)
PYEOF
)" "calligraphy-basics 1.0 1 3 Brush Calligraphy Basics True True True" \
    "ls --json: valid JSON with name, label, serial, lessons, title, files, bytes, published"

run_satchel archive --store "$O" -o "$TMP/out1.satchel" calligraphy-basics
expect_success "archive the current release" "$TMP/out1.satchel"
same_bytes "$TMP/out1.satchel" "$TMP/cb1.satchel" \
    "archive: v1 comes back out byte for byte as published"

# --- publish v2: only the changed files are new --------------------------------------

N1=$(wc -l <"$TMP/objects1" | tr -d ' ')
archive_hashes "$TMP/cb2.satchel" >"$TMP/hashes2"
NEW2=$(LC_ALL=C comm -13 "$TMP/hashes1" "$TMP/hashes2" | wc -l | tr -d ' ')
OLD2=$(LC_ALL=C comm -12 "$TMP/hashes1" "$TMP/hashes2" | wc -l | tr -d ' ')
is "$NEW2" 2 "v2 changes exactly two files (a lesson and bundle.conf)"

run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish calligraphy-basics v2: unchanged files already present" \
    "published calligraphy-basics 1.1 (serial 2)" "$NEW2 new files" \
    "$OLD2 already present" "catalog serial 3"
is "$(objects "$O" | wc -l | tr -d ' ')" $((N1 + NEW2)) \
    "publish v2: the store grew by exactly the changed files' objects"
LC_ALL=C sort -u "$TMP/hashes1" "$TMP/hashes2" >"$TMP/hashes12"
objects "$O" >"$TMP/objects2"
same_bytes "$TMP/objects2" "$TMP/hashes12" \
    "publish v2: the objects are exactly the contents of v1 and v2"
is "$(bad_objects "$O")" "" "publish v2: every object is 0444 and named by its SHA-256"
is "$(catalog_serial "$O")" 3 "publish v2: the catalog serial grew to 3"

run_satchel log "$O" calligraphy-basics
printf '%s\n' "$OUT" >"$TMP/log"
also "serial 2 then serial 1, nothing else" \
    test "$(grep -o '(serial [0-9]*)' "$TMP/log" | tr '\n' ' ')" = "(serial 2) (serial 1) "
also "v2's changelog line in its entry" \
    test "$(sed -n '1,/^$/p' "$TMP/log" | grep -c '^  - Release 1\.1$')" = 1
also "v1's changelog line in its entry" \
    test "$(sed -n '/(serial 1)/,$p' "$TMP/log" | grep -c '^  - Import calligraphy-basics$')" = 1
also "v1's entry does not hold v2's changelog" \
    test "$(sed -n '/(serial 1)/,$p' "$TMP/log" | grep -c 'Release 1\.1')" = 0
expect_success "log: serial 2 then serial 1, each with its changelog" \
    '/^calligraphy-basics 1\.1 \(serial 2\)/' "calligraphy-basics 1.0 (serial 1)" \
    "  commit $(git -C "$CB" rev-parse HEAD)" "  commit $(git -C "$CB" rev-parse HEAD~1)"

run_satchel ls "$O"
expect_success "ls after v2: label 1.1, serial 2" \
    '/^calligraphy-basics +1\.1 +2 +[0-9.]+ [KMG]?i?B +3  /'

# --- refusals: rollback ------------------------------------------------------------------

snapshot "$O"
run_satchel publish --store "$O" "$TMP/cb1.satchel"
unchanged "$O"
expect_fail "publish v1 after v2: rollback refused, store unchanged" \
    "calligraphy-basics" "serial 1" "current serial 2" "rollback refused"

snapshot "$O"
run_satchel publish --store "$O" "$TMP/cb2.satchel"
unchanged "$O"
expect_fail "publish the same serial again: refused, store unchanged" \
    "calligraphy-basics" "serial 2 is not greater" "current serial 2"

# --- refusals: trust ----------------------------------------------------------------------

snapshot "$O"
run_satchel publish --store "$O" "$TMP/fhc-literacy.satchel"
unchanged "$O"
expect_fail "publish of family-health-care signed only by the literacy-* key: refused" \
    "$LITERACY_ID" '"family-health-care"' "does not allow"

snapshot "$O"
run_satchel publish --store "$O" "$TMP/nco-unsigned.satchel"
unchanged "$O"
expect_fail "publish of an unsigned bundle: refused, store unchanged" \
    "nco-unsigned.satchel" "no signature by a publisher key"

snapshot "$O"
run_satchel publish --store "$O" "$TMP/nco-stranger.satchel"
unchanged "$O"
expect_fail "publish of a bundle signed by an unknown key: refused, store unchanged" \
    "nco-stranger.satchel" "no signature by a publisher key"

# --- refusals: a tampered archive -------------------------------------------------------------

retar "$TMP/nco1.satchel" "$TMP/nco-tampered.satchel" '
b = bytearray(data("lessons/02-community/index.html"))
b[200] ^= 0x20
put("lessons/02-community/index.html", bytes(b))'
snapshot "$O"
run_satchel publish --store "$O" "$TMP/nco-tampered.satchel"
unchanged "$O"
expect_fail "publish of an archive with one changed byte: refused naming the file, store unchanged" \
    '"lessons/02-community/index.html"' "altered"

# The last file of the archive: every other file was staged by then.
LAST=$(archive_list "$TMP/nco1.satchel" | tail -n 1)
retar "$TMP/nco1.satchel" "$TMP/nco-tampered-last.satchel" "
b = bytearray(data('$LAST'))
b[len(b) // 2] ^= 0x01
put('$LAST', bytes(b))"
snapshot "$O"
run_satchel publish --store "$O" "$TMP/nco-tampered-last.satchel"
unchanged "$O"
expect_fail "publish with the archive's last file changed: refused, nothing staged is left" \
    "\"$LAST\"" "altered"

# --- refusals: a mirror -----------------------------------------------------------------------

snapshot "$M"
run_satchel publish --store "$M" "$TMP/cb1.satchel"
unchanged "$M"
expect_fail "publish to a mirror: refused, mirror unchanged" "$M" "not an origin"

# --- archive ------------------------------------------------------------------------------------

run_satchel archive --store "$O" -o "$TMP/out2.satchel" calligraphy-basics
expect_success "archive after v2: the current release" "$TMP/out2.satchel"
same_bytes "$TMP/out2.satchel" "$TMP/cb2.satchel" \
    "archive NAME after v2 equals the published v2 byte for byte"

run_satchel archive --store "$O" -o "$TMP/out1b.satchel" calligraphy-basics@1
expect_success "archive NAME@1 after v2" "calligraphy-basics@1"
same_bytes "$TMP/out1b.satchel" "$TMP/cb1.satchel" \
    "archive NAME@1 after v2 equals the published v1 byte for byte"

run_satchel archive --store "$O" -o "$TMP/out9.satchel" calligraphy-basics@9
also "no file written" test ! -e "$TMP/out9.satchel"
expect_fail "archive NAME@9: no such release" "calligraphy-basics" "no release 9"

run_satchel archive --store "$O" -o "$TMP/outx.satchel" no-such-bundle
also "no file written" test ! -e "$TMP/outx.satchel"
expect_fail "archive of an unknown name" '"no-such-bundle"'

run_satchel log "$O" no-such-bundle
expect_fail "log of an unknown name" '"no-such-bundle"'

# --- two publishes at once ----------------------------------------------------------------------

S0=$(catalog_serial "$O")
bg_start P1 "$SATCHEL" publish --store "$O" "$TMP/fhc1.satchel"
E1=$BG_ERR
bg_start P2 "$SATCHEL" publish --store "$O" "$TMP/nco1.satchel"
E2=$BG_ERR
bg_wait "$P1"
RC1=$BG_RC
bg_wait "$P2"
RC2=$BG_RC
also "no sanitizer report" sanitizer_free "$E1" "$E2"
is "$RC1 $RC2" "0 0" "two publishes at once: both exit 0"
if [ "$RC1 $RC2" != "0 0" ]; then
	cat "$E1" "$E2" | head -n 20 | diag
fi
run_satchel ls "$O"
expect_success "ls after two publishes at once shows both bundles (and the first)" \
    '/^family-health-care +1\.0 +1 /' '/^new-citizen-orientation +1\.0 +1 /' \
    '/^calligraphy-basics +1\.1 +2 /'
is "$(catalog_serial "$O")" $((S0 + 2)) \
    "two publishes at once: the catalog serial grew by exactly 2"
also "tmp/ empty" dir_empty "$O/tmp"
run_satchel fsck "$O"
expect_success "fsck after two publishes at once: clean" "clean"

# --- fsck ------------------------------------------------------------------------------------------

run_satchel fsck "$O"
expect_success "fsck: a clean store" "$O: clean"

# damaged COPYNAME: a copy of the origin to damage, in $D.
damaged()
{
	D=$TMP/$1
	rm -rf "$D"
	cp -a "$O" "$D"
}

# An object of v2's changed lesson, one of style.css (in every release).
OBJ_LESSON=$(sha256sum <"$CB/lessons/02-holding-the-brush/index.html" | cut -c 1-64)
OBJ_LESSON=objects/$(printf '%s' "$OBJ_LESSON" | cut -c 1-2)/$(printf '%s' "$OBJ_LESSON" | cut -c 3-)
OBJ_STYLE=$(sha256sum <"$CB/style.css" | cut -c 1-64)
OBJ_STYLE=objects/$(printf '%s' "$OBJ_STYLE" | cut -c 1-2)/$(printf '%s' "$OBJ_STYLE" | cut -c 3-)

damaged fsck-object
chmod u+w "$D/$OBJ_LESSON"
flip_byte "$D/$OBJ_LESSON" 10
run_satchel fsck "$D"
also "stdout names the object" out_has "$D/$OBJ_LESSON: object is damaged"
also "only that problem" test "$(printf '%s\n' "$OUT" | wc -l)" -eq 1
expect_fail "fsck: a changed byte in an object: exit 1, names it 'damaged'" "1 problem"

run_satchel archive --store "$D" -o "$TMP/from-damaged.satchel" calligraphy-basics
also "no file written" test ! -e "$TMP/from-damaged.satchel"
also "nothing left next to it" test -z "$(ls "$TMP" | grep from-damaged)"
expect_fail "archive refuses a release whose object is damaged, naming the file" \
    '"lessons/02-holding-the-brush/index.html"' "damaged"

damaged fsck-missing
rm -f "$D/$OBJ_STYLE"
run_satchel fsck "$D"
also "names release 1" out_has "$D/meta/releases/calligraphy-basics/1.signed: file \"style.css\": object missing"
also "names release 2" out_has "$D/meta/releases/calligraphy-basics/2.signed: file \"style.css\": object missing"
expect_fail "fsck: a deleted object: exit 1, names the releases and 'missing'" "problems found"

run_satchel archive --store "$D" -o "$TMP/from-missing.satchel" calligraphy-basics@1
also "no file written" test ! -e "$TMP/from-missing.satchel"
also "nothing left next to it" test -z "$(ls "$TMP" | grep from-missing)"
expect_fail "archive refuses a release with a missing object, naming the file" \
    '"style.css"' "$OBJ_STYLE"

damaged fsck-catalog-sig
python3 - "$D/meta/catalog" <<'PYEOF'
import base64, re, sys
p = sys.argv[1]
t = open(p).read()
garbage = base64.b64encode(bytes(range(7, 71))).decode()
t2 = re.sub(r"^(signature ed25519 [0-9a-f]{16} )\S+$", r"\g<1>" + garbage, t,
            flags=re.M)
assert t2 != t and len(t2) == len(t)
open(p, "w").write(t2)
PYEOF
run_satchel fsck "$D"
also "stdout names meta/catalog" out_has "meta/catalog"
also "stdout says the signature does not verify" out_has "does not verify"
expect_fail "fsck: a catalog signature replaced by garbage: exit 1, names the catalog" \
    "problem"

damaged fsck-catalog-body
python3 - "$D/meta/catalog" <<'PYEOF'
import re, sys
p = sys.argv[1]
t = open(p).read()
m = re.search(r"^issued (\d+)$", t, re.M)
i = m.end(1) - 1
t2 = t[:i] + ("1" if t[i] == "0" else "0") + t[i + 1:]
open(p, "w").write(t2)
PYEOF
run_satchel fsck "$D"
also "names meta/catalog" test -n "$(printf '%s\n%s\n' "$OUT" "$ERR" | grep -F meta/catalog)"
expect_fail "fsck: a changed byte in the catalog's body: exit 1, names the catalog"

damaged fsck-release
chmod u+w "$D/meta/releases/calligraphy-basics/1.signed"
sed -i 's/^meta title Brush Calligraphy Basics$/meta title Brush Calligraphy Basicz/' \
    "$D/meta/releases/calligraphy-basics/1.signed"
run_satchel fsck "$D"
also "the manifest was changed" grep -q Basicz "$D/meta/releases/calligraphy-basics/1.signed"
also "names the release" out_has "$D/meta/releases/calligraphy-basics/1.signed"
also "says no valid signature" out_has "no valid signature"
expect_fail "fsck: a retained manifest changed after signing: exit 1, names it"

damaged fsck-trust
# A second policy in the history that its predecessor's root did not sign.
run_satchel keygen "$TMP/root2.key"
run_satchel trust new --root-key "$TMP/root2.key" -o "$D/meta/trust.d/9.policy"
sed -i 's/^serial 1$/serial 9/' "$D/meta/trust.d/9.policy"
run_satchel fsck "$D"
also "names the history file or its serial" out_has "trust.d"
expect_fail "fsck: a trust history policy that is not valid: exit 1, names it"

# --- --help and usage errors ------------------------------------------------------------------------

for c in store publish ls log archive fsck; do
	run_satchel "$c" --help
	expect_success "$c --help" "usage: satchel $c"
done

run_satchel publish "$TMP/cb1.satchel"
expect_usage "publish without --store: usage error" "--store"
run_satchel archive --store "$O" calligraphy-basics
expect_usage "archive without -o: usage error"
run_satchel store "$TMP/x"
expect_usage "store without init: usage error"
run_satchel archive --store "$O" -o "$TMP/o.satchel" calligraphy-basics@0
expect_usage "archive NAME@0: usage error" "SERIAL"

done_testing
