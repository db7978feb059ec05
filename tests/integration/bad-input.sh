#!/bin/sh
# bad-input.sh: hostile or broken input to `satchel verify` and `satchel
# build`: unsafe archive entries, oversized manifests, bad paths, broken
# repositories and bundle.conf files, keys of the wrong kind. Each must
# end with exit status 1, a message that names the file, field or path and
# the reason, no sanitizer report, and no file written.
. "$(dirname "$0")/lib.sh"
need zstd tar python3

cd "$TMP" || bail_out "cannot enter $TMP"

run_satchel keygen "$TMP/key"
expect_success "keygen"

make_repo good calligraphy-basics
GOOD_REPO=$REPO
run_satchel build -C "$GOOD_REPO" --key "$TMP/key" -o "$TMP/good.satchel"
expect_success "build the good archive" "signed by"
GOOD=$TMP/good.satchel

# verify_crafted NAME PYTHON: makes $TMP/NAME.satchel from the good
# archive (see retar in lib.sh) and verifies it from an empty directory,
# which must stay empty; the caller then calls expect_fail.
verify_crafted()
{
	T=$TMP/$1.satchel
	retar "$GOOD" "$T" "$2"
	W=$(fresh_dir "w-$1")
	in_sub 'cd "$W" && run_satchel verify --pubkey "$TMP/key.pub" "$T"'
	also "nothing written" dir_empty "$W"
}

# build_in_empty NAME ARGS...: `satchel build ARGS` from an empty
# directory, which must stay empty (no archive, no temporary file).
build_in_empty()
{
	W=$(fresh_dir "w-$1")
	shift
	in_sub 'cd "$W" && run_satchel build "$@"' "$@"
	also "nothing written (no archive, no temporary file)" dir_empty "$W"
}

# variant NAME: a fresh copy of the good repository to break, in $REPO.
variant()
{
	make_repo "$1" calligraphy-basics
}

# --- unsafe archive entries -------------------------------------------------------

verify_crafted dotdot 'entries.insert(3, entry("lessons/../../evil.sh", b"rm -rf ~\n"))'
expect_fail "an entry with '..' in its path" '"lessons/../../evil.sh"' '".." component'

verify_crafted absolute 'entries.insert(3, entry("/etc/cron.d/evil", b"* * * * * root id\n"))'
expect_fail "an entry with an absolute path" '"/etc/cron.d/evil"' "absolute path"

verify_crafted symlink 'entries.insert(3, entry("lessons/passwd", type=tarfile.SYMTYPE,
    linkname="/etc/passwd"))'
expect_fail "a symbolic link entry" "lessons/passwd" "symbolic link"

verify_crafted hardlink 'entries.insert(3, entry("lessons/hard", type=tarfile.LNKTYPE,
    linkname="bundle.conf"))'
expect_fail "a hard link entry" "lessons/hard" "hard link"

verify_crafted directory 'entries.insert(3, entry("lessons/", type=tarfile.DIRTYPE, mode=0o755))'
expect_fail "a directory entry" "lessons/" "directory"

verify_crafted fifo 'entries.insert(3, entry("lessons/pipe", type=tarfile.FIFOTYPE))'
expect_fail "a FIFO entry" "lessons/pipe" "FIFO"

verify_crafted ctl-entry 'entries.insert(3, entry("lessons/a\x1b[2Jb.html", b"x"))'
expect_fail "an entry path with a control character (shown escaped)" \
    'lessons/a\x1b[2Jb.html' "control character"

verify_crafted utf8-entry 'entries.insert(3, entry("lessons/a\udcff\udcfeb.html", b"x"))'
expect_fail "an entry path that is not valid UTF-8" "not valid UTF-8"

verify_crafted backslash-entry 'entries.insert(3, entry("lessons\\..\\evil", b"x"))'
expect_fail "an entry path with a backslash (shown escaped)" 'lessons\x5c..\x5cevil' "backslash"

# --- the manifest -----------------------------------------------------------------

verify_crafted huge-manifest '
put(".satchel/MANIFEST", b"satchel-manifest 1\n" + b"x" * (17 * 1024 * 1024))'
expect_fail "a 17 MiB manifest is refused before it is read" \
    ".satchel/MANIFEST" "limit"

# Sizes in the manifest: the file line and the "files COUNT BYTES" total
# are edited to match, so only the limit is wrong.
set_size='
import re
def set_size(path, size):
    m = manifest()
    old = re.search(r"^file (\d+) (\d+) ([0-9a-f]{64}) %s$" % re.escape(path), m, re.M)
    m = m.replace(old.group(0), "file %s %d %s %s" % (old.group(1), size, old.group(3), path))
    m = re.sub(r"^files (\d+) (\d+)$", lambda x: "files %s %d" % (
        x.group(1), int(x.group(2)) - int(old.group(2)) + size), m, flags=re.M)
    set_manifest(m)
'
verify_crafted terabyte "$set_size
set_size('style.css', 1099511627776)"
expect_fail "a manifest declaring a 1 TB file is refused by the limits" \
    ".satchel/MANIFEST" "limit"

verify_crafted file-over-64g "$set_size
set_size('style.css', (64 << 30) + 1)"
expect_fail "a manifest declaring one file over 64 GiB is refused by the limit" \
    ".satchel/MANIFEST" "exceeds the limit"

verify_crafted ctl-manifest '
set_manifest(manifest().replace(" style.css\n", " sty\x07le.css\n"))'
expect_fail "a manifest path with a control character" ".satchel/MANIFEST:" "control character"

verify_crafted utf8-manifest '
put(".satchel/MANIFEST", data(".satchel/MANIFEST").replace(b" style.css\n", b" sty\xc0\xafle.css\n"))'
expect_fail "a manifest path that is not valid UTF-8 (an overlong '/')" \
    ".satchel/MANIFEST:" "UTF-8"

verify_crafted dotdot-manifest '
set_manifest(manifest().replace(" style.css\n", " ../style.css\n"))'
expect_fail "a manifest path with '..'" ".satchel/MANIFEST:" '"../style.css"' '".." component'

verify_crafted absolute-manifest '
set_manifest(manifest().replace(" style.css\n", " /style.css\n"))'
expect_fail "a manifest with an absolute path" ".satchel/MANIFEST:" "absolute path"

verify_crafted not-a-manifest 'set_manifest("hello\n")'
expect_fail "a manifest without the satchel-manifest 1 line" \
    ".satchel/MANIFEST:1" "satchel-manifest 1"

W=$(fresh_dir w-missing)
in_sub 'cd "$W" && run_satchel verify "$TMP/no-such.satchel"'
also "nothing written" dir_empty "$W"
expect_fail "a file that does not exist" "$TMP/no-such.satchel"

# --- repositories -------------------------------------------------------------------

variant no-conf
git -C "$REPO" rm -q bundle.conf
git_commit "$REPO" "Remove bundle.conf"
build_in_empty no-conf -C "$REPO"
expect_fail "a repository without bundle.conf" "no bundle.conf"

build_in_empty not-git -C "$TMP/w-no-conf"
expect_fail "a directory that is not a git repository" "$TMP/w-no-conf" "git repository"

variant malformed
printf 'this line has no equals sign\n' >>"$REPO/bundle.conf"
git_commit "$REPO" "Break bundle.conf"
line=$(wc -l <"$REPO/bundle.conf" | tr -d ' ')
build_in_empty malformed -C "$REPO"
expect_fail "bundle.conf with a line without '=': names file:line" \
    "bundle.conf:$line:" "key = value"

for field in name serial label title language license; do
	variant "missing-$field"
	del_conf "$REPO" "$field"
	git_commit "$REPO" "Drop $field"
	build_in_empty "missing-$field" -C "$REPO"
	expect_fail "bundle.conf without the required field $field" \
	    "bundle.conf" "\"$field\"" "missing"
done

variant bad-name
set_conf "$REPO" name Bad_Name
git_commit "$REPO" "Bad name"
build_in_empty bad-name -C "$REPO"
expect_fail "bundle.conf with name Bad_Name" "bundle.conf:" '"Bad_Name"' "a-z"

variant serial-zero
set_conf "$REPO" serial 0
git_commit "$REPO" "Serial zero"
build_in_empty serial-zero -C "$REPO"
expect_fail "bundle.conf with serial 0" "bundle.conf:" 'serial "0"' ">= 1"

variant unknown-key
set_conf "$REPO" colour blue
git_commit "$REPO" "Unknown key"
build_in_empty unknown-key -C "$REPO"
expect_fail "bundle.conf with an unknown key" "bundle.conf:" '"colour"' "unknown key"

variant bad-language
set_conf "$REPO" language "zh english!"
git_commit "$REPO" "Bad language"
build_in_empty bad-language -C "$REPO"
expect_fail "bundle.conf with a language that is not a BCP 47 tag" \
    "bundle.conf:" "language" "BCP 47"

mkdir "$TMP/empty-tree"
git -c init.defaultBranch=main init -q "$TMP/empty-tree"
git_commit "$TMP/empty-tree" "Nothing yet" --allow-empty
build_in_empty empty-tree -C "$TMP/empty-tree"
expect_fail "a commit with an empty tree" "empty"

build_in_empty bad-rev -C "$GOOD_REPO" --rev no-such-branch
expect_fail "a revision that does not exist is named" "no-such-branch" "not found"

build_in_empty tree-rev -C "$GOOD_REPO" --rev 'HEAD^{tree}'
expect_fail "a revision that names a tree, not a commit" "HEAD^{tree}" "not a commit"

variant no-index
git -C "$REPO" rm -q lessons/02-holding-the-brush/index.html
git_commit "$REPO" "Lose an entry page"
build_in_empty no-index -C "$REPO"
expect_fail "a lesson without index.html" "lessons/02-holding-the-brush" "index.html" "missing"

variant bad-lesson-id
mkdir "$REPO/lessons/Bad Lesson"
echo "<p>x</p>" >"$REPO/lessons/Bad Lesson/index.html"
git_commit "$REPO" "A lesson with a bad id"
build_in_empty bad-lesson-id -C "$REPO"
expect_fail "a lesson directory that is not a valid lesson id" "lessons/Bad Lesson" "lesson id"

variant symlink
ln -s ../../style.css "$REPO/lessons/01-four-treasures/style.css"
git_commit "$REPO" "Add a symlink"
build_in_empty symlink -C "$REPO"
expect_fail "a symbolic link in the repository is named" \
    "lessons/01-four-treasures/style.css" "symbolic link"

variant reserved
mkdir "$REPO/.satchel"
echo "forged" >"$REPO/.satchel/MANIFEST"
git_commit "$REPO" "Forge an archive entry"
build_in_empty reserved -C "$REPO"
expect_fail "a file under .satchel/ in the repository" ".satchel/MANIFEST" "reserved"

variant ctl-path
echo x >"$REPO/lessons/01-four-treasures/$(printf 'a\001b').txt"
git_commit "$REPO" "A control character in a file name"
build_in_empty ctl-path -C "$REPO"
expect_fail "a committed file name with a control character (shown escaped)" \
    'lessons/01-four-treasures/a\x01b.txt' "control character"

variant utf8-path
echo x >"$REPO/lessons/01-four-treasures/$(printf 'a\377b').txt"
git_commit "$REPO" "Invalid UTF-8 in a file name"
build_in_empty utf8-path -C "$REPO"
expect_fail "a committed file name that is not valid UTF-8" \
    "lessons/01-four-treasures/a" "UTF-8"

variant submodule
git -C "$REPO" update-index --add \
    --cacheinfo "160000,$(git -C "$REPO" rev-parse HEAD),lessons/01-four-treasures/vendor"
GIT_AUTHOR_DATE="@1700100000 +0000" GIT_COMMITTER_DATE="@1700100000 +0000" \
    git -C "$REPO" commit -q -m "Add a submodule"
build_in_empty submodule -C "$REPO"
expect_fail "a submodule in the repository is named" \
    "lessons/01-four-treasures/vendor" "submodule"

variant bad-minutes
printf 'minutes = 0\n' >>"$REPO/lessons/03-eight-strokes/lesson.conf"
grep -v '^minutes = [1-9]' "$REPO/lessons/03-eight-strokes/lesson.conf" \
    >"$REPO/lesson.conf.new"
mv "$REPO/lesson.conf.new" "$REPO/lessons/03-eight-strokes/lesson.conf"
git_commit "$REPO" "Zero minutes"
build_in_empty bad-minutes -C "$REPO"
expect_fail "lesson.conf with minutes = 0 names file:line and field" \
    "lessons/03-eight-strokes/lesson.conf:" "minutes"

variant missing-entry
grep -v '^entry' "$REPO/lessons/01-four-treasures/lesson.conf" >"$REPO/lesson.conf.new"
printf 'entry = start.html\n' >>"$REPO/lesson.conf.new"
mv "$REPO/lesson.conf.new" "$REPO/lessons/01-four-treasures/lesson.conf"
git_commit "$REPO" "Point the entry at a missing page"
build_in_empty missing-entry -C "$REPO"
expect_fail "a lesson whose entry page does not exist" \
    "lessons/01-four-treasures" '"start.html"' "missing"

# Broken object databases: a missing blob, a garbled one, a truncated one.
# Each must fail, promptly, naming the file (or its blob id).
# loose_object REPO PATH: the file of the loose object of PATH at HEAD.
loose_object()
{
	_oid=$(git -C "$1" rev-parse "HEAD:$2")
	printf '%s/.git/objects/%s/%s\n' "$1" "$(printf %s "$_oid" | cut -c 1-2)" \
	    "$(printf %s "$_oid" | cut -c 3-)"
}
PAGE=lessons/02-holding-the-brush/index.html

variant blob-missing
rm -f "$(loose_object "$REPO" "$PAGE")"
build_in_empty blob-missing -C "$REPO"
expect_fail "a blob missing from the object database" "$PAGE"

variant blob-garbled
obj=$(loose_object "$REPO" "$PAGE")
chmod u+w "$obj"
printf 'garbage' | dd of="$obj" bs=1 seek=0 conv=notrunc 2>/dev/null
build_in_empty blob-garbled -C "$REPO"
expect_fail "a loose object with a garbled header" "$PAGE"

variant blob-truncated
oid=$(git -C "$REPO" rev-parse "HEAD:$PAGE")
obj=$(loose_object "$REPO" "$PAGE")
chmod u+w "$obj"
truncate -s $(( $(stat -c %s "$obj") / 2 )) "$obj"
# A hang here would cost the whole timeout: allow 15 s, not 60.
_saved_timeout=$TEST_TIMEOUT
TEST_TIMEOUT=15
build_in_empty blob-truncated -C "$REPO"
TEST_TIMEOUT=$_saved_timeout
expect_fail "a truncated loose object fails promptly, naming the file or blob" \
    "/$PAGE|$oid/"

# --- keys ---------------------------------------------------------------------------------

# The key files are named neutrally so that the check for the key type
# in the message cannot match the file name.
if command -v openssl >/dev/null 2>&1 &&
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$TMP/k-a.pem" 2>/dev/null; then
	build_in_empty rsa-key -C "$GOOD_REPO" --key "$TMP/k-a.pem"
	expect_fail "build --key with an RSA private key" "$TMP/k-a.pem" "Ed25519"
	like "$ERR" '/RSA|rsa/' "the message names the key type it found (RSA)"
	cp "$GOOD" "$TMP/sign-rsa.satchel"
	run_satchel sign --key "$TMP/k-a.pem" "$TMP/sign-rsa.satchel"
	also "the archive is unchanged" cmp "$GOOD" "$TMP/sign-rsa.satchel"
	expect_fail "sign --key with an RSA private key" "$TMP/k-a.pem" "Ed25519"
else
	skip "build --key with an RSA private key" "openssl cannot make RSA keys"
	skip "the message names the key type it found (RSA)" "openssl cannot make RSA keys"
	skip "sign --key with an RSA private key" "openssl cannot make RSA keys"
fi
if command -v openssl >/dev/null 2>&1 &&
    openssl genpkey -algorithm ED448 -out "$TMP/k-b.pem" 2>/dev/null; then
	build_in_empty ed448-key -C "$GOOD_REPO" --key "$TMP/k-b.pem"
	expect_fail "build --key with an Ed448 private key" "$TMP/k-b.pem" "Ed25519"
	like "$ERR" '/ED448|Ed448/' "the message names the key type it found (Ed448)"
else
	skip "build --key with an Ed448 private key" "openssl cannot make Ed448 keys"
	skip "the message names the key type it found (Ed448)" "openssl cannot make Ed448 keys"
fi

head -c 512 /dev/urandom >"$TMP/random.key"
build_in_empty random-key -C "$GOOD_REPO" --key "$TMP/random.key"
expect_fail "build --key with a file of random bytes" "$TMP/random.key" "Ed25519"

build_in_empty pub-as-key -C "$GOOD_REPO" --key "$TMP/key.pub"
expect_fail "build --key with a public key file" "$TMP/key.pub" "private key"

echo "rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA author@example" >"$TMP/rsa.pub"
run_satchel verify --pubkey "$TMP/rsa.pub" "$GOOD"
expect_fail "verify --pubkey with an rsa line" "$TMP/rsa.pub" '"rsa"' "ed25519"

python3 -c 'import base64; print("ed25519", base64.b64encode(bytes(range(1, 32))).decode())' \
    >"$TMP/short.pub"
run_satchel verify --pubkey "$TMP/short.pub" "$GOOD"
expect_fail "verify --pubkey with a 31-byte ed25519 key" "$TMP/short.pub" "32-byte"

python3 -c 'import base64; print("ed25519", base64.b64encode(bytes(range(1, 34))).decode())' \
    >"$TMP/long.pub"
run_satchel verify --pubkey "$TMP/long.pub" "$GOOD"
expect_fail "verify --pubkey with a 33-byte ed25519 key" "$TMP/long.pub" "32-byte"

run_satchel verify --pubkey "$TMP/key" "$GOOD"
expect_fail "verify --pubkey with the private key file" "$TMP/key" "PEM"

# --- values given on the command line -------------------------------------------------

W=$(fresh_dir w-comment)
run_satchel keygen --comment "$(printf 'line one\nsignature ed25519 forged')" "$W/k"
also "no key written" dir_empty "$W"
expect_fail "keygen refuses a comment with a newline" "comment" "control character"

run_satchel init --title "$(printf 'A title\nserial = 99')" "$TMP/init-newline"
also "no directory created" test ! -e "$TMP/init-newline"
expect_fail "init refuses a title with a newline" "bundle.conf"

done_testing
