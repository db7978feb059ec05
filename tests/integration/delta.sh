#!/bin/sh
# delta.sh: updates travel as deltas (SPEC §11 "Deltas", §10 "Deltas")
# between real satcheld daemons and `satchel pull` on 127.0.0.1. A school
# holding release 1 pulls release 2, whose files were edited in every way
# the issue lists (a text edit, a binary change in the middle, an append,
# a truncation, a file grown 10x, an emptied file, a rename, a file moved
# between lessons with an edit): each changed file is rebuilt from a
# delta, byte for byte, and fewer bytes cross the wire than without
# deltas. Refusals: an origin that lacks the base (gc'd) answers
# not-found; cached deltas damaged or swapped on the origin decode to
# nothing or to other bytes; each time the school fetches the object
# whole and ends with the exact release. A cut delta transfer resumes from
# the bytes it kept. A mixed chain: origin (deltas) -> mirror A without
# the capability -> school B with it.
. "$(dirname "$0")/lib.sh"
need python3 sha256sum cut grep sed
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

serve()
{
	start_satcheld "$1" "satcheld serves $(basename "$3")" --store "$3"
	eval "$2=\$PORT"
	eval "${1}_LOG=\$DLOG"
}

# closed LOG: how many connections the daemon with that log has closed.
closed()
{
	grep -c 'closed after' "$1" 2>/dev/null || true
}

# bytes_out LOG N: waits until N connections have closed, then prints the
# bytes sent on the last one.
bytes_out()
{
	wait_until 10 sh -c "[ \$(grep -c 'closed after' '$1') -ge $2 ]" || true
	grep 'closed after' "$1" | tail -n 1 |
	    sed 's/.* \([0-9][0-9]*\) bytes out.*/\1/'
}

# pulled STORE NAME ARCHIVE DESCRIPTION: the store's release, archived,
# is the published file byte for byte, and fsck finds the store clean.
pulled()
{
	rm -f "$TMP/check.satchel"
	run_satchel archive --store "$1" -o "$TMP/check.satchel" "$2"
	expect_success "archive $2 from $(basename "$1")"
	same_bytes "$TMP/check.satchel" "$3" "$4"
	run_satchel fsck "$1"
	expect_success "fsck $(basename "$1"): clean" "clean"
}

# --- a bundle whose release 2 changes its files in every way ----------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
expect_success "trust policy for calligraphy-basics"
make_repo calligraphy-basics
CB=$REPO
L1=$CB/lessons/01-four-treasures
L2=$CB/lessons/02-holding-the-brush

cat >"$TMP/gen.py" <<'PYEOF'
# gen.py STEP DIR1 DIR2: writes the files of release 1 (STEP 1) or
# changes them into release 2 (STEP 2); deterministic.
import os, random, sys
step, d1, d2 = sys.argv[1], sys.argv[2], sys.argv[3]
r = random.Random(7)
words = ["brush", "ink", "stone", "paper", "stroke", "water", "hand",
         "practice", "line", "dot", "hook", "turn", "master", "student"]
def text(n, seed):
    g = random.Random(seed)
    return "".join("<p>%s</p>\n" % " ".join(g.choice(words)
                   for _ in range(12)) for _ in range(n))
def put(p, b):
    with open(p, "wb") as f:
        f.write(b)
big = bytes(r.getrandbits(8) for _ in range(1 << 20))
if step == "1":
    put(d1 + "/text.html", text(200, 1).encode())
    put(d1 + "/middle.bin", big)
    put(d1 + "/append.txt", text(300, 2).encode())
    put(d1 + "/trunc.bin", big[:256 << 10])
    put(d1 + "/grow.txt", text(120, 3).encode())
    put(d1 + "/empty.txt", text(60, 4).encode())
    put(d1 + "/renamed.txt", text(80, 5).encode())
    put(d1 + "/moved.html", text(150, 6).encode())
    put(d1 + "/rewritten.html", text(150, 20).encode())
else:
    t = text(200, 1).split("\n")
    t[100] = "<p>a paragraph rewritten for the second release</p>"
    put(d1 + "/text.html", "\n".join(t).encode())
    b = bytearray(big)
    g = random.Random(8)
    for i in range(4096):
        b[(1 << 19) + i] = g.getrandbits(8)
    put(d1 + "/middle.bin", bytes(b))
    put(d1 + "/append.txt", (text(300, 2) + text(30, 9)).encode())
    put(d1 + "/trunc.bin", big[:100 << 10])
    put(d1 + "/grow.txt", "".join(text(120, 3).replace("ink", "ink%d" % k)
                                  for k in range(10)).encode())
    put(d1 + "/empty.txt", b"")
    os.rename(d1 + "/renamed.txt", d1 + "/renamed-again.txt")
    os.unlink(d1 + "/moved.html")
    m = text(150, 6).split("\n")
    m[3] = "<p>moved to the second lesson, and edited</p>"
    put(d2 + "/moved.html", "\n".join(m).encode())
    put(d1 + "/rewritten.html", text(150, 21).encode())
PYEOF
python3 "$TMP/gen.py" 1 "$L1" "$L2" || bail_out "gen.py 1 failed"
git_commit "$CB" "Files for the delta test"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build release 1" "serial 1"
python3 "$TMP/gen.py" 2 "$L1" "$L2" || bail_out "gen.py 2 failed"
set_conf "$CB" serial 2
set_conf "$CB" label 1.1
git_commit "$CB" "Release 1.1: every kind of change"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
expect_success "build release 2" "serial 2"
echo "<p>Third.</p>" >>"$L1/index.html"
set_conf "$CB" serial 3
set_conf "$CB" label 1.2
git_commit "$CB" "Release 1.2"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb3.satchel"
expect_success "build release 3" "serial 3"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" "$TMP/cb1.satchel"
expect_success "the origin, with release 1"
serve DO OPORT "$O"
URL=satchel://127.0.0.1:$OPORT

# Schools at release 1: one pulls with deltas, one without, one is kept
# for the refusals, one for the cut.
for s in s1 s2 s3 s4 s5; do
	run_satchel pull "$URL" --store "$TMP/$s"
	expect_success "school $s pulls release 1" "1 release updated"
done
N=$(closed "$DO_LOG")

run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish release 2 to the origin: its deltas made ahead" \
    "catalog serial" "made 8 deltas against serial 1" "1 declined"

# --- release 2 by deltas --------------------------------------------------

run_satchel pull "$URL" --store "$TMP/s1"
expect_success "s1 pulls release 2: 7 changed files by delta, the rewritten one whole" \
    "1 release updated" "7 of the files copied were rebuilt from deltas" \
    "1 fetched whole instead of by delta"
N=$((N + 1))
WITH=$(bytes_out "$DO_LOG" "$N")
pulled "$TMP/s1" calligraphy-basics "$TMP/cb2.satchel" \
    "s1's release 2 is the published file, byte for byte"
also "the origin cached the deltas in deltas/" \
    test "$(find "$O/deltas" -type f ! -name '*.m' -size +0 | wc -l)" -eq 7
also "the declined delta is an empty file" \
    test "$(find "$O/deltas" -type f -size 0 | wc -l)" -eq 1
also "the origin cached the manifest's delta" \
    test "$(find "$O/deltas" -type f -name '*.m' | wc -l)" -eq 1
also "s1's staging directory is gone" dir_empty "$TMP/s1/tmp"

SATCHEL_NO_DELTA=1 run_satchel pull "$URL" --store "$TMP/s2"
expect_success "s2 pulls release 2 without deltas (SATCHEL_NO_DELTA=1)" \
    "1 release updated"
unlike "s2: nothing rebuilt from deltas" "$OUT" "deltas"
N=$((N + 1))
WITHOUT=$(bytes_out "$DO_LOG" "$N")
pulled "$TMP/s2" calligraphy-basics "$TMP/cb2.satchel" \
    "s2's release 2 is the published file, byte for byte"
diag "release 1 -> 2: $WITH bytes with deltas, $WITHOUT without"
ok "$([ "$WITH" -gt 0 ] && [ $((WITH * 4)) -lt "$WITHOUT" ]; echo $?)" \
    "deltas send under a quarter of the bytes ($WITH of $WITHOUT)"

# --- refusals: damaged and swapped deltas on the origin ------------------

# Every cached delta damaged (one byte flipped in its middle), the
# manifest's included: the school rebuilds nothing from them and fetches
# each file whole.
for f in $(find "$O/deltas" -type f -size +0 | sort); do
	flip_byte "$f" $(($(wc -c <"$f") / 2))
done
run_satchel pull "$URL" --store "$TMP/s3"
expect_success "s3 pulls release 2 from damaged deltas: 9 fetched whole" \
    "1 release updated" "9 fetched whole instead of by delta"
unlike "s3: nothing rebuilt from a damaged delta" "$OUT" "rebuilt from deltas"
pulled "$TMP/s3" calligraphy-basics "$TMP/cb2.satchel" \
    "s3's release 2 is the published file, byte for byte"

# Swapped: each object's delta replaced by another object's, valid
# deltas of other files (they decode to other bytes, or not at all).
set -- $(find "$O/deltas" -type f ! -name '*.m' -size +0 | sort)
while [ $# -gt 1 ]; do
	cp "$2" "$1.swap" && mv "$1.swap" "$1"
	shift
done
run_satchel pull "$URL" --store "$TMP/s4"
expect_success "s4 pulls release 2 from swapped deltas: fetched whole" \
    "1 release updated" "fetched whole instead of by delta"
pulled "$TMP/s4" calligraphy-basics "$TMP/cb2.satchel" \
    "s4's release 2 is the published file, byte for byte"

# --- gc: the origin drops release 1 and with it the bases -----------------

D0=$(find "$O/deltas" -type f | wc -l)
run_satchel publish --no-deltas --store "$O" "$TMP/cb3.satchel"
also "--no-deltas made none" test "$(find "$O/deltas" -type f | wc -l)" -eq "$D0"
expect_success "publish release 3 to the origin, --no-deltas"
unlike "no deltas made" "$OUT" "made"
run_satchel pull "$URL" --store "$TMP/s1"
expect_success "s1 (release 2) pulls release 3 by delta" \
    "2 of the files copied were rebuilt from deltas"
pulled "$TMP/s1" calligraphy-basics "$TMP/cb3.satchel" \
    "s1's release 3 is the published file, byte for byte"
also "satcheld made the 2 deltas and the manifest's on request" \
    test "$(find "$O/deltas" -type f | wc -l)" -eq $((D0 + 3))
run_satchel gc --keep 1 "$O"
expect_success "gc the origin, keeping 1 release"
also "gc removed the deltas whose bases went" \
    test "$(find "$O/deltas" -type f 2>/dev/null | wc -l)" -eq 0
run_satchel pull "$URL" --store "$TMP/s5"
expect_success "s5 (release 1) pulls release 3: the origin lacks the bases" \
    "1 release updated" "fetched whole instead of by delta"
pulled "$TMP/s5" calligraphy-basics "$TMP/cb3.satchel" \
    "s5's release 3 is the published file, byte for byte"

# --- a cut delta transfer resumes ------------------------------------------

# A 4 MiB file whose second release rewrites 1 MiB of it: its delta is
# about 1 MiB. A relay cuts the connection after 400 KiB; the school
# keeps the delta's bytes, and the next pull asks for the rest.
make_repo new-citizen-orientation
NC=$REPO
python3 -c '
import random, sys
r = random.Random(11)
open(sys.argv[1], "wb").write(bytes(r.getrandbits(8) for _ in range(4 << 20)))
' "$NC/video.bin"
git_commit "$NC" "A video"
make_policy "$TMP/policy-nc" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    new-citizen-orientation
run_satchel build -C "$NC" --key "$TMP/author.key" -o "$TMP/nc1.satchel"
expect_success "build new-citizen-orientation 1 with a 4 MiB file"
python3 -c '
import random, sys
b = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(12)
b[1 << 21:(1 << 21) + (1 << 20)] = bytes(r.getrandbits(8) for _ in range(1 << 20))
open(sys.argv[1], "wb").write(b)
' "$NC/video.bin"
set_conf "$NC" serial 2
git_commit "$NC" "Re-cut the middle of the video"
run_satchel build -C "$NC" --key "$TMP/author.key" -o "$TMP/nc2.satchel"
expect_success "build new-citizen-orientation 2: 1 MiB of the video rewritten"
O2=$TMP/origin2
make_origin "$O2" "$TMP/policy-nc" "$TMP/catalog.key" "$TMP/nc1.satchel"
expect_success "a second origin, with release 1"
serve DO2 O2PORT "$O2"
URL2=satchel://127.0.0.1:$O2PORT
run_satchel pull "$URL2" --store "$TMP/c1"
expect_success "school c1 pulls release 1"
SATCHEL_NO_DELTA=1 run_satchel pull "$URL2" --store "$TMP/a"
expect_success "mirror A, without the capability, pulls release 1"
SATCHEL_NO_DELTA=1 start_satcheld DA "satcheld without \"delta\" serves A" \
    --store "$TMP/a"
APORT=$PORT
run_satchel pull "satchel://127.0.0.1:$APORT" --store "$TMP/b"
expect_success "school B pulls release 1 from A"
run_satchel publish --store "$O2" "$TMP/nc2.satchel"
expect_success "publish release 2 to the second origin"

cat >"$TMP/cut.py" <<'PYEOF'
# cut.py CUT UPSTREAM_PORT PORTFILE: one connection from 127.0.0.1 (port
# 0, written to PORTFILE) relayed to UPSTREAM_PORT; closed once CUT bytes
# came from the server. Within 60 s.
import os, select, socket, sys, time
cut, up, pf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(pf + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
os.replace(pf + ".tmp", pf)
ls.settimeout(60)
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", up), timeout=10)
end, down = time.monotonic() + 60, 0
while down < cut and time.monotonic() < end:
    r, _, _ = select.select([c, s], [], [], 1)
    if c in r:
        d = c.recv(65536)
        if not d:
            break
        s.sendall(d)
    if s in r:
        d = s.recv(min(65536, cut - down))
        if not d:
            break
        c.sendall(d)
        down += len(d)
c.close()
s.close()
PYEOF
bg_start RELAY python3 "$TMP/cut.py" 409600 "$O2PORT" "$TMP/relay.port"
wait_file "$TMP/relay.port" || bail_out "the relay did not start"
run_satchel pull "satchel://127.0.0.1:$(cat "$TMP/relay.port")" --store "$TMP/c1"
expect_fail "pull through a relay that cuts after 400 KiB: fails"
bg_wait "$RELAY"
KEPT=$(find "$TMP/c1/tmp" -name '*.delta' -size +1k 2>/dev/null | head -n 1)
ok "$([ -n "$KEPT" ]; echo $?)" "the cut left the delta's bytes in tmp/pull-N/"
HAVE=$(wc -c <"${KEPT:-/dev/null}" | tr -d ' ')
M=$(closed "$DO2_LOG")
run_satchel pull "$URL2" --store "$TMP/c1"
expect_success "pull again: resumed, the video rebuilt from its delta" \
    "1 of the files copied were rebuilt from deltas"
REST=$(bytes_out "$DO2_LOG" $((M + 1)))
DSIZE=$(find "$O2/deltas" -type f ! -name '*.m' -exec cat {} + | wc -c | tr -d ' ')
diag "delta $DSIZE bytes; kept $HAVE after the cut; the resumed pull sent $REST"
ok "$([ "$HAVE" -gt 0 ] && [ "$REST" -lt $((DSIZE - HAVE + 65536)) ]; echo $?)" \
    "the resumed pull did not send the kept bytes again"
pulled "$TMP/c1" new-citizen-orientation "$TMP/nc2.satchel" \
    "c1's release 2 is the published file, byte for byte"

# --- a mixed chain: origin -> A (no "delta") -> B -----------------------

SATCHEL_NO_DELTA=1 run_satchel pull "$URL2" --store "$TMP/a"
expect_success "mirror A, without the capability, pulls release 2 from the origin" \
    "1 release updated"
unlike "A: nothing by delta" "$OUT" "deltas"
pulled "$TMP/a" new-citizen-orientation "$TMP/nc2.satchel" \
    "A's release 2 is the published file, byte for byte"
run_satchel pull "satchel://127.0.0.1:$APORT" --store "$TMP/b"
expect_success "school B, with the capability, pulls release 2 from A" \
    "1 release updated"
unlike "B: nothing by delta (A has no \"delta\")" "$OUT" "deltas"
pulled "$TMP/b" new-citizen-orientation "$TMP/nc2.satchel" \
    "B's release 2 is the published file, byte for byte"
also "A made no delta" test ! -e "$TMP/a/deltas"

kill_recorded
done_testing
