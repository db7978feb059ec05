#!/bin/sh
# crash.sh: crash safety of `satchel publish`, `satchel pull` and
# `satchel gc`. Each
# is started on a store in the background and SIGKILLed after a random
# delay between 0 and the time a whole run takes here; then `fsck` must
# find the store clean, `ls` must show either the old state or the new one
# (the bundle's serial is the old or the new, nothing else), and running
# the same command again must leave the new state: fsck clean, and the
# archive byte for byte the published file.
#
# CRASH_SEED=N replays a run's delays (its seed is printed first), as
# fractions of the measured run time; CRASH_PUBLISH_TIME and
# CRASH_PULL_TIME (seconds, printed too) replace the measured times;
# CRASH_ITERATIONS=N sets the kills per command (default 50).
. "$(dirname "$0")/lib.sh"
need zstd tar awk date sleep cp ps

cd "$TMP" || bail_out "cannot enter $TMP"

ITER=${CRASH_ITERATIONS:-50}
SEED=${CRASH_SEED:-$(date +%s)}
NAME=new-citizen-orientation

# --- helpers -----------------------------------------------------------------

# elapsed T0 T1: seconds from the now_ns T0 to T1.
elapsed()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}

# ls_serial DIR: sets SV to the serial `satchel ls DIR` shows for $NAME
# (empty when it does not list it) and LS_RC to ls's exit status.
ls_serial()
{
	run_satchel ls "$1"
	LS_RC=$RC
	[ "$SANITIZED" -eq 0 ] || LS_RC=sanitizer
	SV=$(printf '%s\n' "$OUT" | awk -v n="$NAME" '$1 == n { print $3 }')
}

# why TEXT: a reason the current iteration fails.
WHY=
why()
{
	WHY="$WHY$*
"
}

# last_run: the last command and its output, for why.
last_run()
{
	printf '%s exited %s; stdout: %s; stderr: %s' "$LAST_CMD" "$RC" \
	    "$(printf '%s' "$OUT" | head -n 3)" \
	    "$(printf '%s\n' "$ERR" | grep -v '^copying: ' | head -n 3)"
}

# fsck_clean DIR WHEN
fsck_clean()
{
	run_satchel fsck "$1"
	if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ]; then
		why "fsck $2: $(last_run)"
	fi
}

# report DESCRIPTION: one case for the iteration, failing with WHY.
report()
{
	if [ -z "$WHY" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		printf '%s' "$WHY" | diag
	fi
	WHY=
}

# --- keys, policy, bundles ----------------------------------------------------------

for k in root catalog author; do
	run_satchel keygen "$TMP/$k.key"
	also "keygen $k" test "$RC" -eq 0
done
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" "$NAME"
expect_success "keys and a trust policy"

make_repo "$NAME"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/v1.satchel"
expect_success "build $NAME v1" "serial 1"
# v2 adds 30 MB that do not compress, so that a kill lands mid-work.
head -c 30000000 /dev/urandom >"$REPO/big.bin"
set_conf "$REPO" serial 2
set_conf "$REPO" label 1.1
git_commit "$REPO" "Add a big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/v2.satchel"
expect_success "build $NAME v2 with a 30 MB file" "serial 2"

# The stores: an origin at v1 (publish's starting point), a school at v1
# (pull's), and a USB drive at v2 (pull's source).
O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" "$TMP/v1.satchel"
also "school" "$SATCHEL" store init --trust "$TMP/policy" "$TMP/school-v1"
also "pull v1 into the school" "$SATCHEL" pull "$O" --store "$TMP/school-v1"
also "origin at v1 kept" cp -a "$O" "$TMP/origin-v1"
also "publish v2" "$SATCHEL" publish --store "$O" "$TMP/v2.satchel"
also "pull v2 to the USB drive" "$SATCHEL" pull "$O" --store "$TMP/usb"
ls_serial "$TMP/school-v1"
also "the school is at serial 1" test "$SV" = 1
ls_serial "$TMP/usb"
also "the USB drive is at serial 2" test "$SV" = 2
expect_success "an origin and a school at v1, a USB drive at v2"

diag "CRASH_SEED=$SEED (set it to replay these delays), $ITER kills per command"

# --- publish ------------------------------------------------------------------------------

rm -rf "$TMP/pub"
cp -a "$TMP/origin-v1" "$TMP/pub"
T0=$(now_ns)
run_satchel publish --store "$TMP/pub" "$TMP/v2.satchel"
T1=$(now_ns)
DUR=$(elapsed "$T0" "$T1")
expect_success "an uninterrupted publish of v2 takes $DUR s" "catalog serial 3"
DUR=${CRASH_PUBLISH_TIME:-$DUR}
diag "kill delays: 0 to CRASH_PUBLISH_TIME=$DUR s"

OLD=0
NEW=0
LANDED=0
i=1
while [ "$i" -le "$ITER" ]; do
	S=$TMP/pub
	rm -rf "$S"
	cp -a "$TMP/origin-v1" "$S"
	DL=$(delay "$((SEED + i))" "$DUR")
	bg_start PID "$SATCHEL" publish --store "$S" "$TMP/v2.satchel"
	sleep "$DL"
	sigkill "$PID"
	[ "$BG_RC" = 137 ] || [ "$BG_RC" = 0 ] ||
		why "the killed publish exited $BG_RC by itself: $(head -n 3 "$BG_ERR")"
	[ "$BG_RC" = 137 ] && LANDED=$((LANDED + 1))
	fsck_clean "$S" "after the kill"
	ls_serial "$S"
	[ "$LS_RC" = 0 ] || why "ls after the kill: $(last_run)"
	CS=$(sed -n 's/^serial //p' "$S/meta/catalog")
	case $SV/$CS in
	1/2)
		state=old
		OLD=$((OLD + 1))
		run_satchel publish --store "$S" "$TMP/v2.satchel"
		if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ]; then
			why "publish again: $(last_run)"
		fi
		;;
	2/3)
		state=new
		NEW=$((NEW + 1))
		# Done already: publishing the same serial again is refused.
		run_satchel publish --store "$S" "$TMP/v2.satchel"
		if [ "$RC" -ne 1 ] || ! printf '%s\n' "$ERR" | grep -q 'not greater'; then
			why "publish again after a complete publish: $(last_run)"
		fi
		;;
	*)
		state="neither: ls serial '$SV', catalog serial '$CS'"
		why "after the kill, ls shows serial '$SV' and the catalog has serial '$CS'" \
		    "(old: 1 and 2, new: 2 and 3)"
		;;
	esac
	fsck_clean "$S" "after publishing again"
	ls_serial "$S"
	[ "$SV" = 2 ] || why "ls after publishing again shows serial '$SV', not 2"
	run_satchel archive --store "$S" -o "$TMP/pub.satchel" "$NAME"
	cmp -s "$TMP/pub.satchel" "$TMP/v2.satchel" ||
		why "the archive after publishing again differs from v2: $(last_run)"
	rm -f "$TMP/pub.satchel"
	[ "$BG_RC" = 0 ] && state="$state (it had ended)"
	report "publish $i, killed after $DL s (seed $((SEED + i))): $state state, fsck clean, re-run leaves v2"
	i=$((i + 1))
done
diag "publish: $LANDED of $ITER kills landed before it ended;" \
    "$OLD left the old state, $NEW the new one"

# --- pull ----------------------------------------------------------------------------------

rm -rf "$TMP/dst"
cp -a "$TMP/school-v1" "$TMP/dst"
T0=$(now_ns)
run_satchel pull "$TMP/usb" --store "$TMP/dst"
T1=$(now_ns)
DUR=$(elapsed "$T0" "$T1")
expect_success "an uninterrupted pull of v2 takes $DUR s" "1 release updated"
DUR=${CRASH_PULL_TIME:-$DUR}
diag "kill delays: 0 to CRASH_PULL_TIME=$DUR s"

OLD=0
NEW=0
LANDED=0
i=1
while [ "$i" -le "$ITER" ]; do
	S=$TMP/dst
	rm -rf "$S"
	cp -a "$TMP/school-v1" "$S"
	DL=$(delay "$((SEED + 1000 + i))" "$DUR")
	bg_start PID "$SATCHEL" pull "$TMP/usb" --store "$S"
	sleep "$DL"
	sigkill "$PID"
	[ "$BG_RC" = 137 ] || [ "$BG_RC" = 0 ] ||
		why "the killed pull exited $BG_RC by itself: $(head -n 3 "$BG_ERR")"
	[ "$BG_RC" = 137 ] && LANDED=$((LANDED + 1))
	fsck_clean "$S" "after the kill"
	ls_serial "$S"
	[ "$LS_RC" = 0 ] || why "ls after the kill: $(last_run)"
	case $SV in
	1)
		state=old
		OLD=$((OLD + 1))
		run_satchel archive --store "$S" -o "$TMP/old.satchel" "$NAME"
		cmp -s "$TMP/old.satchel" "$TMP/v1.satchel" ||
			why "in the old state, the archive differs from v1: $(last_run)"
		rm -f "$TMP/old.satchel"
		want="1 release updated"
		;;
	2)
		state=new
		NEW=$((NEW + 1))
		want="0 releases updated, 1 already current"
		;;
	*)
		state="neither: ls serial '$SV'"
		why "after the kill, ls shows serial '$SV' (old: 1, new: 2)"
		want=
		;;
	esac
	run_satchel pull "$TMP/usb" --store "$S"
	if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ] ||
	    ! printf '%s\n' "$OUT" | grep -Fq -- "$want"; then
		why "pull again (expected \"$want\"): $(last_run)"
	fi
	dir_empty "$S/tmp" || why "tmp/ not empty after pulling again: $(ls -R "$S/tmp" | head -n 5)"
	fsck_clean "$S" "after pulling again"
	ls_serial "$S"
	[ "$SV" = 2 ] || why "ls after pulling again shows serial '$SV', not 2"
	run_satchel archive --store "$S" -o "$TMP/pull.satchel" "$NAME"
	cmp -s "$TMP/pull.satchel" "$TMP/v2.satchel" ||
		why "the archive after pulling again differs from v2: $(last_run)"
	rm -f "$TMP/pull.satchel"
	[ "$BG_RC" = 0 ] && state="$state (it had ended)"
	report "pull $i, killed after $DL s (seed $((SEED + 1000 + i))): $state state, fsck clean, re-run leaves v2"
	i=$((i + 1))
done
diag "pull: $LANDED of $ITER kills landed before it ended;" \
    "$OLD left the old state, $NEW the new one"

# --- gc ----------------------------------------------------------------------------------
# An origin holding v1, v2 (with the 30 MB file) and v3 (without it): gc
# --keep 1 removes two releases and the big object. Killed at any moment,
# the current release stays whole and a re-run finishes the job.

git -C "$REPO" rm -q big.bin
set_conf "$REPO" serial 3
set_conf "$REPO" label 1.2
git_commit "$REPO" "Drop the big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/v3.satchel"
also "publish v3" "$SATCHEL" publish --store "$O" "$TMP/v3.satchel"
expect_success "build $NAME v3 and publish it after v1 and v2" "serial 3"
rm -rf "$TMP/gc"
cp -a "$O" "$TMP/gc-base"
cp -a "$TMP/gc-base" "$TMP/gc"
T0=$(now_ns)
run_satchel gc --keep 1 "$TMP/gc"
T1=$(now_ns)
DUR=$(elapsed "$T0" "$T1")
expect_success "an uninterrupted gc --keep 1 takes $DUR s" "removed 2 releases"
DUR=${CRASH_GC_TIME:-$DUR}

i=1
while [ "$i" -le "$ITER" ]; do
	S=$TMP/gc
	rm -rf "$S"
	cp -a "$TMP/gc-base" "$S"
	DL=$(delay "$((SEED + 2000 + i))" "$DUR")
	bg_start PID "$SATCHEL" gc --keep 1 "$S"
	sleep "$DL"
	sigkill "$PID"
	[ "$BG_RC" = 137 ] || [ "$BG_RC" = 0 ] ||
		why "the killed gc exited $BG_RC by itself: $(head -n 3 "$BG_ERR")"
	fsck_clean "$S" "after the kill"
	ls_serial "$S"
	[ "$SV" = 3 ] || why "after the kill, ls shows serial '$SV', not 3"
	run_satchel archive --store "$S" -o "$TMP/gc.satchel" "$NAME"
	cmp -s "$TMP/gc.satchel" "$TMP/v3.satchel" ||
		why "after the kill, the archive differs from v3: $(last_run)"
	rm -f "$TMP/gc.satchel"
	run_satchel gc --keep 1 "$S"
	if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ]; then
		why "gc again: $(last_run)"
	fi
	fsck_clean "$S" "after gc again"
	run_satchel log "$S" "$NAME"
	n=$(printf '%s\n' "$OUT" | grep -c '(serial ')
	[ "$n" = 1 ] || why "after gc again, log shows $n releases, not 1"
	[ -z "$(find "$S/objects" -type f -size +20M)" ] ||
		why "after gc again, the 30 MB object is still there"
	report "gc $i, killed after $DL s (seed $((SEED + 2000 + i))): fsck clean, v3 whole, re-run finishes"
	i=$((i + 1))
done

done_testing
