#!/bin/sh
# checkout.sh: `satchel checkout`, a stored release laid out as a plain
# tree. The current release and an older one, each byte for byte the
# files of its published archive; hard links into the store by default
# (read-only, the object's inode), an executable file copied with mode
# 0755, --copy with the manifest's modes; --force replacing a tree; every
# refusal (an unknown bundle, a serial the store lacks, a bad NAME@SERIAL,
# a DEST that is not empty or not a directory, --link with --copy, a
# damaged, shortened or missing object), each with a message naming what
# was wrong, DEST as it was, no DEST.tmp-* left, and the store unchanged.
. "$(dirname "$0")/lib.sh"
need zstd tar stat find diff cmp sha256sum truncate python3 cut

cd "$TMP" || bail_out "cannot enter $TMP"

# ref_tree ARCHIVE DIR: the bundle files of ARCHIVE (not .satchel/) in DIR.
ref_tree()
{
	rm -rf "$2"
	mkdir -p "$2" &&
	zstd -dc "$1" | tar -x -C "$2" --exclude=.satchel &&
	rm -rf "$2/.satchel"
}

# same_tree GOT WANT: a condition of the next case: the same paths with the
# same bytes (diff -r), and nothing but files and directories in GOT.
same_tree()
{
	if ! diff -r "$1" "$2" >"$TMP/tree.diff" 2>&1; then
		head -n 10 "$TMP/tree.diff" | diag
	fi
	also "$(basename "$1") holds the files of $(basename "$2") byte for byte" \
	    diff -r "$1" "$2"
	also "$(basename "$1") holds only files and directories" \
	    test -z "$(find "$1" ! -type f ! -type d)"
}

# no_leftovers: a condition of the next case: no DEST.tmp-* in $TMP.
no_leftovers()
{
	also "no temporary tree is left" \
	    test -z "$(find "$TMP" -maxdepth 1 -name '*.tmp-*')"
}

# object_of STORE FILE: the object path of a file of the tree FILE.
object_of()
{
	_h=$(file_sum "$2")
	printf '%s/objects/%s/%s\n' "$1" "$(printf '%s' "$_h" | cut -c 1-2)" \
	    "$(printf '%s' "$_h" | cut -c 3-)"
}

# --- a store with two releases ---------------------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
expect_success "trust policy: catalog key, author for calligraphy-basics"

make_repo calligraphy-basics
CB=$REPO
mkdir -p "$CB/tools/deep/er"
printf '#!/bin/sh\necho practise\n' >"$CB/tools/deep/er/practise.sh"
chmod 0755 "$CB/tools/deep/er/practise.sh"
git_commit "$CB" "An executable script in a deep directory"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1 (with an executable file)" "serial 1"
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2" "serial 2"
ref_tree "$TMP/cb1.satchel" "$TMP/ref1"
ref_tree "$TMP/cb2.satchel" "$TMP/ref2"

S=$TMP/store
make_origin "$S" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/cb2.satchel"
expect_success "a store with both releases published"
snapshot "$S"

# --- the current release, by hard links -----------------------------------------

run_satchel checkout --store "$S" calligraphy-basics "$TMP/out"
same_tree "$TMP/out" "$TMP/ref2"
no_leftovers
expect_success "checkout of the current release" \
    "$TMP/out: calligraphy-basics@2" "linked, 1 copied)"

IDX=$TMP/out/lessons/02-holding-the-brush/index.html
is "$(stat -c %i "$IDX")" "$(stat -c %i "$(object_of "$S" "$IDX")")" \
    "a file is a hard link to its object"
is "$(stat -c %a "$IDX")" 444 "a linked file is read-only (0444)"
EXE=$TMP/out/tools/deep/er/practise.sh
is "$(stat -c '%a %h' "$EXE")" "755 1" \
    "the executable file is a copy with mode 0755"
is "$(stat -c %a "$TMP/out/tools/deep/er")" 755 "directories are 0755"

rm -rf "$TMP/out"
unchanged "$S"
ok 0 "the store is as it was once the linked tree is removed"

# --- an older release, and --copy --------------------------------------------------

run_satchel checkout --store "$S" --copy calligraphy-basics@1 "$TMP/out1/"
same_tree "$TMP/out1" "$TMP/ref1"
no_leftovers
unchanged "$S"
expect_success "checkout --copy of release 1 (DEST with a trailing slash)" \
    "$TMP/out1: calligraphy-basics@1" "(0 linked,"
is "$(stat -c '%a %h' "$TMP/out1/bundle.conf")" "644 1" \
    "--copy: a file of its own with the manifest's mode 0644"
is "$(stat -c %a "$TMP/out1/tools/deep/er/practise.sh")" 755 \
    "--copy: the executable file 0755"

mkdir "$TMP/empty"
run_satchel checkout --store "$S" --link calligraphy-basics "$TMP/empty"
same_tree "$TMP/empty" "$TMP/ref2"
no_leftovers
expect_success "--link into an empty directory" "$TMP/empty: calligraphy-basics@2"
rm -rf "$TMP/empty"

# --- DEST: not empty, not a directory, --force -----------------------------------------

mkdir "$TMP/busy"
echo keep >"$TMP/busy/mine.txt"
run_satchel checkout --store "$S" calligraphy-basics "$TMP/busy"
also "DEST keeps its file" test "$(cat "$TMP/busy/mine.txt")" = keep
also "DEST gets nothing more" test "$(ls -A "$TMP/busy")" = mine.txt
no_leftovers
expect_fail "a DEST that is not empty is refused" "$TMP/busy: not empty" \
    "--force"

echo plain >"$TMP/afile"
run_satchel checkout --store "$S" --force calligraphy-basics "$TMP/afile"
also "the file is untouched" test "$(cat "$TMP/afile")" = plain
no_leftovers
expect_fail "a DEST that is a file is refused, even with --force" \
    "$TMP/afile: exists and is not a directory"

run_satchel checkout --store "$S" --force calligraphy-basics@1 "$TMP/busy"
same_tree "$TMP/busy" "$TMP/ref1"
no_leftovers
expect_success "--force replaces a directory that is not empty" \
    "$TMP/busy: calligraphy-basics@1"
rm -rf "$TMP/busy"

# --- bad names, serials and usage -----------------------------------------------------

run_satchel checkout --store "$S" no-such-bundle "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
no_leftovers
expect_fail "an unknown bundle" '"no-such-bundle"' "$S"

run_satchel checkout --store "$S" calligraphy-basics@7 "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
expect_fail "a serial past the current one" "calligraphy-basics has no release 7" \
    "the current one is 2"

run_satchel checkout --store "$S" calligraphy-basics@zero "$TMP/x"
expect_usage "a serial that is not a number" '"calligraphy-basics@zero"' "SERIAL"
run_satchel checkout --store "$S" calligraphy-basics@0 "$TMP/x"
expect_usage "serial 0" '"calligraphy-basics@0"'
run_satchel checkout --store "$S" @1 "$TMP/x"
expect_usage "an empty NAME" '"@1"'
run_satchel checkout --store "$S" calligraphy-basics
expect_usage "no DEST" "NAME[@SERIAL] DEST"
run_satchel checkout calligraphy-basics "$TMP/x"
expect_usage "no --store" "--store DIR"
run_satchel checkout --store "$S" --link --copy calligraphy-basics "$TMP/x"
expect_usage "--link with --copy" "exclude each other"
run_satchel checkout --store "$S" calligraphy-basics .
expect_usage "DEST ." "DEST must name a directory"
run_satchel checkout --store "$TMP/nowhere" calligraphy-basics "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
expect_fail "a store that does not exist" "$TMP/nowhere"
unchanged "$S"
ok 0 "the store is unchanged by every refusal"

run_satchel checkout --help
expect_success "--help" "usage: satchel checkout --store DIR" "--force" \
    "read-only"

# --- damaged objects -----------------------------------------------------------------

D=$TMP/damaged
rm -rf "$D"
cp -a "$S" "$D"
ref_tree "$TMP/cb2.satchel" "$TMP/scratch"
OBJ=$(object_of "$D" "$TMP/scratch/style.css")
chmod u+w "$OBJ"
flip_byte "$OBJ" 3
snapshot "$D"
run_satchel checkout --store "$D" --copy calligraphy-basics "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
no_leftovers
unchanged "$D"
expect_fail "--copy refuses an object whose bytes changed" "$OBJ" \
    '"style.css"' "damaged"

truncate -s 1 "$OBJ"
snapshot "$D"
run_satchel checkout --store "$D" calligraphy-basics "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
no_leftovers
unchanged "$D"
expect_fail "a link to a shortened object is refused" "$OBJ" '"style.css"' \
    "holds 1 bytes where its manifest says"

rm -f "$OBJ"
snapshot "$D"
run_satchel checkout --store "$D" calligraphy-basics "$TMP/x"
also "no DEST" test ! -e "$TMP/x"
no_leftovers
unchanged "$D"
expect_fail "a missing object" "$OBJ" '"style.css"' "No such file"

# --- another filesystem ------------------------------------------------------------

SHM=/dev/shm
if [ -d "$SHM" ] && [ -w "$SHM" ] &&
    [ "$(stat -c %d "$SHM")" != "$(stat -c %d "$TMP")" ]; then
	X=$(mktemp -d "$SHM/satchel-checkout.XXXXXX")
	run_satchel checkout --store "$S" --link calligraphy-basics "$X/tree"
	also "no DEST" test ! -e "$X/tree"
	also "no temporary tree" test -z "$(ls -A "$X")"
	expect_fail "--link to another filesystem is refused" "$X/tree" \
	    "another filesystem" "--copy"
	run_satchel checkout --store "$S" calligraphy-basics "$X/tree"
	same_tree "$X/tree" "$TMP/ref2"
	also "files are copies with mode 0644" \
	    test "$(stat -c '%a %h' "$X/tree/bundle.conf")" = "644 1"
	expect_success "by default, another filesystem gets copies" \
	    "(0 linked,"
	rm -rf "$X"
else
	skip "checkout to another filesystem" "no writable /dev/shm on another filesystem"
	skip "checkout to another filesystem (default)" "no writable /dev/shm on another filesystem"
fi

done_testing
