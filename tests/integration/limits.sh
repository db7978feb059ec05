#!/bin/sh
# limits.sh: satcheld against peers that hold resources (SPEC §11 limits,
# issue 4 "bad peers"). With --min-rate 4096/2 (4 KiB/s over 2 s windows):
# a peer that pipelines requests for a large object and then reads the
# answers at 200 bytes/s, and a peer that trickles a frame in two bytes a
# second (each byte re-arms the idle timeout), are each dropped with a
# log line naming the peer and "too slow"; a normal `satchel pull` is
# served meanwhile. Then 1000 sockets at once against --max-connections
# 100: exactly 100 are greeted, the other 900 answered with ERROR busy,
# the daemon keeps running and serves a normal pull while 90 of the 100
# are still held open.
. "$(dirname "$0")/lib.sh"
need python3 head sed grep
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

cat >"$TMP/peer.py" <<'PYEOF'
# peer.py PORT MODE ARGS: misbehaving sync peers; each prints what it saw.
import os, select, socket, struct, sys, time

port, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
HELLO, ERROR = 0x0001, 0x0002

def frame(t, p=b""):
    return struct.pack(">IH", len(p), t) + p

def hello():
    return frame(HELLO, b"SATCHEL\0" + struct.pack(">HIH", 1, 1 << 20, 0))

def read_frame(s):
    """One whole frame (type, payload), or None at EOF."""
    h = b""
    while len(h) < 6:
        d = s.recv(6 - len(h))
        if not d:
            return None
        h += d
    n, t = struct.unpack(">IH", h)
    p = b""
    while len(p) < n:
        d = s.recv(min(65536, n - len(p)))
        if not d:
            return None
        p += d
    return t, p

if mode == "slowread":             # slowread HASH: 16 requests, read 200 B/s
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    print("LOCAL %d" % s.getsockname()[1], flush=True)
    s.sendall(hello())
    if read_frame(s)[0] != HELLO:
        sys.exit("no HELLO")
    h = bytes.fromhex(args[0])
    s.sendall(b"".join(frame(0x0200, struct.pack(">I", i) + h +
                       struct.pack(">Q", 0)) for i in range(16)))
    got, t0 = 0, time.monotonic()
    try:
        while time.monotonic() - t0 < 50:
            d = s.recv(100)
            if not d:
                break
            got += len(d)
            time.sleep(0.5)
        end = "closed" if time.monotonic() - t0 < 50 else "not closed"
    except OSError as e:
        end = "closed (%s)" % e.strerror
    print("END %s after %d bytes" % (end, got), flush=True)
elif mode == "trickle":            # a GET_META sent 1 byte per 0.5 s
    s = socket.socket()
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    print("LOCAL %d" % s.getsockname()[1], flush=True)
    s.sendall(hello())
    if read_frame(s)[0] != HELLO:
        sys.exit("no HELLO")
    meta = frame(0x0100, struct.pack(">BI", 2, 0) + b"\0") * 50
    sent, end = 0, "not closed"
    try:
        for b in meta:
            s.send(bytes([b]))
            sent += 1
            r, _, _ = select.select([s], [], [], 0.5)
            if r and not s.recv(1):
                end = "closed"
                break
    except OSError as e:
        end = "closed (%s)" % e.strerror
    print("END %s after sending %d of %d bytes" % (end, sent, len(meta)),
          flush=True)
elif mode == "flood":              # flood N READY GO: N sockets at once
    n, ready, go = int(args[0]), args[1], args[2]
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    pending = {s: b"" for s in socks}
    # Send HELLO once connected, then read the first answer of each.
    unsent = set(socks)
    answer = {}
    deadline = time.monotonic() + 40
    while len(answer) < n and time.monotonic() < deadline:
        want = [s for s in socks if s not in answer]
        r, w, _ = select.select(want, list(unsent), [], 1)
        for s in w:
            try:
                s.send(hello())
            except OSError:
                answer[s] = "reset"
            unsent.discard(s)
        for s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                answer[s] = "eof"
                continue
            pending[s] += d
            b = pending[s]
            if len(b) >= 6:
                ln, t = struct.unpack(">IH", b[:6])
                if len(b) >= 6 + ln:
                    if t == HELLO:
                        answer[s] = "hello"
                    elif t == ERROR and struct.unpack(">H", b[6:8])[0] == 6:
                        answer[s] = "busy"
                    else:
                        answer[s] = "type %d" % t
    count = {}
    for v in answer.values():
        count[v] = count.get(v, 0) + 1
    print("ANSWERS %d hello %d busy %d other %d" % (len(answer),
          count.get("hello", 0), count.get("busy", 0),
          len(answer) - count.get("hello", 0) - count.get("busy", 0)),
          flush=True)
    # Keep 90 of the greeted ones, close everything else.
    kept = 0
    for s in socks:
        if answer.get(s) == "hello" and kept < 90:
            kept += 1
        else:
            s.close()
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % kept)
    os.replace(ready + ".tmp", ready)
    t0 = time.monotonic()
    while not os.path.exists(go) and time.monotonic() - t0 < 40:
        time.sleep(0.1)
    alive = 0
    for s in socks:
        if s.fileno() != -1:
            r, _, _ = select.select([s], [], [], 0)
            alive += 0 if r else 1
            s.close()
    print("KEPT %d still open %d" % (kept, alive), flush=True)
else:
    sys.exit("unknown mode " + mode)
PYEOF

# wait_for FILE PATTERN: waits up to 20 s for a line matching PATTERN.
wait_for()
{
	_i=0
	while [ "$_i" -lt 200 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# serve PIDVAR ARGS...: satcheld serving $O with ARGS (start_satcheld);
# sets PORT and DLOG.
serve()
{
	_v=$1
	shift
	start_satcheld "$_v" "satcheld $*" --store "$O" "$@"
}

# --- the origin ---------------------------------------------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    new-citizen-orientation
expect_success "trust policy"
make_repo new-citizen-orientation
head -c 8388608 /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a big file"
BIG=$(sha256sum "$REPO/big.bin" | cut -d ' ' -f 1)
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/nco.satchel"
expect_success "build new-citizen-orientation with an 8 MiB file" "serial 1"
O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" "$TMP/nco.satchel"
expect_success "the origin"

# --- minimum rate -------------------------------------------------------------------------

serve DS --min-rate 4096/2 --idle-timeout 30

bg_start SR python3 "$TMP/peer.py" "$PORT" slowread "$BIG"
SR_OUT=$BG_OUT
bg_start TR python3 "$TMP/peer.py" "$PORT" trickle
TR_OUT=$BG_OUT
wait_for "$SR_OUT" '^LOCAL' && wait_for "$TR_OUT" '^LOCAL' ||
	bail_out "the slow peers did not connect"
SR_PORT=$(sed -n 's/^LOCAL //p' "$SR_OUT")
TR_PORT=$(sed -n 's/^LOCAL //p' "$TR_OUT")

run_satchel pull "satchel://127.0.0.1:$PORT" --store "$TMP/s1"
expect_success "a normal pull is served while the slow peers hold on" \
    "1 release updated"
run_satchel fsck "$TMP/s1"
expect_success "... and its store is fsck clean" "clean"

bg_wait "$SR"
diag "slow reader: $(cat "$SR_OUT" | tr '\n' ' ')"
like "$(grep 'too slow' "$DLOG" | grep "127.0.0.1:$SR_PORT:" || true)" \
    "/too slow: .* with answers pending \(minimum 4096 bytes\/s\)/" \
    "the slow reader is dropped with a log line naming 127.0.0.1:$SR_PORT"
like "$(sed -n 's/^END //p' "$SR_OUT")" "/^closed/" \
    "... and sees its connection closed"

bg_wait "$TR"
diag "trickler: $(cat "$TR_OUT" | tr '\n' ' ')"
like "$(grep 'too slow' "$DLOG" | grep "127.0.0.1:$TR_PORT:" || true)" \
    "/too slow: .* with a partial frame pending/" \
    "the trickling peer is dropped with a log line naming 127.0.0.1:$TR_PORT"
like "$(sed -n 's/^END //p' "$TR_OUT")" "/^closed/" \
    "... before it could finish its frames"
if kill -0 "$DS" 2>/dev/null; then ok 0 "satcheld still runs"
else ok 1 "satcheld still runs"; fi
kill_recorded "$DS"
no_sanitizer "$DLOG"

# --- 1000 connections at once ------------------------------------------------------------------

serve DF --max-connections 100 --idle-timeout 60
rm -f "$TMP/ready" "$TMP/go"
bg_start FL python3 "$TMP/peer.py" "$PORT" flood 1000 "$TMP/ready" "$TMP/go"
FL_OUT=$BG_OUT
if wait_for "$TMP/ready" '[0-9]'; then
	ok 0 "1000 sockets opened, answered, 90 greeted ones kept"
else
	ok 1 "1000 sockets opened, answered, 90 greeted ones kept"
	diag <"$BG_ERR"
fi
is "$(sed -n 's/^ANSWERS //p' "$FL_OUT")" "1000 hello 100 busy 900 other 0" \
    "every socket answered: 100 greeted, 900 refused with ERROR busy"

# The daemon frees a refused slot once it reads that socket's EOF: a
# pull that arrives first is refused as busy, so try a few times.
_i=0
while [ "$_i" -lt 20 ]; do
	run_satchel pull "satchel://127.0.0.1:$PORT" --store "$TMP/s2"
	[ "$RC" -eq 0 ] && break
	case $ERR in *busy*|*"too many"*) ;; *) break ;; esac
	sleep 0.5
	_i=$((_i + 1))
done
expect_success "a normal pull is served while 90 connections are held" \
    "1 release updated"
run_satchel fsck "$TMP/s2"
expect_success "... and its store is fsck clean" "clean"
touch "$TMP/go"
bg_wait "$FL"
is "$(sed -n 's/^KEPT //p' "$FL_OUT")" "90 still open 90" \
    "the 90 held connections stayed open through the pull"
is "$(grep -c 'too many connections (limit 100)' "$DLOG")" 900 \
    "satcheld logged the 900 refusals"
if kill -0 "$DF" 2>/dev/null; then ok 0 "satcheld still runs"
else ok 1 "satcheld still runs"; fi
kill_recorded "$DF"
no_sanitizer "$DLOG"

done_testing
