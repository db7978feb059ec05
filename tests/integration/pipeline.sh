#!/bin/sh
# pipeline.sh: `satchel pull satchel://` keeps many GET_OBJECTs in flight
# on its one connection (SPEC §11). A relay between the client and
# satcheld parses the frames both ways and records the largest number of
# GET_OBJECT requests outstanding (sent, not yet answered by OBJECT_END
# or ERROR); pulling a release of 400 small files it must see more than
# one, and the pulled store must be fsck clean and its archive byte for
# byte the published file. A cut in the middle of the pipeline (at half
# of the release's bytes on the wire) leaves the store as it was, keeps
# what was checked, and the next pull completes it sending less than the
# whole release again.
. "$(dirname "$0")/lib.sh"
need python3 head sed awk zstd tar find
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

NFILES=400

cat >"$TMP/relay.py" <<'PYEOF'
# relay.py CUT UPSTREAM_PORT PORTFILE [mangle]: accepts one connection on
# 127.0.0.1 (port 0, written to PORTFILE), forwards it to UPSTREAM_PORT,
# and parses the frames (u32 length, u16 type, payload) both ways:
# GET_OBJECT (0x0200) from the client opens request R (its first u32),
# OBJECT_END (0x0202) from the server closes R, ERROR (0x0002) closes the
# oldest, OBJECT_PACK (0x0204: u16 n, n x (u32 request, u64 offset,
# u64 size, u32 len), bytes zstd) closes the n it lists, which must be
# the n oldest outstanding in order (else it counts as bad). After
# exactly CUT bytes from the server (CUT < 0: never) both sockets are
# closed. With "mangle", the first OBJECT_PACK of two or more requests
# reaches the client with its first two entries swapped (a bad server);
# with "zbomb", the first META_Z carries a zstd frame that declares 3
# bytes and inflates to 1000.
# Prints "max=M gets=G packs=P packed=K wrong=B metaz=Z down=D up=U
# end=REASON" where M is the most requests ever outstanding at once, K
# the requests answered by packs and Z the META_Z (0x0102) frames.
# Everything within 60 s.
import os, select, socket, struct, sys, time

cut, up_port, portfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mangle = len(sys.argv) > 4 and sys.argv[4] == "mangle"
zbomb = len(sys.argv) > 4 and sys.argv[4] == "zbomb"
deadline = time.monotonic() + 60

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.replace(portfile + ".tmp", portfile)
ls.settimeout(60)
c, _ = ls.accept()
ls.close()
s = socket.create_connection(("127.0.0.1", up_port), timeout=10)
for x in (c, s):
    x.settimeout(60)

outstanding = []		# request ids, in the order sent
most = gets = packs = packed = badpacks = metaz = 0
bufs = {c: b"", s: b""}

def frames(who, data):
    """Yields (type, payload) of the whole frames now buffered."""
    b = bufs[who] + data
    while len(b) >= 6:
        n, t = struct.unpack(">IH", b[:6])
        if len(b) < 6 + n:
            break
        yield t, b[6:6 + n]
        b = b[6 + n:]
    bufs[who] = b

down = up = 0
end = "eof"
c2s = s2c = True
try:
    while c2s or s2c:
        left = deadline - time.monotonic()
        if left <= 0:
            end = "timeout"
            break
        rl = [x for x, o in ((c, c2s), (s, s2c)) if o]
        r, _, _ = select.select(rl, [], [], left)
        if c in r:
            data = c.recv(65536)
            if not data:
                c2s = False
                s.shutdown(socket.SHUT_WR)
            else:
                for t, p in frames(c, data):
                    if t == 0x0200:
                        outstanding.append(struct.unpack(">I", p[:4])[0])
                        gets += 1
                        most = max(most, len(outstanding))
                s.sendall(data)
                up += len(data)
        if s in r:
            want = 65536 if cut < 0 else min(65536, cut - down)
            data = s.recv(want)
            if not data:
                s2c = False
                c.shutdown(socket.SHUT_WR)
            else:
                fwd = b""
                for t, p in frames(s, data):
                    if t == 0x0202:
                        rq = struct.unpack(">I", p[:4])[0]
                        if rq in outstanding:
                            outstanding.remove(rq)
                    elif t == 0x0002 and outstanding:
                        outstanding.pop(0)
                    elif t == 0x0102:
                        metaz += 1
                        if zbomb:
                            zbomb = False
                            nl = struct.unpack(">I", p[1:5])[0]
                            z = b"\x28\xb5\x2f\xfd\x20\x03" + \
                                struct.pack("<I", 1000 << 3 | 2 | 1)[:3] + b"a"
                            p = p[:5 + nl + 16] + struct.pack(">I", len(z)) + z
                    elif t == 0x0204:
                        n = struct.unpack(">H", p[:2])[0]
                        ents = [p[2 + 24 * i:2 + 24 * (i + 1)]
                                for i in range(n)]
                        ids = [struct.unpack(">I", e[:4])[0] for e in ents]
                        if ids != outstanding[:n]:
                            badpacks += 1
                        del outstanding[:n]
                        packs += 1
                        packed += n
                        if mangle and n >= 2:
                            mangle = False
                            ents[0], ents[1] = ents[1], ents[0]
                            p = p[:2] + b"".join(ents) + p[2 + 24 * n:]
                    fwd += struct.pack(">IH", len(p), t) + p
                # Whole frames only (re-encoded, so a mangled one goes
                # out as changed); the cut test forwards the raw bytes.
                c.sendall(data if cut >= 0 else fwd)
                down += len(data)
                if cut >= 0 and down >= cut:
                    end = "cut"
                    break
except OSError as e:
    end = "error: %s" % e
c.close()
s.close()
print("max=%d gets=%d packs=%d packed=%d wrong=%d metaz=%d down=%d up=%d "
      "end=%s" % (most, gets, packs, packed, badpacks, metaz, down, up, end))
sys.exit(0 if end in ("cut", "eof") else 1)
PYEOF


# relay PIDVAR CUT [mangle]: starts the relay in front of satcheld, sets
# RPORT.
relay()
{
	rm -f "$TMP/relay.port"
	bg_start "$1" python3 "$TMP/relay.py" "$2" "$OPORT" "$TMP/relay.port" \
	    ${3:-}
	RELAY_OUT=$BG_OUT
	RELAY_ERR=$BG_ERR
	RPORT=
	if wait_file "$TMP/relay.port"; then
		RPORT=$(cat "$TMP/relay.port")
	fi
	[ -n "$RPORT" ] || {
		diag <"$RELAY_ERR"
		bail_out "the relay did not start"
	}
}

# field NAME: the relay's figure NAME from its last line.
field()
{
	sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$RELAY_OUT"
}

visible()
{
	fingerprint "$1" | grep -v ' \./tmp/'
}

# --- a release of many small files -------------------------------------------------

for k in root catalog author; do
	run_satchel keygen "$TMP/$k.key"
	expect_success "keygen $k.key" '/^[0-9a-f]{16}$/'
done
run_satchel trust new --root-key "$TMP/root.key" -o "$TMP/policy"
also "add-catalog" "$SATCHEL" trust add-catalog --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/catalog.key.pub"
also "add-publisher" "$SATCHEL" trust add-publisher --root-key "$TMP/root.key" \
    "$TMP/policy" "$TMP/author.key.pub" family-health-care
expect_success "trust policy: catalog key, author for family-health-care"

make_repo family-health-care
python3 - "$REPO/notes" "$NFILES" <<'PYEOF'
# NFILES small files of 1 to 12 KiB, each different, half of them text.
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(4)
os.makedirs(d)
words = ["water", "boil", "hands", "soap", "clinic", "fever", "rest", "salt"]
for i in range(n):
    size = rng.randint(1024, 12 * 1024)
    if i % 2:
        data = os.urandom(size)
    else:
        data = (" ".join(rng.choice(words) for _ in range(size // 5)))[:size]
        data = data.encode()
    with open(os.path.join(d, "note-%03d.txt" % i), "wb") as f:
        f.write(data)
PYEOF
git_commit "$REPO" "Add $NFILES notes"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc.satchel"
expect_success "build family-health-care with $NFILES small files" "serial 1"

O=$TMP/origin
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$O"
also "publish" "$SATCHEL" publish --store "$O" "$TMP/fhc.satchel"
expect_success "the origin, with the release published"

bg_start DO "$SATCHELD" --store "$O" --sync-listen 127.0.0.1:0 \
    --port-file "$TMP/port.d"
DLOG=$BG_ERR
OPORT=
if wait_file "$TMP/port.d"; then
	OPORT=$(sed -n 's/^sync \([0-9][0-9]*\)$/\1/p' "$TMP/port.d")
fi
if [ -n "$OPORT" ]; then
	ok 0 "satcheld serves the origin (sync $OPORT)"
else
	ok 1 "satcheld serves the origin"
	diag <"$DLOG"
	bail_out "satcheld did not start"
fi

# --- a pipelined pull through the relay ------------------------------------------------

S=$TMP/school
relay DR -1
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$S"
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_success "pull through the relay" "1 release updated"
ok "$BG_RC" "the relay saw a clean end"
MAX=$(field max)
GETS=$(field gets)
TOTAL=$(field down)
ok "$([ "${MAX:-0}" -gt 1 ] && echo 0 || echo 1)" \
    "more than one GET_OBJECT outstanding at once (at most ${MAX:-?})"
ok "$([ "${MAX:-0}" -le 256 ] && echo 0 || echo 1)" \
    "never more than the server's 256 (${MAX:-?})"
ok "$([ "${GETS:-0}" -ge "$NFILES" ] && echo 0 || echo 1)" \
    "a request for each of the files (${GETS:-?} GET_OBJECTs)"
PACKS=$(field packs)
ok "$([ "${PACKS:-0}" -gt 0 ] && [ "$(field packed)" -gt "$PACKS" ] &&
    echo 0 || echo 1)" \
    "small objects come in OBJECT_PACKs ($PACKS packs of $(field packed) requests)"
ok "$(field wrong)" "every OBJECT_PACK lists the oldest requests in flight, in order"
ok "$([ "$(field metaz)" -gt 0 ] && echo 0 || echo 1)" \
    "metadata comes compressed ($(field metaz) META_Z frames)"
run_satchel fsck "$S"
expect_success "fsck: clean" "$S: clean"
also "objects are the origin's" test "$(objects "$S")" = "$(objects "$O")"
also "tmp/ empty" dir_empty "$S/tmp"
expect_success "the pulled store holds exactly the origin's objects"
run_satchel archive --store "$S" -o "$TMP/s.satchel" family-health-care
expect_success "archive family-health-care from the school"
same_bytes "$TMP/s.satchel" "$TMP/fhc.satchel" \
    "the pipelined pull's archive equals the published file"

# --- the same pull without packs or zmeta: every object alone, more bytes ------

N=$TMP/nopack
relay DR -1
SATCHEL_NO_PACK=1
SATCHEL_NO_ZMETA=1
export SATCHEL_NO_PACK SATCHEL_NO_ZMETA
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$N"
unset SATCHEL_NO_PACK SATCHEL_NO_ZMETA
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_success "pull with SATCHEL_NO_PACK=1 SATCHEL_NO_ZMETA=1" "1 release updated"
ok "$(field packs)" "a client that does not offer \"pack\" gets no OBJECT_PACK"
ok "$(field metaz)" "a client that does not offer \"zmeta\" gets no META_Z"
UNPACKED=$(field down)
ok "$([ "${UNPACKED:-0}" -gt "$TOTAL" ] && echo 0 || echo 1)" \
    "packs and META_Z send fewer bytes ($TOTAL) than raw (${UNPACKED:-?})"
run_satchel archive --store "$N" -o "$TMP/n.satchel" family-health-care
expect_success "archive after the unpacked pull"
same_bytes "$TMP/n.satchel" "$TMP/fhc.satchel" \
    "the unpacked pull's archive equals the published file"

# --- a bad server: a pack whose entries are out of order ----------------------

B=$TMP/bad
run_satchel store init --trust "$TMP/policy" "$B"
visible "$B" >"$TMP/fp.before"
relay DR -1 mangle
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$B"
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_fail "a pack listing requests out of order is refused, naming the peer" \
    "satchel://127.0.0.1:$RPORT" "OBJECT_PACK entry 0"
visible "$B" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the bad pack, the store's visible state is unchanged"
else
	ok 1 "after the bad pack, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi

# --- a bad server: compressed metadata that inflates past its size -----------

relay DR -1 zbomb
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$B"
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_fail "a META_Z frame inflating past its declared size is refused, naming the peer" \
    "satchel://127.0.0.1:$RPORT" "META_Z piece at offset 0"
visible "$B" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the bomb, the store's visible state is unchanged"
else
	ok 1 "after the bomb, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi

# --- a cut in the middle of the pipeline ---------------------------------------------------

CUT=$((TOTAL / 2))
C=$TMP/cut
run_satchel store init --trust "$TMP/policy" "$C"
visible "$C" >"$TMP/fp.before"
relay DR "$CUT"
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$C"
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_fail "a pull cut at $CUT of $TOTAL bytes fails, naming the connection" \
    "satchel://127.0.0.1:$RPORT" '/connection|closed|reset|[Bb]roken/'
ok "$([ "$(field max)" -gt 1 ] && echo 0 || echo 1)" \
    "the cut came with $(field max) requests in flight at most"
visible "$C" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the cut, the store's visible state is unchanged"
else
	ok 1 "after the cut, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi
STAGED=$(find "$C/tmp" -path "$C/tmp/pull-*/*" -type f ! -name '*.part' \
    2>/dev/null | wc -l | tr -d ' ')
ok "$([ "$STAGED" -gt 0 ] && echo 0 || echo 1)" \
    "tmp/pull-N/ keeps the $STAGED objects checked before the cut"
# A power cut can leave a checked, named file zeroed: the next pull must
# not land it.
DAMAGED=$(find "$C/tmp" -path "$C/tmp/pull-*/*" -type f ! -name '*.part' \
    2>/dev/null | head -n 1)
chmod u+w "$DAMAGED" && head -c "$(wc -c <"$DAMAGED")" /dev/zero >"$DAMAGED.z" &&
    cat "$DAMAGED.z" >"$DAMAGED" && rm -f "$DAMAGED.z"
ok $? "one staged object zeroed, as a power cut could leave it"

relay DR -1
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$C"
bg_wait "$DR"
diag "relay: $(cat "$RELAY_OUT")"
expect_success "the next pull completes" "1 release updated"
AGAIN=$(field down)
ok "$([ "${AGAIN:-$TOTAL}" -lt "$TOTAL" ] && echo 0 || echo 1)" \
    "... sending $AGAIN bytes, less than the whole release's $TOTAL"
run_satchel fsck "$C"
expect_success "fsck after the resumed pull: clean" "$C: clean"
also "tmp/ empty" dir_empty "$C/tmp"
also "objects are the origin's" test "$(objects "$C")" = "$(objects "$O")"
expect_success "the resumed store holds exactly the origin's objects"
run_satchel archive --store "$C" -o "$TMP/c.satchel" family-health-care
expect_success "archive after the resumed pull"
same_bytes "$TMP/c.satchel" "$TMP/fhc.satchel" \
    "the resumed pull's archive equals the published file"

kill_recorded "$DO"
no_sanitizer "$DLOG"

done_testing
