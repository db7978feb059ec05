#!/bin/sh
# resume.sh: a pull from a real satcheld cut by the network resumes
# (issue 4): "A connection cut at any byte, or the client killed, resumes
# on the next pull: after a cut at 50% of a release, no more than 5 MB are
# sent again." A relay between `satchel pull` and satcheld counts the
# bytes satcheld sends and closes both sockets after exactly CUT of them.
# The same holds when the client is killed (SIGKILL) with half the release
# received. A reference pull measures the release's bytes on the wire (satcheld logs
# the bytes out of each connection at close); the relay cuts at half of
# that; the store is left as it was (only tmp/pull-N/ keeps the checked
# bytes); the next, direct pull completes the release, byte for byte the
# published file, and satcheld's log shows that it sent at most 5 MB more
# than the half the first pull did not get. A cut inside the handshake
# (200 bytes) fails cleanly too, and the rerun succeeds.
#
# Deterministic: the cut is a byte count, not a time; every wait is for a
# file or a log line, bounded.
. "$(dirname "$0")/lib.sh"
need python3 head sed awk zstd tar
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

BIG_BYTES=40000000	# the big file: random, so it does not compress
SLACK=5000000		# issue 4: at most 5 MB sent again

# --- the relay ------------------------------------------------------------------

cat >"$TMP/relay.py" <<'PYEOF'
# relay.py CUT UPSTREAM_PORT PORTFILE [pause]: accepts one connection on
# 127.0.0.1 (port 0, written to PORTFILE), connects it to UPSTREAM_PORT,
# forwards both ways and counts the bytes each way; after exactly CUT
# bytes from the server (CUT < 0: never) closes both sockets, or with
# "pause" stops forwarding, writes PORTFILE.paused and waits for the
# client to go away (the test kills it). Prints "down=N up=M end=REASON".
# Everything within 30 s.
import os, select, socket, sys, time

cut, up_port, portfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pause = len(sys.argv) > 4 and sys.argv[4] == "pause"
deadline = time.monotonic() + 30

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.replace(portfile + ".tmp", portfile)

ls.settimeout(30)
c, _ = ls.accept()
ls.close()
s = socket.create_connection(("127.0.0.1", up_port), timeout=10)
for x in (c, s):
    x.settimeout(30)	# bounds sendall; select says when recv is ready

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
        if s in r:
            want = 65536 if cut < 0 else min(65536, cut - down)
            data = s.recv(want)
            if not data:
                s2c = False
                c.shutdown(socket.SHUT_WR)
            else:
                c.sendall(data)
                down += len(data)
                if cut >= 0 and down >= cut:
                    end = "cut"
                    if pause:
                        end = "paused"
                        with open(portfile + ".paused", "w") as f:
                            f.write("%d\n" % down)
                        c.settimeout(max(deadline - time.monotonic(), 0.1))
                        while c.recv(65536):
                            pass	# until the killed client's EOF
                        end = "client gone"
                    break
        if c in r:
            data = c.recv(65536)
            if not data:
                c2s = False
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(data)
                up += len(data)
except OSError as e:
    end = "error: %s" % e
c.close()
s.close()
print("down=%d up=%d end=%s" % (down, up, end))
sys.exit(0 if end in ("cut", "eof", "client gone") else 1)
PYEOF

# visible DIR: the store's fingerprint without tmp/ (a cut pull keeps its
# checked bytes there, for the next run).
visible()
{
	fingerprint "$1" | grep -v ' \./tmp/'
}

# relay PIDVAR CUT [pause]: starts the relay in front of satcheld, sets
# RPORT.
relay()
{
	rm -f "$TMP/relay.port" "$TMP/relay.port.paused"
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

# closed_count: how many connections satcheld has logged as closed.
closed_count()
{
	grep -c 'closed after .* bytes out' "$DLOG" 2>/dev/null || echo 0
}

# wait_closed N: waits up to 10 s for the Nth logged close; sets
# BYTES_OUT to that connection's bytes out.
wait_closed()
{
	_i=0
	BYTES_OUT=
	while [ "$_i" -lt 100 ]; do
		if [ "$(closed_count)" -ge "$1" ]; then
			BYTES_OUT=$(sed -n 's/.*closed after .*, \([0-9][0-9]*\) bytes out.*/\1/p' \
			    "$DLOG" | sed -n "${1}p")
			[ -n "$BYTES_OUT" ] && return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# --- keys, policy, bundles, the origin ------------------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    family-health-care new-citizen-orientation
expect_success "trust policy: catalog key, author for two example bundles"

make_repo new-citizen-orientation
head -c "$BIG_BYTES" /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/big1.satchel"
expect_success "build new-citizen-orientation with a 40 MB random file" "serial 1"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care"

O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/big1.satchel" "$TMP/fhc1.satchel"
expect_success "the origin, with both bundles published"

start_satcheld DO "satcheld serves the origin" --store "$O"
OPORT=$PORT
URL=satchel://127.0.0.1:$OPORT
BIG=new-citizen-orientation
NCLOSED=0

# --- the reference: the release's bytes on the wire ------------------------------

REF=$TMP/ref
run_satchel store init --trust "$TMP/policy" "$REF"
run_satchel pull "$URL" --store "$REF" "$BIG"
expect_success "reference pull of $BIG" "1 release updated"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the reference connection's bytes out"
TOTAL=${BYTES_OUT:-0}
CUT=$((TOTAL / 2))
diag "release $BIG on the wire: $TOTAL bytes; cut at $CUT (50%)"
ok "$([ "$TOTAL" -ge "$BIG_BYTES" ] && echo 0 || echo 1)" \
    "the release's bytes on the wire ($TOTAL) hold the whole big file"

# --- a cut at 50% ---------------------------------------------------------------------

SCHOOL=$TMP/school
run_satchel store init --trust "$TMP/policy" "$SCHOOL"
expect_success "a school store"
visible "$SCHOOL" >"$TMP/fp.before"
run_satchel ls "$SCHOOL"
LS_BEFORE=$OUT

relay DR "$CUT"
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$SCHOOL" "$BIG"
bg_wait "$DR"
RELAY_RC=$BG_RC
RELAY_SAYS=$(cat "$RELAY_OUT")
expect_fail "a pull cut at $CUT bytes fails, naming the connection" \
    "satchel://127.0.0.1:$RPORT" '/connection|closed|reset|broken/'
diag "satchel pull said: $(printf '%s\n' "$ERR" | tail -n 1)"
is "$RELAY_SAYS" "down=$CUT up=$(printf '%s' "$RELAY_SAYS" |
    sed -n 's/.*up=\([0-9]*\).*/\1/p') end=cut" \
    "the relay forwarded exactly $CUT bytes, then cut (rc $RELAY_RC)"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the cut connection's close"
diag "satcheld on the cut connection: $(sed -n "/closed after/p" "$DLOG" |
    sed -n "${NCLOSED}p")"

visible "$SCHOOL" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the cut, the store's visible state is unchanged"
else
	ok 1 "after the cut, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi
run_satchel ls "$SCHOOL"
also "ls as before the cut" test "$OUT" = "$LS_BEFORE"
expect_success "ls SCHOOL after the cut: as before"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL after the cut: clean" "$SCHOOL: clean"

STAGED=$(find "$SCHOOL/tmp" -path "$SCHOOL/tmp/pull-*/*" -type f 2>/dev/null |
    wc -l | tr -d ' ')
PART_BYTES=$(find "$SCHOOL/tmp" -path "$SCHOOL/tmp/pull-*/*.part" -type f \
    -exec cat {} + 2>/dev/null | wc -c | tr -d ' ')
find "$SCHOOL/tmp" -type f -exec ls -l {} + 2>/dev/null |
    sed "s|$SCHOOL/||" | diag
ok "$([ "$STAGED" -gt 0 ] && echo 0 || echo 1)" \
    "tmp/pull-N/ keeps what was received ($STAGED files, .part $PART_BYTES bytes)"

# --- the next pull resumes ------------------------------------------------------------

run_satchel pull "$URL" --store "$SCHOOL" "$BIG"
expect_success "the next pull, direct: completes" "1 release updated"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the resumed connection's bytes out"
RESUMED=${BYTES_OUT:-999999999999}
LIMIT=$((TOTAL - CUT + SLACK))
RESENT=$((RESUMED - (TOTAL - CUT)))
diag "total $TOTAL, cut $CUT, resumed pull $RESUMED bytes out," \
    "re-sent $RESENT bytes (limit $SLACK)"
ok "$([ "$RESUMED" -le "$LIMIT" ] && echo 0 || echo 1)" \
    "resumed pull sent $RESUMED <= $TOTAL - $CUT + $SLACK bytes (re-sent $RESENT)"

run_satchel archive --store "$SCHOOL" -o "$TMP/s-big.satchel" "$BIG"
expect_success "archive $BIG from the school"
same_bytes "$TMP/s-big.satchel" "$TMP/big1.satchel" \
    "the resumed bundle equals the published file"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL after the resumed pull: clean" "$SCHOOL: clean"
ok "$(dir_empty "$SCHOOL/tmp" && echo 0 || echo 1)" "SCHOOL/tmp is empty"

# --- the client killed at 50% ------------------------------------------------------

# Not a cut: the relay holds the connection open after CUT bytes and the
# client is killed (SIGKILL, its whole process group) while it waits.
K=$TMP/school-k
run_satchel store init --trust "$TMP/policy" "$K"
visible "$K" >"$TMP/fp.before"
relay DRK "$CUT" pause
bg_start KP "$SATCHEL" pull "satchel://127.0.0.1:$RPORT" --store "$K" "$BIG"
if wait_file "$TMP/relay.port.paused"; then
	ok 0 "the relay paused the pull after $(cat "$TMP/relay.port.paused") bytes"
else
	ok 1 "the relay paused the pull after $CUT bytes"
fi
sigkill "$KP"
bg_wait "$DRK"
is "$(cat "$RELAY_OUT")" "down=$CUT up=$(sed -n 's/.*up=\([0-9]*\).*/\1/p' \
    "$RELAY_OUT") end=client gone" "the relay saw the killed client go (rc $BG_RC)"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the killed client's connection"
visible "$K" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the kill, the store's visible state is unchanged"
else
	ok 1 "after the kill, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi
run_satchel pull "$URL" --store "$K" "$BIG"
expect_success "the next pull after the kill completes" "1 release updated"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the pull after the kill"
RESUMED=${BYTES_OUT:-999999999999}
RESENT=$((RESUMED - (TOTAL - CUT)))
diag "killed at $CUT of $TOTAL; the next pull: $RESUMED bytes out," \
    "re-sent $RESENT bytes (limit $SLACK)"
ok "$([ "$RESUMED" -le "$LIMIT" ] && echo 0 || echo 1)" \
    "after a kill, the next pull sent $RESUMED <= $TOTAL - $CUT + $SLACK bytes (re-sent $RESENT)"
run_satchel archive --store "$K" -o "$TMP/k-big.satchel" "$BIG"
expect_success "archive $BIG after the kill"
same_bytes "$TMP/k-big.satchel" "$TMP/big1.satchel" \
    "after a kill and a resume, the bundle equals the published file"
run_satchel fsck "$K"
expect_success "fsck K: clean" "$K: clean"

# --- a cut inside the handshake ------------------------------------------------------------

H=$TMP/school-h
run_satchel store init --trust "$TMP/policy" "$H"
visible "$H" >"$TMP/fp.before"
relay DR2 200
run_satchel pull "satchel://127.0.0.1:$RPORT" --store "$H" family-health-care
bg_wait "$DR2"
RELAY_SAYS=$(cat "$RELAY_OUT")
expect_fail "a pull cut at 200 bytes (in the handshake) fails" \
    "satchel://127.0.0.1:$RPORT" '/connection|closed|reset|broken/'
diag "satchel pull said: $(printf '%s\n' "$ERR" | tail -n 1)"
like "$RELAY_SAYS" "/^down=200 up=[0-9]+ end=cut$/" \
    "the relay forwarded exactly 200 bytes, then cut"
NCLOSED=$((NCLOSED + 1))
wait_closed "$NCLOSED"
ok $? "satcheld logged the handshake-cut connection's close"
visible "$H" >"$TMP/fp.after"
if cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
	ok 0 "after the handshake cut, the store's visible state is unchanged"
else
	ok 1 "after the handshake cut, the store's visible state is unchanged"
	diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
fi
run_satchel pull "$URL" --store "$H" family-health-care
also "tmp/ empty" dir_empty "$H/tmp"
expect_success "... and the rerun succeeds" "1 release updated"
run_satchel archive --store "$H" -o "$TMP/h-fhc.satchel" family-health-care
expect_success "archive family-health-care after the rerun"
same_bytes "$TMP/h-fhc.satchel" "$TMP/fhc1.satchel" \
    "family-health-care equals the published file"
run_satchel fsck "$H"
expect_success "fsck H: clean" "$H: clean"

kill_recorded "$DO"
no_sanitizer "$DLOG"

done_testing
