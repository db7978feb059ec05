#!/bin/sh
# reproducible.sh: two builds of one commit give the same bytes, whoever
# runs them, wherever and whenever; and the archive carries nothing of
# the machine that built it.
. "$(dirname "$0")/lib.sh"
need zstd tar python3

cd "$TMP" || bail_out "cannot enter $TMP"

make_repo origin calligraphy-basics
# A non-ASCII name (a pax header) and an executable file (mode 755).
cp "$REPO/lessons/01-four-treasures/treasures.svg" \
    "$REPO/lessons/01-four-treasures/四宝.svg"
printf '#!/bin/sh\necho "a helper script"\n' >"$REPO/tools.sh"
chmod 755 "$REPO/tools.sh"
git_commit "$REPO" "Add a picture and a helper script"
COMMIT_TIME=$(git -C "$REPO" log -1 --format=%ct)

run_satchel keygen "$TMP/key"
expect_success "keygen"

git clone -q "$REPO" "$TMP/clone-a" 2>/dev/null
ok $? "first clone"
git clone -q "$REPO" "$TMP/clone-b" 2>/dev/null
ok $? "second clone"
# Different file times and permissions in the two working trees.
touch -d '2001-02-03 04:05:06' "$TMP/clone-b/style.css"
chmod 600 "$TMP/clone-b/bundle.conf"

mkdir "$TMP/out-a" "$TMP/out-b"

# build_as LABEL CLONE OUTDIR UMASK TZ USER LOCALE [build options...]:
# one build from its own directory, umask, time zone, home, user, locale.
build_as()
{
	_label=$1 _clone=$2 _out=$3 _umask=$4 _tz=$5 _user=$6 _loc=$7
	shift 7
	mkdir -p "$TMP/home-$_label"
	in_sub 'cd "$_out" && umask "$_umask" &&
	    TZ=$_tz HOME=$TMP/home-$_label USER=$_user LOGNAME=$_user &&
	    GIT_AUTHOR_NAME=$_user GIT_COMMITTER_NAME=$_user &&
	    LC_ALL=$_loc LANG=$_loc &&
	    export TZ HOME USER LOGNAME GIT_AUTHOR_NAME GIT_COMMITTER_NAME LC_ALL LANG &&
	    run_satchel build -C "$_clone" "$@"' "$@"
}

build_a()
{
	build_as a "$TMP/clone-a" "$TMP/out-a" 002 Asia/Shanghai alice C.UTF-8 "$@"
}
build_b()
{
	build_as b "$TMP/clone-b" "$TMP/out-b" 077 America/Los_Angeles bob C "$@"
}

build_a
expect_success "build in the first clone (umask 002, Asia/Shanghai, alice)" \
    "calligraphy-basics-1.0.satchel"
sleep 1
build_b
expect_success "build in the second clone a second later (umask 077, America/Los_Angeles, bob, LC_ALL=C)" \
    "calligraphy-basics-1.0.satchel"
A=$TMP/out-a/calligraphy-basics-1.0.satchel
B=$TMP/out-b/calligraphy-basics-1.0.satchel
same_bytes "$A" "$B" "unsigned builds of the same commit are identical"
is "$(stat -c %a "$B" 2>&1)" 644 "the archive is mode 0644 whatever the umask"

build_a --key "$TMP/key" -o signed.satchel
expect_success "signed build in the first clone" "signed by"
sleep 1
build_b --key "$TMP/key" -o signed.satchel
expect_success "signed build in the second clone" "signed by"
same_bytes "$TMP/out-a/signed.satchel" "$TMP/out-b/signed.satchel" \
    "signed builds with the same key are identical"

# The same commit through a different revision name, and rebuilt in place.
build_a --rev main -o again.satchel
expect_success "rebuild by branch name"
same_bytes "$TMP/out-a/again.satchel" "$A" "a rebuild by branch name is identical"

# What the tar headers hold, read back by GNU tar and by Python.
NENTRIES=$(( $(git -C "$REPO" ls-tree -r --name-only HEAD | wc -l) + 2 ))
LISTING=$(zstd -dc "$A" | TZ=UTC tar --list -v --numeric-owner --full-time 2>&1)
is "$(printf '%s\n' "$LISTING" | wc -l | tr -d ' ')" "$NENTRIES" \
    "tar lists the manifest, the signatures and every file"
is "$(printf '%s\n' "$LISTING" | awk '$2 != "0/0"')" "" \
    "tar: every entry is owned by 0/0"
when=$(TZ=UTC date -d "@$COMMIT_TIME" '+%Y-%m-%d %H:%M:%S')
is "$(printf '%s\n' "$LISTING" | awk -v w="$when" '$4 " " $5 != w')" "" \
    "tar: every entry's time is the commit time ($when UTC)"
NAMED=$(zstd -dc "$A" | tar --list -v --full-time 2>&1)
unlike "$NAMED" '/alice|bob|root|nobody|Satchel Test/' \
    "tar: no user or group names"

zstd -dc "$A" >"$TMP/a.tar"
python3 - "$TMP/a.tar" "$COMMIT_TIME" >"$TMP/py.out" 2>&1 <<'EOF'
import sys, tarfile

path, when = sys.argv[1], int(sys.argv[2])
bad = []
n = 0
with tarfile.open(path, "r:") as t:
    for ti in t:
        n += 1
        if not ti.isreg():
            bad.append("%s: not a regular file" % ti.name)
        if (ti.uid, ti.gid) != (0, 0):
            bad.append("%s: uid/gid %d/%d" % (ti.name, ti.uid, ti.gid))
        if ti.uname or ti.gname:
            bad.append("%s: user/group names %r/%r" % (ti.name, ti.uname, ti.gname))
        if ti.mtime != when:
            bad.append("%s: mtime %r, commit time %d" % (ti.name, ti.mtime, when))
        extra = set(ti.pax_headers) - {"path"}
        if extra:
            bad.append("%s: pax headers %s" % (ti.name, sorted(extra)))
        if ti.name.isascii() and "path" in ti.pax_headers:
            bad.append("%s: needless pax path header" % ti.name)
        want = 0o755 if ti.name == "tools.sh" else 0o644
        if ti.mode != want:
            bad.append("%s: mode %o, expected %o" % (ti.name, ti.mode, want))
print("\n".join(bad) if bad else "clean: %d entries" % n)
EOF
is "$(cat "$TMP/py.out")" "clean: $NENTRIES entries" \
    "tarfile: regular files only, uid/gid 0, no names, commit mtime, no extra pax headers, modes from git"

like "$(archive_entry "$A" .satchel/MANIFEST)" \
    "/^file 755 [0-9]+ [0-9a-f]{64} tools.sh\$/" \
    "the manifest records the executable file with mode 755"
like "$(archive_entry "$A" .satchel/MANIFEST)" "source-time $COMMIT_TIME" \
    "the manifest's source-time is the commit time"

# --- a bundle that stresses the build --------------------------------------------
# A file larger than the build's 16 MiB read-ahead window, an empty file,
# a path over the 100 bytes a plain tar header holds, and many files.

make_repo big calligraphy-basics
python3 -c '
import random, sys
random.seed(7)
sys.stdout.buffer.write(random.randbytes(17 * 1024 * 1024 + 3))' \
    >"$REPO/lessons/01-four-treasures/lecture.bin"
: >"$REPO/lessons/01-four-treasures/empty.txt"
long=lessons/02-holding-the-brush/$(printf 'a%.0s' $(seq 1 90))/$(printf 'b%.0s' $(seq 1 90)).txt
mkdir -p "$REPO/${long%/*}"
echo "deep" >"$REPO/$long"
mkdir "$REPO/lessons/04-many-files"
echo "<p>many</p>" >"$REPO/lessons/04-many-files/index.html"
i=0
while [ "$i" -lt 600 ]; do
	echo "file $i" >"$REPO/lessons/04-many-files/part-$i.txt"
	i=$((i + 1))
done
git_commit "$REPO" "A big lesson, an empty file, a long path and many files"
NFILES=$(git -C "$REPO" ls-tree -r --name-only HEAD | wc -l | tr -d ' ')

build_as big1 "$REPO" "$TMP/out-a" 002 UTC alice C.UTF-8 --key "$TMP/key" -o big.satchel
expect_success "build the big bundle" "$NFILES files" "signed by"
git clone -q "$REPO" "$TMP/big-clone" 2>/dev/null
build_as big2 "$TMP/big-clone" "$TMP/out-b" 077 Asia/Tokyo bob C -o big.satchel
expect_success "build the big bundle unsigned in a clone" "$NFILES files" "unsigned"
run_satchel sign --key "$TMP/key" "$TMP/out-b/big.satchel"
expect_success "sign the big bundle" "signed by"
same_bytes "$TMP/out-a/big.satchel" "$TMP/out-b/big.satchel" \
    "the big bundle: build --key in one clone equals build + sign in another"
run_satchel verify --pubkey "$TMP/key.pub" "$TMP/out-a/big.satchel"
expect_success "the big bundle verifies" "$NFILES files"
X=$(fresh_dir big-x)
zstd -dc "$TMP/out-a/big.satchel" | tar xf - -C "$X"
ok $? "GNU tar extracts the big bundle"
same_bytes "$REPO/lessons/01-four-treasures/lecture.bin" \
    "$X/lessons/01-four-treasures/lecture.bin" \
    "the 17 MiB file comes out of the archive unchanged"
same_bytes "$REPO/$long" "$X/$long" "the long path comes out of the archive unchanged"
is "$(stat -c %s "$X/lessons/01-four-treasures/empty.txt" 2>&1)" 0 \
    "the empty file is in the archive, empty"

done_testing
