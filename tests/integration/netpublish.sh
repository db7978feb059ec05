#!/bin/sh
# netpublish.sh: publishing over the sync protocol (SPEC §11
# "Publishing") to a real satcheld on 127.0.0.1, and `satchel ls
# satchel://`. `satchel publish --to` of a bundle, pulled by a second
# store and exported byte for byte; v2 sends only the changed files;
# refusals before any content (the same serial again, an unknown
# publisher key, a name outside the key's scope, a store that is not an
# origin), each leaving the store as it was; bad peers scripted in python
# (more bytes than the manifest announces for an object, an altered
# object, a connection cut halfway while another client is served), each
# refused with a clear error and leaving the store as it was, after which
# a normal publish succeeds; a manifest larger than one 1 MiB frame
# travelling by PUBLISH and by META, and every list and document in
# 4 KiB pieces.
. "$(dirname "$0")/lib.sh"
need python3 zstd sed seq
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"


# serve PIDVAR PORTVAR ERRVAR STORE: starts satcheld on 127.0.0.1, port 0.
serve()
{
	rm -f "$TMP/port.$1"
	bg_start "$1" "$SATCHELD" --store "$4" --sync-listen 127.0.0.1:0 \
	    --port-file "$TMP/port.$1"
	eval "$3=\$BG_ERR"
	if wait_port "$TMP/port.$1"; then
		ok 0 "satcheld serves $(basename "$4") (sync $PORT)"
		eval "$2=\$PORT"
	else
		ok 1 "satcheld serves $(basename "$4")"
		diag <"$BG_ERR"
		bail_out "satcheld did not start"
	fi
}

# settled DIR: waits up to 10 s for DIR/tmp to be empty (satcheld removes
# a refused publish's staging once the connection is gone).
settled()
{
	_i=0
	while [ "$_i" -lt 100 ] && ! dir_empty "$1/tmp"; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# --- keys, policies, bundles ---------------------------------------------------------

for k in root catalog author stranger; do
	run_satchel keygen "$TMP/$k.key"
	expect_success "keygen $k.key" '/^[0-9a-f]{16}$/'
done
run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/catalog.key.pub"
also "add-publisher" "$SATCHEL" trust add-publisher --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/author.key.pub" 'calligraphy-*' 'big-*'
expect_success "trust policy: the author may publish calligraphy-* and big-*"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
echo "<p>A new paragraph.</p>" >>"$CB/lessons/02-holding-the-brush/index.html"
set_conf "$CB" serial 2
set_conf "$CB" label 1.1
git_commit "$CB" "Release 1.1"
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2 (a lesson and bundle.conf changed)" \
    "serial 2"
# v3 with a file of several 128 KiB pieces, for the bad peers.
python3 -c '
import hashlib, sys
out, h = bytearray(), b"netpublish"
while len(out) < 400000:
    h = hashlib.sha256(h).digest()
    out += h
sys.stdout.buffer.write(bytes(out[:400000]))' >"$CB/lessons/big.bin"
set_conf "$CB" serial 3
set_conf "$CB" label 1.2
git_commit "$CB" "Release 1.2"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb3.satchel"
expect_success "build calligraphy-basics v3 with a 400 kB file" "serial 3"
run_satchel build -C "$CB" --key "$TMP/stranger.key" -o "$TMP/cb3-stranger.satchel"
expect_success "build calligraphy-basics v3 signed by a key the policy lacks"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care, outside the author's scope"

O=$TMP/origin
M=$TMP/mirror
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
also "a mirror" "$SATCHEL" store init --trust "$TMP/policy" "$M"
expect_success "an empty origin and a mirror"
# The daemons outlive many commands: their own time limit is longer.
_saved_timeout=$TEST_TIMEOUT
TEST_TIMEOUT=900
serve DO OPORT DOERR "$O"
URL=satchel://127.0.0.1:$OPORT
serve DM MPORT DMERR "$M"
MURL=satchel://127.0.0.1:$MPORT
TEST_TIMEOUT=$_saved_timeout

# --- publish, pull, byte for byte -------------------------------------------------------

run_satchel publish --to "$URL" "$TMP/cb1.satchel"
also "the origin's catalog serial is 2" test "$(catalog_serial "$O")" = 2
also "the signed manifest is stored" \
    test -f "$O/meta/releases/calligraphy-basics/1.signed"
also "tmp/ empty" dir_empty "$O/tmp"
expect_success "publish --to: calligraphy-basics v1" \
    "$URL: accepted calligraphy-basics 1.0 (serial 1): 12 of 12 files to send" \
    "$URL: sent 12 objects" "catalog serial 2"
run_satchel fsck "$O"
expect_success "fsck ORIGIN after a network publish: clean" "$O: clean"
ok "$(grep -q 'published calligraphy-basics 1.0 (serial 1)' "$DOERR"; echo $?)" \
    "the daemon logs the publish"

S2=$TMP/school
run_satchel pull "$URL" --store "$S2"
expect_success "a second store pulls it over the network" "catalog serial 2"
run_satchel archive --store "$S2" -o "$TMP/s-cb1.satchel" calligraphy-basics
expect_success "archive it from the second store"
same_bytes "$TMP/s-cb1.satchel" "$TMP/cb1.satchel" \
    "the archive from the second store equals the published file"

run_satchel publish --to "$URL" "$TMP/cb2.satchel"
also "the origin's catalog serial is 3" test "$(catalog_serial "$O")" = 3
expect_success "publish --to v2: only the 2 changed files are sent" \
    "(serial 2): 2 of 12 files to send" \
    "$URL: sent 2 objects" "1.1 (serial 2): 2 new files" "catalog serial 3"

# --- refused before any content ----------------------------------------------------------

snapshot "$O"
N0=$(grep -c 'publish refused' "$DOERR")
run_satchel publish --to "$URL" "$TMP/cb2.satchel"
unchanged "$O"
expect_fail "the same serial again: refused before content, with the daemon's reason" \
    "$URL refused the release" \
    "serial 2 is not greater than the store's current serial 2 (rollback refused)"
unlike "$OUT" "/accepted|sent/" "... and nothing was sent"
ok "$([ "$(grep -c 'publish refused' "$DOERR")" -gt "$N0" ] && echo 0 || echo 1)" \
    "the daemon logs the refusal"
ok "$(grep 'publish refused' "$DOERR" | tail -n 1 | grep -q 'rollback'; echo $?)" \
    "... naming the rollback"

run_satchel publish --to "$URL" "$TMP/cb3-stranger.satchel"
unchanged "$O"
expect_fail "an unknown publisher key: refused before content" \
    "$URL refused the release" "no signature by a publisher key of the trust policy"

run_satchel publish --to "$URL" "$TMP/fhc1.satchel"
unchanged "$O"
expect_fail "a name outside the key's scope: refused before content" \
    "$URL refused the release" \
    "which the trust policy does not allow to publish \"family-health-care\""

snapshot "$M"
run_satchel publish --to "$MURL" "$TMP/cb1.satchel"
unchanged "$M"
expect_fail "a store that is not an origin refuses publish" \
    "$MURL refused the release" "not an origin store"

cp "$TMP/cb1.satchel" "$TMP/cb1-bad.satchel"
flip_byte "$TMP/cb1-bad.satchel" $(($(wc -c <"$TMP/cb1-bad.satchel") - 200))
snapshot "$O"
run_satchel publish --to "$URL" "$TMP/cb1-bad.satchel"
unchanged "$O"
expect_fail "a damaged archive is refused locally, before connecting" \
    "cb1-bad.satchel"

# --- bad peers ----------------------------------------------------------------------------

cat >"$TMP/peer.py" <<'PYEOF'
# peer.py PORT MODE ARCHIVE [MARK GO]: a publisher that misbehaves.
# over: sends one byte more than the manifest announces for the largest
# needed object; tamper: sends it with one byte changed; cut: sends half
# of it, writes MARK, waits for GO, then closes without a word.
# With "zmeta" agreed in the HELLOs, the signed manifest as PUBLISH_Z:
# zok: one valid zstd frame, and stops at PUBLISH_NEED; zbomb: a frame
# that declares 3 bytes but inflates to 1000; zbig: a frame declaring
# one byte more than the document.
import hashlib, io, os, socket, struct, subprocess, sys, tarfile, time

HELLO, ERROR = 0x0001, 0x0002
PUBLISH, PUBLISH_NEED, PUBLISH_OBJECT, PUBLISH_RESULT = 0x300, 0x301, 0x302, 0x304
PUBLISH_Z = 0x305

def die(msg):
    print("FAIL " + msg)
    sys.exit(1)

def frame(t, p=b""):
    return struct.pack(">IH", len(p), t) + p

def raw_zstd(data):
    # One zstd frame of raw blocks that declares its content size
    # (RFC 8878: Single_Segment, 8-byte Frame_Content_Size).
    out = b"\x28\xb5\x2f\xfd\xe0" + struct.pack("<Q", len(data))
    for i in range(0, len(data), 131072):
        b = data[i:i + 131072]
        last = 1 if i + 131072 >= len(data) else 0
        out += struct.pack("<I", len(b) << 3 | last)[:3] + b
    return out

port, mode, archive = int(sys.argv[1]), sys.argv[2], sys.argv[3]
raw = subprocess.run(["zstd", "-dc", archive], check=True,
                     stdout=subprocess.PIPE).stdout
t = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
files, signed = {}, b""
for ti in t:
    d = t.extractfile(ti).read()
    if ti.name in (".satchel/MANIFEST", ".satchel/SIGNATURES"):
        signed += d
    else:
        files[hashlib.sha256(d).digest()] = d

s = socket.create_connection(("127.0.0.1", port), timeout=10)
buf = b""
def read():
    global buf
    while True:
        if len(buf) >= 6:
            n, ty = struct.unpack(">IH", buf[:6])
            if len(buf) >= 6 + n:
                p, buf = buf[6:6 + n], buf[6 + n:]
                return ty, p
        d = s.recv(65536)
        if not d:
            return None
        buf += d

if mode.startswith("z"):
    s.sendall(frame(HELLO, b"SATCHEL\0" + struct.pack(">HIHI", 1, 1 << 20, 1, 5) +
                    b"zmeta"))
    f = read()
    if f is None or f[0] != HELLO or b"zmeta" not in f[1]:
        die("no HELLO with zmeta: %r" % (f,))
    if mode == "zok":
        z = raw_zstd(signed)
    elif mode == "zbomb":
        z = b"\x28\xb5\x2f\xfd\x20\x03" + \
            struct.pack("<I", 1000 << 3 | 2 | 1)[:3] + b"a"
    else:
        z = raw_zstd(signed + b"x")
    s.sendall(frame(PUBLISH_Z, struct.pack(">QQI", len(signed), 0, len(z)) + z))
    f = read()
    if mode == "zok":
        if f is None or f[0] != PUBLISH_NEED:
            die("expected PUBLISH_NEED, got %r" % (f,))
        print("NEED %d" % struct.unpack(">I", f[1][:4])[0])
        sys.exit(0)
    if f is None or f[0] != ERROR:
        die("expected ERROR, got %r" % (f,))
    print("ERROR %d %s" % (struct.unpack(">H", f[1][:2])[0], f[1][6:].decode()))
    if read() is not None:
        die("the server did not close the connection")
    print("EOF")
    sys.exit(0)
s.sendall(frame(HELLO, b"SATCHEL\0" + struct.pack(">HIH", 1, 1 << 20, 0)))
if read()[0] != HELLO:
    die("no HELLO")
s.sendall(frame(PUBLISH, struct.pack(">QQI", len(signed), 0, len(signed)) + signed))
f = read()
if f is None or f[0] != PUBLISH_NEED:
    die("expected PUBLISH_NEED, got %r" % (f,))
total, n = struct.unpack(">II", f[1][:8])
need = [f[1][8 + 32 * i:40 + 32 * i] for i in range(n)]
if total != n or not need:
    die("need list")
print("NEED %d" % n)
# The first needed objects go as they should, up to the largest.
big = max(need, key=lambda h: len(files[h]))
for h in need:
    d = files[h]
    if h != big:
        s.sendall(frame(PUBLISH_OBJECT, h + struct.pack(">QI", 0, len(raw_zstd(d))) + raw_zstd(d)))
        continue
    if mode == "over":
        d = d + b"x"
    elif mode == "tamper":
        d = d[:1000] + bytes([d[1000] ^ 1]) + d[1001:]
    elif mode == "cut":
        d = d[:len(d) // 2]
    off = 0
    while off < len(d):
        piece = d[off:off + 131072]
        z = raw_zstd(piece)
        try:
            s.sendall(frame(PUBLISH_OBJECT, h + struct.pack(">QI", off, len(z)) + z))
        except OSError:
            break
        off += len(piece)
    break
if mode == "cut":
    open(sys.argv[4], "w").close()
    for _ in range(200):
        if os.path.exists(sys.argv[5]):
            break
        time.sleep(0.1)
    s.close()
    print("CUT")
    sys.exit(0)
f = read()
if f is None or f[0] != ERROR:
    die("expected ERROR, got %r" % (f,))
code = struct.unpack(">H", f[1][:2])[0]
print("ERROR %d %s" % (code, f[1][6:].decode()))
if read() is not None:
    die("the server did not close the connection")
print("EOF")
PYEOF

BIGSUM=$(file_sum "$CB/lessons/big.bin")
snapshot "$O"
run python3 "$TMP/peer.py" "$OPORT" over "$TMP/cb3.satchel"
settled "$O"
unchanged "$O"
expect_success "a peer that sends more bytes than announced: ERROR refused naming the object and the peer, closed" \
    "/^ERROR 5 calligraphy-basics@3: object $BIGSUM \\(\"lessons\\/big.bin\"\\) from 127\\.0\\.0\\.1:[0-9]+: more bytes than the 400000 its manifest announces/" \
    "EOF"

run python3 "$TMP/peer.py" "$OPORT" tamper "$TMP/cb3.satchel"
settled "$O"
unchanged "$O"
expect_success "a peer that sends an altered object: ERROR refused, digest differs, closed" \
    "/^ERROR 5 calligraphy-basics@3: object $BIGSUM .* from 127\\.0\\.0\\.1:[0-9]+: its bytes do not match the signed manifest \\(digest differs\\)/" \
    "EOF"

snapshot "$O"
run python3 "$TMP/peer.py" "$OPORT" zok "$TMP/cb3.satchel"
settled "$O"
unchanged "$O"
expect_success "a peer with \"zmeta\": the manifest as PUBLISH_Z is taken (PUBLISH_NEED)" \
    "/^NEED [1-9]/"

run python3 "$TMP/peer.py" "$OPORT" zbomb "$TMP/cb3.satchel"
settled "$O"
unchanged "$O"
expect_success "a PUBLISH_Z frame that inflates past its declared size: ERROR protocol, closed" \
    "/^ERROR 1 PUBLISH_Z at offset 0: /" "EOF"

run python3 "$TMP/peer.py" "$OPORT" zbig "$TMP/cb3.satchel"
settled "$O"
unchanged "$O"
expect_success "a PUBLISH_Z frame declaring more than the document: ERROR protocol, closed" \
    "/^ERROR 1 PUBLISH_Z at offset 0: not a zstd frame declaring 1 to [0-9]+ bytes/" "EOF"

rm -f "$TMP/mark" "$TMP/go"
bg_start PEER python3 "$TMP/peer.py" "$OPORT" cut "$TMP/cb3.satchel" "$TMP/mark" "$TMP/go"
PEEROUT=$BG_OUT
_i=0
while [ "$_i" -lt 100 ] && [ ! -e "$TMP/mark" ]; do
	sleep 0.1
	_i=$((_i + 1))
done
ok "$([ -e "$TMP/mark" ] && ! dir_empty "$O/tmp"; echo $?)" \
    "a peer halfway through a publish: the origin stages it in tmp/"
run_satchel ls "$URL"
expect_success "meanwhile the daemon serves another client" \
    "/^calligraphy-basics +1\\.1 +2 /"
: >"$TMP/go"
bg_wait "$PEER"
ok "$BG_RC" "the peer closes the connection halfway ($(cat "$PEEROUT"))"
settled "$O"
unchanged "$O"
ok 0 "a connection cut mid-publish: the store is as it was, tmp/ empty"

run_satchel publish --to "$URL" "$TMP/cb3.satchel"
also "the origin's catalog serial is 4" test "$(catalog_serial "$O")" = 4
also "tmp/ empty" dir_empty "$O/tmp"
expect_success "then a normal publish of v3 succeeds" \
    "1.2 (serial 3)" "catalog serial 4"
run_satchel fsck "$O"
expect_success "fsck ORIGIN after the bad peers: clean" "$O: clean"
run_satchel pull "$URL" --store "$S2"
expect_success "the second store pulls v3"
run_satchel archive --store "$S2" -o "$TMP/s-cb3.satchel" calligraphy-basics
expect_success "archive v3 from the second store"
same_bytes "$TMP/s-cb3.satchel" "$TMP/cb3.satchel" \
    "v3 from the second store equals the published file"

# --- satchel ls satchel:// ---------------------------------------------------------------

run_satchel ls "$URL"
expect_success "ls satchel://: the remote catalog, trust on first use" \
    "/^NAME +LABEL +SERIAL +SIZE +LESSONS +TITLE$/" \
    "/^calligraphy-basics +1\\.2 +3 +[0-9.]+ KiB +3  Brush Calligraphy Basics$/"
like "$ERR" "catalog serial 4, checked against the trust policy the server itself serves (trust on first use" \
    "... and it says the catalog was checked on first use"
run_satchel ls --store "$S2" "$URL"
like "$ERR" "checked against the trust policy of $S2" "... with --store, says whose policy"
expect_success "ls --store DIR satchel://: checked against the local policy" \
    "/^calligraphy-basics +1\\.2 +3 /"
run_satchel ls --json "$URL"
expect_success "ls --json satchel://" '"name": "calligraphy-basics"' '"label": "1.2"' \
    '"title": "Brush Calligraphy Basics"' '"serial": 3'
run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy2"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/root.key" \
    "$TMP/policy2" "$TMP/stranger.key.pub"
K=$TMP/other
also "store init" "$SATCHEL" store init --trust "$TMP/policy2" "$K"
expect_success "a store whose policy trusts another catalog key"
run_satchel ls --store "$K" "$URL"
expect_fail "ls --store with a policy that does not trust the catalog key: refused" \
    "not signed by a catalog key"
run_satchel ls --store "$TMP" "$URL"
expect_fail "ls --store of a directory that is not a store" "not a Satchel store"
run_satchel ls --store "$S2" "$S2"
expect_usage "ls --store with a store DIR: usage error" "--store goes with a satchel://"
run_satchel publish --store "$O" --to "$URL" "$TMP/cb3.satchel"
expect_usage "publish with both --store and --to: usage error" "one of --store DIR and --to"
run_satchel publish --to "$O" "$TMP/cb3.satchel"
expect_usage "publish --to without satchel://: usage error" "--to takes satchel://HOST:PORT"
run_satchel publish --help
expect_success "publish --help names --to" "--to satchel://HOST:PORT" "refuses at once"
run_satchel ls --help
expect_success "ls --help names satchel:// and trust on first use" \
    "satchel ls [--json] [--store DIR] satchel://HOST:PORT" "trust on first use"

# --- a manifest larger than one frame ----------------------------------------------------

# 4000 files with 240-byte names make a manifest of about 1.3 MB; they
# share one content, so the store holds few objects (creating thousands
# of files is slow on some disks, and the point here is the manifest).
BIGM=$TMP/big-manifest
run_satchel init --name big-manifest --title "A bundle of many files" "$BIGM"
expect_success "init big-manifest"
mkdir -p "$BIGM/data"
LONG=$(printf '%0230d' 0)
(cd "$BIGM/data" && for i in $(seq 1 4000); do
	echo "the same line" >"$LONG-$i.txt"
done && : >empty.txt)
git_commit "$BIGM" "Four thousand files"
run_satchel build -C "$BIGM" --key "$TMP/author.key" -o "$TMP/bigm.satchel"
expect_success "build big-manifest, 4000 files of one content and an empty one"
MLEN=$(zstd -dc "$TMP/bigm.satchel" | tar -xOf - .satchel/MANIFEST | wc -c)
ok "$([ "$MLEN" -gt 1048576 ] && echo 0 || echo 1)" \
    "its manifest ($MLEN bytes) is larger than a 1 MiB frame"

run_satchel publish --to "$URL" "$TMP/bigm.satchel"
also "fsck" "$SATCHEL" fsck "$O"
also "the empty file's object" test -f \
    "$O/objects/e3/b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
expect_success "publish --to a manifest larger than a frame: PUBLISH in pieces" \
    "/accepted big-manifest [^ ]+ \(serial 1\): [0-9]+ of [0-9]+ files to send/" \
    "catalog serial 5"
B1=$TMP/big-school
run_satchel pull "$URL" --store "$B1" big-manifest
expect_success "pull it: its signed manifest travels by META in pieces" \
    "1 release updated"
run_satchel archive --store "$B1" -o "$TMP/b1.satchel" big-manifest
expect_success "archive big-manifest from the pulling store"
same_bytes "$TMP/b1.satchel" "$TMP/bigm.satchel" \
    "big-manifest pulled with 1 MiB frames equals the published file"

# Everything in 4 KiB frames: the manifest in ~330 PUBLISH pieces, a need
# list of 301 hashes in 3 PUBLISH_NEED frames (127 a frame), META in
# pieces, objects in small chunks.
set_conf "$BIGM" serial 2
set_conf "$BIGM" label 0.2
(cd "$BIGM/data" && for i in $(seq 1 300); do
	echo "line $i, v2" >"$LONG-$i.txt"
done)
git_commit "$BIGM" "300 files changed"
run_satchel build -C "$BIGM" --key "$TMP/author.key" -o "$TMP/bigm2.satchel"
expect_success "build big-manifest v2, 300 files changed"
in_sub 'SATCHEL_MAX_FRAME=4096 run "$SATCHEL" publish --to "$1" "$2"' \
    "$URL" "$TMP/bigm2.satchel"
expect_success "publish --to with 4 KiB frames: every list and document in pieces" \
    "/: 301 of [0-9]+ files to send/" "sent 301 objects" "catalog serial 6"
# The daemon's line for that connection counts its messages: about 330
# PUBLISH pieces, 301 PUBLISH_OBJECTs (with 1 MiB frames: 2 and 301).
PEER2=$(sed -n 's/^satcheld: sync \([^ ]*\): published big-manifest 0\.2 .*/\1/p' "$DOERR")
NMSG=$(sed -n "s/^satcheld: sync $PEER2: closed after [0-9.]* s, \([0-9]*\) messages.*/\1/p" "$DOERR")
ok "$([ -n "$NMSG" ] && [ "$NMSG" -gt 450 ] && echo 0 || echo 1)" \
    "the daemon received the manifest in pieces (${NMSG:-?} messages on that connection)"
B2=$TMP/big-school-2
in_sub 'SATCHEL_MAX_FRAME=4096 run "$SATCHEL" pull "$1" --store "$2" big-manifest' \
    "$URL" "$B2"
expect_success "pull with 4 KiB frames" "1 release updated"
run_satchel archive --store "$B2" -o "$TMP/b2.satchel" big-manifest
expect_success "archive big-manifest v2 from the store pulled in 4 KiB frames"
same_bytes "$TMP/b2.satchel" "$TMP/bigm2.satchel" \
    "big-manifest v2 pulled with 4 KiB frames equals the published file"
in_sub 'SATCHEL_MAX_FRAME=4096 run "$SATCHEL" ls "$1"' "$URL"
expect_success "ls satchel:// with 4 KiB frames" "/^big-manifest +0\.2 +2 /"

# --- the landing waits for the store's lock off the event loop ----------------------------

set_conf "$CB" serial 4
set_conf "$CB" label 1.3
git_commit "$CB" "Release 1.3"
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb4.satchel"
expect_success "build calligraphy-basics v4"
if command -v flock >/dev/null 2>&1; then
	rm -f "$TMP/locked" "$TMP/unlock"
	# Another writer (as a local publish or a pull would) holds the
	# store's lock until told to let go, for at most 100 s.
	bg_start LOCKER flock "$O/lock" sh -c ': >"$1/locked"; i=0
	    while [ ! -e "$1/unlock" ] && [ "$i" -lt 1000 ]; do
		sleep 0.1; i=$((i + 1)); done' sh "$TMP"
	_i=0
	while [ "$_i" -lt 100 ] && [ ! -e "$TMP/locked" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	bg_start PUB "$SATCHEL" publish --to "$URL" "$TMP/cb4.satchel"
	PUBOUT=$BG_OUT
	_i=0
	while [ "$_i" -lt 100 ] && ! grep -q accepted "$PUBOUT"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep 1		# PUBLISH_DONE reaches the daemon, which waits for the lock
	run timeout 30 "$SATCHEL" ls "$URL"
	also "the publish is still waiting for the lock" kill -0 "$PUB"
	expect_success "while a landing waits for the store's lock, the daemon serves another client" \
	    "/^calligraphy-basics +1\\.2 +3 /"
	: >"$TMP/unlock"
	bg_wait "$LOCKER"
	bg_wait "$PUB"
	ok "$BG_RC" "... and once the lock is free the publish lands ($(tail -n 1 "$PUBOUT"))"
	like "$(cat "$PUBOUT")" "catalog serial 7" "... with catalog serial 7"
else
	skip "a landing waiting for the lock" "flock(1) is not installed"
fi

kill_recorded "$DO" "$DM"
also "no sanitizer report (origin daemon)" sanitizer_free "$DOERR"
ok "$(sanitizer_free "$DMERR" && echo 0 || echo 1)" \
    "no sanitizer report in either daemon's log"

done_testing
