#!/bin/sh
# mirrors50.sh: one satcheld, 50 schools pulling from it at once (issue
# 4: "a 2-core server feeds 50 mirrors"). Fifty concurrent `satchel pull
# satchel://...` into 50 fresh stores: every pull succeeds, every store is
# fsck clean and holds exactly the origin's catalog, release files and
# objects, one archive from each is byte for byte the published file,
# and satcheld logged 50 closed connections and no sanitizer report.
. "$(dirname "$0")/lib.sh"
need python3 head sed zstd tar
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

N=50

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    family-health-care calligraphy-basics
expect_success "trust policy: catalog key, author for two bundles"

make_repo family-health-care
python3 - "$REPO/notes" <<'PYEOF'
# 60 files of 1 to 40 KiB (half text, half random) and one of 1 MiB.
import os, random, sys
d = sys.argv[1]
rng = random.Random(50)
os.makedirs(d)
for i in range(60):
    size = rng.randint(1024, 40 * 1024)
    if i % 2:
        data = os.urandom(size)
    else:
        data = (("lesson %d " % i) * size)[:size].encode()
    with open(os.path.join(d, "note-%02d.txt" % i), "wb") as f:
        f.write(data)
with open(os.path.join(d, "big.bin"), "wb") as f:
    f.write(os.urandom(1 << 20))
PYEOF
git_commit "$REPO" "Add notes"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc.satchel"
expect_success "build family-health-care with 61 more files" "serial 1"
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics" "serial 1"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/fhc.satchel" "$TMP/cb.satchel"
expect_success "the origin, with both bundles published"
objects "$O" >"$TMP/origin.objects"

start_satcheld DO "satcheld serves the origin" --store "$O" --idle-timeout 60
OPORT=$PORT
URL=satchel://127.0.0.1:$OPORT

# --- 50 pulls at once ---------------------------------------------------------------------

PIDS=
i=1
while [ "$i" -le "$N" ]; do
	bg_start P "$SATCHEL" pull "$URL" --store "$TMP/m$i"
	PIDS="$PIDS $P"
	eval "ERR_$i=\$BG_ERR"
	i=$((i + 1))
done
FAILED=0
i=1
for p in $PIDS; do
	bg_wait "$p"
	if [ "$BG_RC" -ne 0 ]; then
		FAILED=$((FAILED + 1))
		eval "diag \"pull $i (rc $BG_RC): \$(tail -n 2 \"\$ERR_$i\")\""
	fi
	i=$((i + 1))
done
is "$FAILED" 0 "all $N concurrent pulls succeeded"

BAD_FSCK=0
BAD_SAME=0
i=1
while [ "$i" -le "$N" ]; do
	M=$TMP/m$i
	if ! "$SATCHEL" fsck "$M" >/dev/null 2>&1; then
		BAD_FSCK=$((BAD_FSCK + 1))
		diag "fsck m$i: $("$SATCHEL" fsck "$M" 2>&1 | tail -n 1)"
	fi
	if [ "$(objects "$M")" != "$(cat "$TMP/origin.objects")" ] ||
	    ! cmp -s "$M/meta/catalog" "$O/meta/catalog" ||
	    ! cmp -s "$M/meta/trust" "$O/meta/trust" ||
	    ! cmp -s "$M/meta/releases/family-health-care/1.signed" \
	    "$O/meta/releases/family-health-care/1.signed" ||
	    ! cmp -s "$M/meta/releases/calligraphy-basics/1.signed" \
	    "$O/meta/releases/calligraphy-basics/1.signed" ||
	    ! dir_empty "$M/tmp"; then
		BAD_SAME=$((BAD_SAME + 1))
		diag "m$i differs from the origin"
	fi
	i=$((i + 1))
done
is "$BAD_FSCK" 0 "all $N stores: fsck clean"
is "$BAD_SAME" 0 "all $N stores: the origin's catalog, trust, releases and objects"

BAD_ARCH=0
i=1
while [ "$i" -le "$N" ]; do
	rm -f "$TMP/a.satchel"
	if ! "$SATCHEL" archive --store "$TMP/m$i" -o "$TMP/a.satchel" \
	    family-health-care >/dev/null 2>&1 ||
	    ! cmp -s "$TMP/a.satchel" "$TMP/fhc.satchel"; then
		BAD_ARCH=$((BAD_ARCH + 1))
		diag "m$i: the archive differs from the published file"
	fi
	i=$((i + 1))
done
is "$BAD_ARCH" 0 "all $N archives of family-health-care: the published file"

# The daemon logs a close once the peer's EOF follows its BYE: wait up
# to 10 s for the last one.
_i=0
while [ "$_i" -lt 100 ]; do
	CLOSED=$(grep -c 'closed after .*peer said BYE' "$DLOG")
	[ "$CLOSED" -ge "$N" ] && break
	sleep 0.1
	_i=$((_i + 1))
done
is "$CLOSED" "$N" "satcheld logged $N connections that ended with BYE"
if kill -0 "$DO" 2>/dev/null; then
	ok 0 "satcheld still runs"
else
	ok 1 "satcheld still runs"
fi
kill_recorded "$DO"
no_sanitizer "$DLOG"

done_testing
