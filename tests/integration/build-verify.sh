#!/bin/sh
# build-verify.sh: the author's path through `satchel`: keygen, init,
# build (of every example bundle, of an older commit, with a release tag),
# sign, verify and inspect, and the archive layout they agree on.
. "$(dirname "$0")/lib.sh"
need zstd tar python3

cd "$TMP" || bail_out "cannot enter $TMP"

# --- keygen ------------------------------------------------------------------

run_satchel keygen --comment "author one" "$TMP/k1"
expect_success "keygen writes a key pair and prints its key id" '/^[0-9a-f]{16}$/'
K1_ID=$OUT

is "$(stat -c %a "$TMP/k1" 2>&1)" 600 "keygen: the private key has mode 0600"
like "$(head -n 1 "$TMP/k1")" "-----BEGIN PRIVATE KEY-----" \
    "keygen: the private key is a PKCS 8 PEM file"
like "$(cat "$TMP/k1.pub")" '/^ed25519 [A-Za-z0-9+/]{43}= author one$/' \
    "keygen: KEYFILE.pub is one line 'ed25519 BASE64 COMMENT'"
is "$(wc -l <"$TMP/k1.pub" | tr -d ' ')" 1 "keygen: KEYFILE.pub holds exactly one line"
is "$(key_id "$TMP/k1.pub")" "$K1_ID" \
    "keygen: the printed key id is the first 16 hex digits of SHA-256 of the raw key"

cp "$TMP/k1" "$TMP/k1.saved"
cp "$TMP/k1.pub" "$TMP/k1.pub.saved"
run_satchel keygen "$TMP/k1"
also "private key unchanged" cmp "$TMP/k1" "$TMP/k1.saved"
also "public key unchanged" cmp "$TMP/k1.pub" "$TMP/k1.pub.saved"
expect_fail "keygen refuses to overwrite an existing key without --force" \
    "$TMP/k1" "--force"

# Only the .pub left over from an earlier key: still refused.
cp "$TMP/k1.pub" "$TMP/lonely.pub"
run_satchel keygen "$TMP/lonely"
also "no private key written next to an existing .pub" test ! -e "$TMP/lonely"
expect_fail "keygen refuses when only KEYFILE.pub exists" "lonely.pub"

run_satchel keygen --force "$TMP/k1"
also "private key replaced" test -n "$(cmp "$TMP/k1" "$TMP/k1.saved" 2>&1)"
also "private key still mode 0600" test "$(stat -c %a "$TMP/k1")" = 600
also "printed id matches the new .pub" test "$OUT" = "$(key_id "$TMP/k1.pub")"
expect_success "keygen --force replaces the key pair" '/^[0-9a-f]{16}$/'
isnt "$OUT" "$K1_ID" "keygen --force: the new key has a new id"
K1_ID=$OUT
mv "$TMP/k1.saved" "$TMP/old"
mv "$TMP/k1.pub.saved" "$TMP/old.pub"

run_satchel keygen "$TMP/k2"
expect_success "keygen makes a second key" '/^[0-9a-f]{16}$/'
K2_ID=$OUT

# --- init --------------------------------------------------------------------

run_satchel init --title "A new course" "$TMP/fresh-course"
expect_success "init creates a bundle repository" "fresh-course"
also "init made a git repository" test -d "$TMP/fresh-course/.git"
also "init committed bundle.conf" git -C "$TMP/fresh-course" cat-file -e HEAD:bundle.conf
also "init committed the first lesson" \
    git -C "$TMP/fresh-course" cat-file -e HEAD:lessons/01-welcome/index.html
W=$(fresh_dir w-init)
in_sub 'cd "$W" && run_satchel build -C "$TMP/fresh-course"'
expect_success "a repository made by init builds" "fresh-course-0.1.satchel"
run_satchel verify "$W/fresh-course-0.1.satchel"
expect_success "the bundle built from init verifies" "OK fresh-course 0.1 serial 1"

mkdir "$TMP/not-empty"
echo "keep me" >"$TMP/not-empty/notes.txt"
run_satchel init "$TMP/not-empty"
also "the directory was left alone" test "$(ls -A "$TMP/not-empty")" = notes.txt
expect_fail "init refuses a non-empty directory" "$TMP/not-empty" "not empty"

run_satchel init "$TMP/Bad_Dir_Name"
also "nothing created" test ! -e "$TMP/Bad_Dir_Name"
expect_usage "init refuses a directory name that is not a bundle name" \
    "Bad_Dir_Name" "--name"

# --- build, verify, inspect each example bundle -------------------------------

for b in calligraphy-basics family-health-care new-citizen-orientation; do
	make_repo "$b"
	label=$(sed -n 's/^label *= *//p' "$REPO/bundle.conf")
	serial=$(sed -n 's/^serial *= *//p' "$REPO/bundle.conf")
	W=$(fresh_dir "w-$b")
	cd "$W" || bail_out "cannot enter $W"
	run_satchel build -C "$REPO" --key "$TMP/k1"
	also "$b-$label.satchel exists" test -s "$W/$b-$label.satchel"
	also "nothing else in the output directory" \
	    test "$(ls -A "$W")" = "$b-$label.satchel"
	expect_success "build $b --key: writes $b-$label.satchel" \
	    "$b-$label.satchel: $b $label (serial $serial)" "$K1_ID"

	run_satchel verify --pubkey "$TMP/k1.pub" "$b-$label.satchel"
	also "one summary line" test "$(printf '%s\n' "$OUT" | wc -l)" -eq 1
	expect_success "verify --pubkey $b: one line naming name, label, serial, key" \
	    "$b $label serial $serial" "signed by $K1_ID" "OK"

	run_satchel verify "$b-$label.satchel"
	expect_success "verify $b without a key: integrity only" \
	    "$b $label serial $serial" "no signer was checked"

	run_satchel verify --pubkey "$TMP/k2.pub" "$b-$label.satchel"
	expect_fail "verify $b with another key's .pub fails" \
	    "not signed by" "$K1_ID"

	run_satchel inspect --json "$b-$label.satchel"
	printf '%s\n' "$OUT" >"$TMP/inspect.json"
	nlessons=$(ls "$REPO/lessons" | wc -l | tr -d ' ')
	also "inspect --json exits 0" test "$RC" -eq 0
	also "no sanitizer report" test "$SANITIZED" -eq 0
	also "valid JSON" python3 -m json.tool "$TMP/inspect.json"
	is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["name"], d["label"], d["serial"], len(d["lessons"]), d["signatures"])
' "$TMP/inspect.json" 2>&1)" "$b $label $serial $nlessons ['$K1_ID']" \
	    "inspect --json $b: valid JSON with name, label, serial, lessons, signer"
	cd "$TMP" || bail_out "cannot enter $TMP"
done

# --- archive layout ------------------------------------------------------------

A=$TMP/w-calligraphy-basics/calligraphy-basics-1.0.satchel
REPO=$TMP/calligraphy-basics
archive_list "$A" >"$TMP/list" 2>&1
is "$(sed -n 1p "$TMP/list")" ".satchel/MANIFEST" "archive: the first entry is .satchel/MANIFEST"
is "$(sed -n 2p "$TMP/list")" ".satchel/SIGNATURES" "archive: the second entry is .satchel/SIGNATURES"
git -C "$REPO" ls-tree -r --name-only HEAD | LC_ALL=C sort >"$TMP/tree"
sed 1,2d "$TMP/list" >"$TMP/files"
same_bytes "$TMP/files" "$TMP/tree" \
    "archive: then every file of the commit's tree, in bytewise order"
is "$(archive_entry "$A" .satchel/MANIFEST | head -n 1)" "satchel-manifest 1" \
    "archive: the manifest starts with 'satchel-manifest 1'"
like "$(archive_entry "$A" .satchel/SIGNATURES)" \
    "/^signature ed25519 $K1_ID [A-Za-z0-9+\\/]{86}==\$/" \
    "archive: SIGNATURES holds 'signature ed25519 KEYID BASE64'"
is "$(archive_entry "$A" style.css | file_sum /dev/stdin)" \
    "$(file_sum "$REPO/style.css")" "archive: file contents are the committed bytes"

run_satchel inspect "$A"
expect_success "inspect shows metadata with language variants, lessons and changelog" \
    "title.zh:" "毛笔书法入门" "lessons (3):" "01-four-treasures" \
    "03-eight-strokes" "changelog:" "Import calligraphy-basics" "$K1_ID"

# --- sign ----------------------------------------------------------------------

W=$(fresh_dir w-sign)
cd "$W" || bail_out "cannot enter $W"
run_satchel build -C "$REPO" -o unsigned.satchel
expect_success "build without --key writes an unsigned bundle" "unsigned"
is "$(archive_entry unsigned.satchel .satchel/SIGNATURES | wc -c | tr -d ' ')" 0 \
    "an unsigned bundle has an empty SIGNATURES entry"
# Every case below starts from its own copy, so that one failure does not
# hide or fake the next.
cp unsigned.satchel signed.satchel
run_satchel sign --key "$TMP/k1" signed.satchel
expect_success "sign adds a signature to an unsigned bundle" "signed by $K1_ID"
same_bytes signed.satchel "$A" "build + sign is byte-identical to build --key"

cp "$A" twice.satchel
ino=$(stat -c %i twice.satchel)
run_satchel sign --key "$TMP/k1" twice.satchel
also "file byte-identical" cmp twice.satchel "$A"
also "file not even rewritten" test "$(stat -c %i twice.satchel)" = "$ino"
expect_success "signing again with the same key changes nothing" \
    "already signed by $K1_ID"

cp "$A" two.satchel
run_satchel sign --key "$TMP/k2" two.satchel
expect_success "sign a signed bundle with a second key" "signed by $K2_ID"
is "$(archive_entry two.satchel .satchel/SIGNATURES | cut -d ' ' -f 3 | tr '\n' ' ')" \
    "$(printf '%s\n' "$K1_ID" "$K2_ID" | LC_ALL=C sort | tr '\n' ' ')" \
    "two signatures, sorted by key id"
run_satchel verify --pubkey "$TMP/k1.pub" two.satchel
expect_success "a bundle signed twice verifies with the first key" "signed by $K1_ID"
run_satchel verify --pubkey "$TMP/k2.pub" two.satchel
expect_success "a bundle signed twice verifies with the second key" "signed by $K2_ID"
run_satchel verify --pubkey "$TMP/k1.pub" --pubkey "$TMP/k2.pub" two.satchel
expect_success "verify with both keys names both" "$K1_ID" "$K2_ID"
run_satchel verify --pubkey "$TMP/old.pub" --pubkey "$TMP/k2.pub" two.satchel
expect_success "verify with one signer and one stranger succeeds" "signed by $K2_ID"
run_satchel verify --pubkey "$TMP/old.pub" two.satchel
expect_fail "verify with only a stranger's key fails and lists the signers" \
    "not signed by" "$K1_ID" "$K2_ID"

run_satchel build -C "$REPO" --key "$TMP/k2" --key "$TMP/k1" -o both.satchel
expect_success "build with two keys" "$K1_ID" "$K2_ID"
same_bytes both.satchel two.satchel \
    "build --key k2 --key k1 equals build --key k1 then sign --key k2"

cp unsigned.satchel two-at-once.satchel
run_satchel sign --key "$TMP/k1" --key "$TMP/k2" two-at-once.satchel
also "same bytes as build --key k2 --key k1" cmp two-at-once.satchel both.satchel
expect_success "sign an unsigned bundle with two keys at once" "$K1_ID" "$K2_ID"

cp unsigned.satchel unsigned.copy
run_satchel sign --key "$TMP/nonexistent" unsigned.satchel
also "the archive is unchanged" cmp unsigned.satchel unsigned.copy
expect_fail "sign with a missing key file fails and names it" "$TMP/nonexistent"
cd "$TMP" || bail_out "cannot enter $TMP"

# --- older commits, release tags, changelogs ------------------------------------

make_repo tagged calligraphy-basics
REPO=$TMP/tagged
W=$(fresh_dir w-tag)
cd "$W" || bail_out "cannot enter $W"
run_satchel build -C "$REPO" --key "$TMP/k1" --tag
expect_success "build --tag reports the tag" "tagged satchel/1"
is "$(git -C "$REPO" tag -l 'satchel/*')" "satchel/1" "build --tag creates the tag satchel/1"
is "$(git -C "$REPO" cat-file -t satchel/1 2>&1)" tag "satchel/1 is an annotated tag"
is "$(git -C "$REPO" rev-parse "satchel/1^{commit}" 2>&1)" \
    "$(git -C "$REPO" rev-parse HEAD)" "satchel/1 points at the built commit"
git -C "$REPO" cat-file tag satchel/1 | sed '1,/^$/d' >"$TMP/tagmsg"
like "$(cat "$TMP/tagmsg")" "satchel-manifest 1" "the tag message holds the manifest"
like "$(cat "$TMP/tagmsg")" "signature ed25519 $K1_ID " "the tag message holds the signature"
{ archive_entry calligraphy-basics-1.0.satchel .satchel/MANIFEST
  archive_entry calligraphy-basics-1.0.satchel .satchel/SIGNATURES; } >"$TMP/head"
same_bytes "$TMP/tagmsg" "$TMP/head" \
    "the tag message is exactly the archive's MANIFEST and SIGNATURES"

cp calligraphy-basics-1.0.satchel "$TMP/release1.copy"
ino=$(stat -c %i calligraphy-basics-1.0.satchel)
echo "/* more style */" >>"$REPO/style.css"
git_commit "$REPO" "Tweak the style sheet"
run_satchel build -C "$REPO" --key "$TMP/k1" --tag
also "the existing archive is unchanged" cmp calligraphy-basics-1.0.satchel "$TMP/release1.copy"
also "the existing archive was not replaced" \
    test "$(stat -c %i calligraphy-basics-1.0.satchel)" = "$ino"
also "no other file in the output directory" \
    test "$(ls -A)" = calligraphy-basics-1.0.satchel
also "still only the tag satchel/1" test "$(git -C "$REPO" tag -l 'satchel/*')" = satchel/1
expect_fail "build --tag refuses a serial that is not above the latest tag" \
    "serial 1" "satchel/1"

echo "Lesson text, revised." >>"$REPO/lessons/01-four-treasures/index.html"
git_commit "$REPO" "Revise the first lesson"
set_conf "$REPO" serial 2
set_conf "$REPO" label 1.1
git_commit "$REPO" "Release 1.1"
run_satchel build -C "$REPO" --key "$TMP/k1" --tag
expect_success "build --tag of the next serial" \
    "calligraphy-basics-1.1.satchel" "serial 2" "tagged satchel/2"
run_satchel inspect --json calligraphy-basics-1.1.satchel
printf '%s\n' "$OUT" >"$TMP/inspect.json"
is "$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["changelog"])' "$TMP/inspect.json" 2>&1)" \
    "['Release 1.1', 'Revise the first lesson', 'Tweak the style sheet']" \
    "the changelog lists only the commit subjects since satchel/1, newest first"

run_satchel build -C "$REPO" --rev HEAD~3 -o old.satchel
expect_success "build --rev of an older commit" "calligraphy-basics 1.0 (serial 1)"
run_satchel inspect --json old.satchel
printf '%s\n' "$OUT" >"$TMP/inspect.json"
is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["serial"], d["label"], d["source_commit"], d["changelog"])' "$TMP/inspect.json" 2>&1)" \
    "1 1.0 $(git -C "$REPO" rev-parse HEAD~3) ['Import calligraphy-basics']" \
    "the older build has that commit's serial, label, id and changelog"
run_satchel build -C "$REPO" --rev satchel/1 -o from-tag.satchel
expect_success "build --rev accepts a tag name" "serial 1"
same_bytes from-tag.satchel old.satchel \
    "build --rev satchel/1 and --rev HEAD~3 give the same bytes"
cd "$TMP" || bail_out "cannot enter $TMP"

# --- a file name in Chinese -----------------------------------------------------

make_repo zh-names calligraphy-basics
cp "$REPO/lessons/01-four-treasures/treasures.svg" \
    "$REPO/lessons/01-four-treasures/图片.svg"
git_commit "$REPO" "Add a picture with a Chinese file name"
W=$(fresh_dir w-zh)
run_satchel build -C "$REPO" --key "$TMP/k1" -o "$W/zh.satchel"
expect_success "build a bundle with a Chinese file name" "13 files"
run_satchel verify --pubkey "$TMP/k1.pub" "$W/zh.satchel"
expect_success "verify a bundle with a Chinese file name" "OK calligraphy-basics"
like "$(archive_list "$W/zh.satchel" 2>&1)" "lessons/01-four-treasures/图片.svg" \
    "the archive stores the Chinese name as UTF-8"
run_satchel inspect "$W/zh.satchel"
expect_success "inspect lists the Chinese file name" "lessons/01-four-treasures/图片.svg"
in_sub 'LC_ALL=C LANG=C; export LC_ALL LANG
    run_satchel verify --pubkey "$TMP/k1.pub" "$W/zh.satchel"'
expect_success "verify under LC_ALL=C still reads the UTF-8 name" "OK"

# --- a failed build leaves nothing behind ------------------------------------------

REPO=$TMP/calligraphy-basics
W=$(fresh_dir w-fail)
run_satchel build -C "$REPO" -o "$TMP/reference.satchel"
expect_success "a reference build, to know the archive's size"
SIZE=$(stat -c %s "$TMP/reference.satchel")

# fail_to_write BYTES: builds into $W/keep.satchel (an older file) with
# every file limited to BYTES (RLIMIT_FSIZE, set through Python because
# `ulimit -f` counts 512-byte blocks in dash and 1024-byte ones in bash).
# SIGXFSZ is ignored so that write(2) fails with EFBIG instead of killing
# satchel.
LIMITED='import os, resource, signal, sys
n = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
os.execv(sys.argv[2], sys.argv[2:])'
fail_to_write()
{
	echo "an older release" >"$W/keep.satchel"
	ino=$(stat -c %i "$W/keep.satchel")
	run python3 -c "$LIMITED" "$1" "$SATCHEL" build -C "$REPO" -o "$W/keep.satchel"
	also "the older file is intact" test "$(cat "$W/keep.satchel")" = "an older release"
	also "the older file was not replaced" test "$(stat -c %i "$W/keep.satchel")" = "$ino"
	also "no temporary file left" test "$(ls -A "$W")" = keep.satchel
}

# Early: no file may pass 4 KiB.
fail_to_write 4096
expect_fail "a build that cannot write its output (4 KiB limit) fails, names it, leaves nothing" \
    "keep.satchel"
# Late: everything but the last byte of the archive fits.
fail_to_write $((SIZE - 1))
expect_fail "a build that fails on the last byte of its output names it and leaves nothing" \
    "keep.satchel"

mkdir "$W/taken.satchel"
run_satchel build -C "$REPO" -o "$W/taken.satchel"
also "no temporary file left" test "$(ls -A "$W" | tr '\n' ' ')" = "keep.satchel taken.satchel "
also "the directory in the way is untouched" dir_empty "$W/taken.satchel"
expect_fail "a build whose output cannot be renamed into place leaves no temporary file" \
    "taken.satchel"

run_satchel build -C "$REPO" -o "$W/no/such/dir/x.satchel"
expect_fail "a build into a missing directory fails and names it" "$W/no/such/dir"

# --- a very long commit subject -----------------------------------------------------

make_repo long-subject calligraphy-basics
echo "/* x */" >>"$REPO/style.css"
git_commit "$REPO" "$(python3 -c 'print("Long " + "subject " * 1500)')"
run_satchel build -C "$REPO" -o "$TMP/long-subject.satchel"
expect_success "a commit subject of 12 KB (over the manifest's 8 KiB line limit) builds"
run_satchel verify "$TMP/long-subject.satchel"
expect_success "and the bundle verifies" "OK calligraphy-basics"

done_testing
