#!/bin/sh
# intake.sh: satcheld's git intake (--git-repos DIR). An author pushes a
# release tag made by `satchel build --tag` to a bare repository under
# DIR with plain `git push`; satcheld publishes it into its origin store
# as `satchel publish` would, and a mirror pulls it over the network, the
# exported archive byte for byte the one the author built. Then v2. Tags
# that must not land, each logged once with its reason and the store left
# exactly as it was: a key the trust policy does not know, a name outside
# the publisher's scope, a serial not greater than the current one (a
# different release, and the same one pushed to a second repository), a
# tag whose signed manifest does not match the tagged tree (a file of
# another size, a file of the same size altered, a file too many, the
# same tree in another commit), a manifest altered
# after signing, a lightweight tag, a tag whose message is no manifest.
# After all that a good tag still lands. A store that is not an origin is
# refused. SIGTERM stops the daemon cleanly and fsck finds the store whole.
. "$(dirname "$0")/lib.sh"
need git sed grep sleep cmp flock
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# wait_log TEXT: waits up to 30 s for the daemon's log to hold the fixed
# string TEXT; LOG is then the whole log.
wait_log()
{
	_i=0
	while [ "$_i" -lt 300 ]; do
		if grep -Fqs -- "$1" "$DLOG"; then
			LOG=$(cat "$DLOG")
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	LOG=$(cat "$DLOG" 2>/dev/null)
	return 1
}

# log_line TEXT: the daemon's log lines holding the fixed string TEXT.
log_line()
{
	grep -F -- "$1" "$DLOG"
}

# bare NAME: a new bare repository $GITDIR/NAME.git; sets BARE.
bare()
{
	BARE=$GITDIR/$1.git
	git init -q --bare "$BARE" || bail_out "git init --bare $1 failed"
}

# push REPO BARE REFS...: plain git push over a file path.
push()
{
	_r=$1
	_b=$2
	shift 2
	git -C "$_r" push -q "$_b" "$@" 2>"$TMP/push.err"
}

# --- keys, policy, origin ----------------------------------------------

make_keys root catalog author stranger
AUTHOR_ID=$(key_id "$TMP/author.key.pub")
STRANGER_ID=$(key_id "$TMP/stranger.key.pub")

make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    'calligraphy-*'
expect_success "trust policy: the author may publish calligraphy-*"

O=$TMP/origin
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
expect_success "an origin store"
C0=$(catalog_serial "$O")

GITDIR=$TMP/git
mkdir "$GITDIR" "$GITDIR/not-a-repo"
echo "a file, not a repository" >"$GITDIR/README"

# --- a store that is not an origin is refused ------------------------------

run_satchel store init --trust "$TMP/policy" "$TMP/mirror-only"
run_satcheld --store "$TMP/mirror-only" --sync-listen 127.0.0.1:0 \
    --git-repos "$GITDIR"
expect_fail "--git-repos on a store that is not an origin: refused" \
    "not an origin store" "mirror-only"
run_satcheld --store "$O" --sync-listen 127.0.0.1:0 --git-repos "$TMP/nowhere"
expect_fail "--git-repos naming no directory: refused" "nowhere"
run_satcheld --store "$O" --git-repos "$GITDIR" --git-poll 0
expect_usage "--git-poll 0: usage error" "--git-poll"

# --- the daemon, watching an empty directory ---------------------------------

start_satcheld DPID "satcheld with --git-repos serves the origin" \
    --store "$O" --git-repos "$GITDIR" --git-poll 1
URL=satchel://127.0.0.1:$PORT

# --- v1: build --tag, git push, published, pulled by a mirror ------------

bare calligraphy
CB_BARE=$BARE
make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "the author builds and tags calligraphy-basics v1" "serial 1"
push "$CB" "$CB_BARE" main satchel/1
ok $? "git push origin main satchel/1 to a bare repository under DIR"

wait_log "published calligraphy-basics 1.0 (serial 1)"
ok $? "satcheld publishes satchel/1"
like "$(log_line "$CB_BARE satchel/1: published")" \
    "/: 12 files, [0-9]+ bytes .*; catalog serial $((C0 + 1))\$/" \
    "the log line names the release, its files and bytes, the catalog serial"
is "$(catalog_serial "$O")" $((C0 + 1)) "the origin has a new catalog"
like "$LOG" "watching $CB_BARE" "the bare repository is watched"
unlike "$LOG" "not-a-repo" "a directory that is not a repository is left alone"

run_satchel ls "$O"
expect_success "satchel ls shows the release" "calligraphy-basics"
run_satchel fsck "$O"
expect_success "fsck: the origin is whole"

M=$TMP/mirror
run_satchel pull "$URL" --store "$M"
expect_success "a mirror pulls over the network" "1 release updated"
run_satchel archive --store "$M" -o "$TMP/m1.satchel" calligraphy-basics
expect_success "the mirror exports v1"
cmp -s "$TMP/m1.satchel" "$TMP/cb1.satchel"
ok $? "the mirror's archive is the one satchel build wrote, byte for byte"

# --- v2 -----------------------------------------------------------------------

echo "<p>Practise every day.</p>" >>"$CB/lessons/02-holding-the-brush/index.html"
set_conf "$CB" serial 2
set_conf "$CB" label 1.1
git_commit "$CB" "Release 1.1"
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "the author builds and tags v2" "serial 2"
push "$CB" "$CB_BARE" main satchel/2
ok $? "git push of v2"
wait_log "published calligraphy-basics 1.1 (serial 2)"
ok $? "satcheld publishes satchel/2"
like "$(log_line "$CB_BARE satchel/2: published")" \
    "/\(2 new, [0-9]+ bytes\); catalog serial $((C0 + 2))\$/" \
    "only the two changed files are new"
run_satchel pull "$URL" --store "$M"
expect_success "the mirror pulls v2"
run_satchel archive --store "$M" -o "$TMP/m2.satchel" calligraphy-basics@2
expect_success "the mirror exports v2"
cmp -s "$TMP/m2.satchel" "$TMP/cb2.satchel"
ok $? "v2 from the mirror is the author's archive, byte for byte"

# --- tags that must not land ---------------------------------------------

snapshot "$O"

# expect_skip DESCRIPTION TAGTEXT REASON...: waits for the log line that
# TAGTEXT starts ("REPO satchel/N: skipped"), checks it holds every REASON,
# that it is the only one for that tag, and that the origin is unchanged.
expect_skip()
{
	_d=$1
	_t=$2
	shift 2
	if ! wait_log "$_t: skipped"; then
		ok 1 "$_d"
		diag "no \"$_t: skipped\" line in the log:"
		tail -n 20 "$DLOG" | diag
		return 0
	fi
	_l=$(log_line "$_t: skipped")
	_why=
	for _p in "$@"; do
		_matches "$_l" "$_p" || _why="${_why}lacks: $_p
"
	done
	[ "$(printf '%s\n' "$_l" | wc -l)" -eq 1 ] ||
	    _why="${_why}more than one line
"
	unchanged "$O"
	if [ -z "$_why" ]; then
		ok 0 "$_d"
	else
		ok 1 "$_d"
		diag "$_why$_l"
	fi
}

# A key the trust policy does not know.
git clone -q "$CB_BARE" "$TMP/stranger"
set_conf "$TMP/stranger" serial 3
set_conf "$TMP/stranger" label 1.2
git_commit "$TMP/stranger" "Not the author's"
run_satchel build -C "$TMP/stranger" --key "$TMP/stranger.key" --tag \
    -o "$TMP/stranger.satchel"
expect_success "a stranger builds and tags serial 3"
push "$TMP/stranger" "$CB_BARE" satchel/3
expect_skip "a tag signed by a key not in the trust policy: skipped" \
    "$CB_BARE satchel/3" "no signature by a publisher key" "$STRANGER_ID"

# A name outside the publisher's scope.
bare family
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" --tag -o "$TMP/fhc.satchel"
expect_success "the author builds and tags family-health-care"
push "$REPO" "$BARE" main satchel/1
expect_skip "a name outside the publisher's scope: skipped" \
    "$BARE satchel/1" "$AUTHOR_ID" "does not allow to publish" \
    "family-health-care"

# A serial not greater than the current one: another release 1.
bare old
make_repo cb-old calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" --tag -o "$TMP/old.satchel"
expect_success "the author builds another serial 1"
push "$REPO" "$BARE" main satchel/1
expect_skip "serial 1 after serial 2: skipped (rollback)" "$BARE satchel/1" \
    "serial 1 is not greater than the store's current serial 2" \
    "rollback refused"

# The same satchel/1 pushed to a second repository.
bare copy
push "$CB" "$BARE" main satchel/1
expect_skip "satchel/1 pushed again elsewhere: skipped" "$BARE satchel/1" \
    "not greater" "already published"

# A signed manifest on a tree it does not describe: v3 is built and
# signed in a scratch clone, and its tag message put on other commits.
git clone -q "$CB" "$TMP/v3"
echo "<p>Lesson three, revised.</p>" >>"$TMP/v3/lessons/03-eight-strokes/index.html"
set_conf "$TMP/v3" serial 3
set_conf "$TMP/v3" label 1.2
git_commit "$TMP/v3" "Release 1.2"
run_satchel build -C "$TMP/v3" --key "$TMP/author.key" --tag -o "$TMP/v3.satchel"
expect_success "the author builds and tags v3 in a scratch clone"
git -C "$TMP/v3" cat-file tag satchel/3 | sed '1,/^$/d' >"$TMP/v3.msg"
grep -q "^end$" "$TMP/v3.msg"
ok $? "the tag's message is the signed manifest"

cp -R "$TMP/v3" "$TMP/v3-size"
git -C "$TMP/v3-size" tag -d satchel/3 >/dev/null
echo "<p>One more line.</p>" >>"$TMP/v3-size/lessons/01-four-treasures/index.html"
git_commit "$TMP/v3-size" "Not what was signed"
git -C "$TMP/v3-size" tag -a -F "$TMP/v3.msg" satchel/3 HEAD
bare mismatch-size
push "$TMP/v3-size" "$BARE" main satchel/3
expect_skip "a tree with a file of another size: skipped, naming the file" \
    "$BARE satchel/3" "the tree does not match the manifest" \
    'file "lessons/01-four-treasures/index.html" is' "the manifest says"

cp -R "$TMP/v3" "$TMP/v3-byte"
git -C "$TMP/v3-byte" tag -d satchel/3 >/dev/null
sed 's/Lesson three, revised/Lesson three, REVISED/' \
    "$TMP/v3/lessons/03-eight-strokes/index.html" \
    >"$TMP/v3-byte/lessons/03-eight-strokes/index.html"
git_commit "$TMP/v3-byte" "Same size, other bytes"
git -C "$TMP/v3-byte" tag -a -F "$TMP/v3.msg" satchel/3 HEAD
bare mismatch-byte
push "$TMP/v3-byte" "$BARE" main satchel/3
expect_skip "a file altered at the same size: skipped, naming the file" \
    "$BARE satchel/3" "the tree does not match the manifest" \
    'file "lessons/03-eight-strokes/index.html" has SHA-256'

cp -R "$TMP/v3" "$TMP/v3-extra"
git -C "$TMP/v3-extra" tag -d satchel/3 >/dev/null
echo "not in the manifest" >"$TMP/v3-extra/lessons/extra.txt"
git_commit "$TMP/v3-extra" "One file more"
git -C "$TMP/v3-extra" tag -a -F "$TMP/v3.msg" satchel/3 HEAD
bare mismatch-extra
push "$TMP/v3-extra" "$BARE" main satchel/3
expect_skip "a tree with a file the manifest lacks: skipped, naming it" \
    "$BARE satchel/3" 'file "lessons/extra.txt" is in the tree but not in the manifest'

# The same tree in another commit: the files match, the manifest's
# source-commit does not.
cp -R "$TMP/v3" "$TMP/v3-commit"
git -C "$TMP/v3-commit" tag -d satchel/3 >/dev/null
git_commit "$TMP/v3-commit" "Nothing changed" --allow-empty
git -C "$TMP/v3-commit" tag -a -F "$TMP/v3.msg" satchel/3 HEAD
bare mismatch-commit
push "$TMP/v3-commit" "$BARE" main satchel/3
expect_skip "the same tree in another commit: skipped, naming the line" \
    "$BARE satchel/3" 'the manifest says "source-commit' 'where the commit gives "source-commit'

# The manifest altered after it was signed.
cp -R "$TMP/v3" "$TMP/v3-label"
git -C "$TMP/v3-label" tag -d satchel/3 >/dev/null
sed 's/^label 1\.2$/label 9.9/' "$TMP/v3.msg" >"$TMP/v3-label.msg"
git -C "$TMP/v3-label" tag -a -F "$TMP/v3-label.msg" satchel/3 HEAD
bare altered
push "$TMP/v3-label" "$BARE" main satchel/3
expect_skip "a manifest altered after signing: skipped" "$BARE satchel/3" \
    "does not verify"

# Not an annotated tag; a message that is no manifest.
bare lightweight
git -C "$TMP/v3-label" tag satchel/4 HEAD
git -C "$TMP/v3-label" tag -a -m "Release 5, trust me" satchel/5 HEAD
push "$TMP/v3-label" "$BARE" main satchel/4 satchel/5
expect_skip "a lightweight tag: skipped" "$BARE satchel/4" \
    "not an annotated tag"
expect_skip "a tag whose message is no manifest: skipped" "$BARE satchel/5" \
    "not a signed manifest"

# Skipped tags are not tried again while they stay as they are.
sleep 3
_n=$(grep -c "satchel/[0-9]*: skipped" "$DLOG")
is "$_n" 11 "three polls later: still one line per skipped tag"
unchanged "$O"
is "$(catalog_serial "$O")" $((C0 + 2)) "after all that, no new catalog"

# --- and a good tag still lands --------------------------------------------

bare good
push "$TMP/v3" "$BARE" main satchel/3
wait_log "published calligraphy-basics 1.2 (serial 3)"
ok $? "the genuine v3, pushed to another repository, is published"
is "$(catalog_serial "$O")" $((C0 + 3)) "a new catalog"
run_satchel pull "$URL" --store "$M"
expect_success "the mirror pulls v3"
run_satchel archive --store "$M" -o "$TMP/m3.satchel" calligraphy-basics@3
cmp -s "$TMP/m3.satchel" "$TMP/v3.satchel"
ok $? "v3 from the mirror is the author's archive, byte for byte"

# --- SIGTERM while a publish runs ------------------------------------------
#
# A `satchel publish` holds the store's lock (flock stands in for it), so
# the intake's publish of v4 waits inside store_publish's store_open once
# its archive is built. SIGTERM must still end the daemon after the grace
# period, leave the store as it was, and the next satcheld publish v4.

bg_start LPID flock "$O/lock" sleep 60
_i=0
while [ "$_i" -lt 100 ] && flock -n "$O/lock" true; do
	sleep 0.1
	_i=$((_i + 1))
done
snapshot "$O"
echo "<p>Lesson one, revised.</p>" >>"$TMP/v3/lessons/01-four-treasures/index.html"
set_conf "$TMP/v3" serial 4
set_conf "$TMP/v3" label 1.3
git_commit "$TMP/v3" "Release 1.3"
run_satchel build -C "$TMP/v3" --key "$TMP/author.key" --tag -o "$TMP/v4.satchel"
expect_success "the author builds and tags v4"
push "$TMP/v3" "$GITDIR/good.git" main satchel/4
_i=0
while [ "$_i" -lt 300 ] && ! ls "$O/tmp/" | grep -q '^intake-.*\.satchel$'; do
	sleep 0.1
	_i=$((_i + 1))
done
ls "$O/tmp/" | grep -q '^intake-.*\.satchel$'
ok $? "v4's archive is built in the store's tmp/; its publish waits for the lock"
kill -TERM "$DPID"
bg_wait "$DPID"
is "$BG_RC" 0 "SIGTERM during the publish: satcheld exits 0, not killed"
also "no sanitizer report" sanitizer_free "$DLOG"
like "$(cat "$DLOG")" "a publish is still running after 4 s; exiting" \
    "it says it leaves the publish after the grace period"
kill_recorded "$LPID"
# tmp/ may hold the archive the intake had built: a leftover gc removes,
# and the next try at the same tag replaces.
fingerprint "$O" | grep -v ' \./tmp/' >"$TMP/fp.after"
grep -v ' \./tmp/' "$TMP/fp.before" | cmp -s - "$TMP/fp.after"
ok $? "the store is as it was (tmp/ aside)"
run_satchel fsck "$O"
expect_success "fsck: the origin is whole"

bg_start DPID "$SATCHELD" --store "$O" --sync-listen 127.0.0.1:0 \
    --git-repos "$GITDIR" --git-poll 1
DLOG=$BG_ERR
wait_log "published calligraphy-basics 1.3 (serial 4)"
ok $? "the next satcheld publishes v4"
is "$(catalog_serial "$O")" $((C0 + 4)) "a new catalog"
like "$(log_line "$GITDIR/copy.git satchel/1")" "already published" \
    "tags seen before are logged again, and skipped"

# --- stopping --------------------------------------------------------------

kill -TERM "$DPID"
bg_wait "$DPID"
is "$BG_RC" 0 "SIGTERM: satcheld exits 0"
also "no sanitizer report" sanitizer_free "$DLOG"
like "$(cat "$DLOG")" "satcheld: stopped" "the daemon says it stopped"
run_satchel fsck "$O"
expect_success "fsck: the origin is whole"
dir_empty "$O/tmp"
ok $? "the origin's tmp/ is empty"

done_testing
