#!/bin/sh
# daemon.sh: satcheld serving a store over the sync protocol (SPEC §11):
# the handshake, GET_META by role (data, not modified, not found),
# GET_OBJECT streamed as zstd chunks (from 0 and from a middle offset,
# 20 pipelined on one connection), and bad peers (a 10 MiB header before
# HELLO while another client is served, garbage, a stalled half frame,
# an unknown type, a full queue); then SIGTERM, and the command line's
# failures (missing store, a taken port, usage). A python3 client
# (standard library only) speaks the protocol; `zstd -dc` decompresses.
. "$(dirname "$0")/lib.sh"
need zstd python3 date
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# --- the client -------------------------------------------------------------------

cat >"$TMP/client.py" <<'PYEOF'
# client.py PORT MODE ARGS...: one sync protocol exchange; prints one line
# per fact the shell checks, exits 1 on any surprise (with a message).
import hashlib, socket, struct, subprocess, sys, time

HELLO, ERROR, KEEPALIVE, BYE = 0x0001, 0x0002, 0x0003, 0x0004
GET_META, META = 0x0100, 0x0101
GET_OBJECT, OBJECT_DATA, OBJECT_END, CANCEL = 0x0200, 0x0201, 0x0202, 0x0203
PUBLISH, PUBLISH_RESULT = 0x0300, 0x0304

def die(msg):
    print("FAIL " + msg)
    sys.exit(1)

def frame(t, payload=b""):
    return struct.pack(">IH", len(payload), t) + payload

def text(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b

def hello_frame(max_frame=1 << 20):
    return frame(HELLO, b"SATCHEL\0" + struct.pack(">HIH", 1, max_frame, 0))

def get_meta(role, name="", have=None):
    p = struct.pack(">B", role) + text(name)
    p += b"\0" if have is None else b"\1" + bytes.fromhex(have)
    return frame(GET_META, p)

def get_object(req, obj, off):
    return frame(GET_OBJECT, struct.pack(">I", req) + bytes.fromhex(obj) +
                 struct.pack(">Q", off))

class Conn:
    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, b):
        self.s.sendall(b)

    def recv_exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self):
        """(type, payload), or None at EOF."""
        h = self.recv_exact(6)
        if h is None:
            return None
        n, t = struct.unpack(">IH", h)
        p = self.recv_exact(n)
        if p is None:
            die("EOF inside a frame")
        return t, p

    def handshake(self, max_frame=1 << 20):
        self.send(hello_frame(max_frame))
        f = self.read()
        if f is None or f[0] != HELLO:
            die("expected HELLO, got %r" % (f,))
        p = f[1]
        if p[:8] != b"SATCHEL\0":
            die("bad magic")
        return struct.unpack(">HIH", p[8:16])

def parse_text(p, o):
    (n,) = struct.unpack(">I", p[o:o + 4])
    return p[o + 4:o + 4 + n].decode(), o + 4 + n

def describe(f):
    """One line for a frame: ERROR code message, or the type."""
    if f is None:
        return "EOF"
    t, p = f
    if t == ERROR:
        (code,) = struct.unpack(">H", p[:2])
        msg, _ = parse_text(p, 2)
        return "ERROR %d %s" % (code, msg)
    if t == PUBLISH_RESULT:
        ok, serial = struct.unpack(">BQ", p[:9])
        msg, _ = parse_text(p, 9)
        return "PUBLISH_RESULT %d %d %s" % (ok, serial, msg)
    return "TYPE 0x%04x" % t

def read_meta(c):
    f = c.read()
    if f is None or f[0] != META:
        die("expected META, got " + describe(f))
    p = f[1]
    role = p[0]
    name, o = parse_text(p, 1)
    status = p[o]
    data = b""
    if status == 0:
        # Pieces (SPEC §11 "Metadata in pieces"): total, offset, data,
        # back to back until the total is reached.
        while True:
            total, off, n = struct.unpack(">QQI", p[o + 1:o + 21])
            piece = p[o + 21:o + 21 + n]
            if len(piece) != n or o + 21 + n != len(p) or off != len(data):
                die("META piece length or offset")
            data += piece
            if len(data) == total:
                break
            f = c.read()
            if f is None or f[0] != META:
                die("expected the next META piece, got " + describe(f))
            p = f[1]
    elif o + 1 != len(p):
        die("META trailing bytes")
    return role, name, status, data

def unzstd(chunk):
    r = subprocess.run(["zstd", "-dc"], input=chunk, stdout=subprocess.PIPE,
                       check=True)
    return r.stdout

def read_object(c, req, off):
    """Collects one request's OBJECT_DATA up to its OBJECT_END; checks the
    chunks are contiguous from off. Returns (bytes, size, nchunks)."""
    data = b""
    n = 0
    while True:
        f = c.read()
        if f is None:
            die("EOF before OBJECT_END of request %d" % req)
        t, p = f
        if t == OBJECT_DATA:
            r, o, ln = struct.unpack(">IQI", p[:16])
            if r != req:
                die("OBJECT_DATA of request %d while %d is served" % (r, req))
            if o != off + len(data):
                die("chunk at %d, expected %d" % (o, off + len(data)))
            if ln != len(p) - 16 or ln == 0:
                die("chunk length")
            data += unzstd(p[16:])
            n += 1
        elif t == OBJECT_END:
            r, size = struct.unpack(">IQ", p)
            if r != req:
                die("OBJECT_END of request %d, expected %d" % (r, req))
            if off + len(data) != size:
                die("size %d, got %d bytes from %d" % (size, len(data), off))
            return data, size, n
        else:
            die("unexpected " + describe(f))

def drain(c):
    """Every frame until EOF, one line each."""
    while True:
        f = c.read()
        print(describe(f))
        if f is None:
            return

port = int(sys.argv[1])
mode = sys.argv[2]
args = sys.argv[3:]

if mode == "hello":
    c = Conn(port)
    v, mf, ncaps = c.handshake()
    print("HELLO version %d max_frame %d ncaps %d" % (v, mf, ncaps))
    v, mf, ncaps = Conn(port).handshake(8192)
    print("HELLO-8192 max_frame %d" % mf)
elif mode == "meta":               # meta ROLE NAME HAVE|- OUT
    c = Conn(port)
    c.handshake()
    role, name, out = int(args[0]), args[1], args[3]
    c.send(get_meta(role, name, None if args[2] == "-" else args[2]))
    r, n, status, data = read_meta(c)
    if r != role or n != name:
        die("META for role %d %r" % (r, n))
    with open(out, "wb") as f:
        f.write(data)
    print("META status %d bytes %d" % (status, len(data)))
elif mode == "object":             # object HASH OFFSET OUT [MAXFRAME]
    c = Conn(port)
    c.handshake(int(args[3]) if len(args) > 3 else 1 << 20)
    off = int(args[1])
    c.send(get_object(7, args[0], off))
    data, size, n = read_object(c, 7, off)
    with open(args[2], "wb") as f:
        f.write(data)
    print("OBJECT size %d bytes %d chunks %d" % (size, len(data), n))
elif mode == "pipeline":           # pipeline N HASH...: N requests at once
    c = Conn(port)
    c.handshake()
    n, objs = int(args[0]), args[1:]
    want = [objs[i % len(objs)] for i in range(n)]
    c.send(b"".join(get_object(100 + i, h, 0) for i, h in enumerate(want)))
    for i, h in enumerate(want):
        data, size, _ = read_object(c, 100 + i, 0)
        if hashlib.sha256(data).hexdigest() != h:
            die("request %d: wrong bytes" % (100 + i))
    print("PIPELINE %d in order" % n)
elif mode == "notfound":           # a missing object, then the conn still works
    c = Conn(port)
    c.handshake()
    c.send(get_object(1, "00" * 32, 0))
    print(describe(c.read()))
    c.send(get_meta(2))
    print("then META status %d" % read_meta(c)[2])
elif mode == "toolarge":           # a 10 MiB header before HELLO; B still served
    a = Conn(port)
    a.handshake()
    b = Conn(port)
    b.send(struct.pack(">IH", 10 << 20, HELLO))
    drain(b)
    a.send(get_meta(2))
    print("other client: META status %d" % read_meta(a)[2])
elif mode == "raw":                # raw [hello] HEX: these bytes, then every answer
    c = Conn(port)
    if args[0] == "hello":
        c.handshake()
        args = args[1:]
    c.send(bytes.fromhex(args[0]))
    drain(c)
elif mode == "publish":
    c = Conn(port)
    c.handshake()
    c.send(frame(PUBLISH, struct.pack(">QQI", 3, 0, 3) + b"abc"))
    print(describe(c.read()))
    c.send(frame(KEEPALIVE))
    c.send(frame(BYE))
    drain(c)
elif mode == "overflow":           # 257 requests outstanding
    c = Conn(port)
    c.handshake()
    c.send(b"".join(get_object(i, "00" * 32, 0) for i in range(1)))
    c.read()                       # the not-found of request 0
    big = args[0]
    c.send(b"".join(get_object(i, big, 0) for i in range(257)))
    while True:
        f = c.read()
        if f is None:
            die("EOF without ERROR")
        if f[0] == ERROR:
            print(describe(f))
            break
    drain(c)
elif mode == "stall":              # half a HELLO, then wait
    c = Conn(port, timeout=20)
    t0 = time.time()
    c.send(hello_frame()[:9])
    while True:
        f = c.read()
        if f is None:
            print("EOF after %d s" % round(time.time() - t0))
            break
        print(describe(f))
elif mode == "idle":               # handshake, then wait for the server to close
    c = Conn(port, timeout=20)
    c.handshake()
    print("READY", flush=True)
    drain(c)
else:
    die("unknown mode " + mode)
PYEOF

client()
{
	run python3 "$TMP/client.py" "$PORT" "$@"
}


# --- a store with one published bundle --------------------------------------------------

for k in root catalog author; do
	"$SATCHEL" keygen "$TMP/$k.key" >/dev/null 2>&1 ||
		bail_out "keygen $k"
done
"$SATCHEL" trust new --root-key "$TMP/root.key" -o "$TMP/policy" >/dev/null &&
"$SATCHEL" trust add-catalog --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/catalog.key.pub" >/dev/null &&
"$SATCHEL" trust add-publisher --root-key "$TMP/root.key" "$TMP/policy" \
    "$TMP/author.key.pub" calligraphy-basics >/dev/null ||
	bail_out "cannot make the trust policy"

make_repo calligraphy-basics
# A file of several pieces (the daemon sends at most 128 KiB per chunk),
# barely compressible, so the chunking and the offsets are exercised.
python3 -c '
import hashlib, sys
out, h = bytearray(), b"satchel"
while len(out) < 700000:
    h = hashlib.sha256(h).digest()
    out += h
sys.stdout.buffer.write(bytes(out[:700000]))' >"$REPO/lessons/big.bin"
git_commit "$REPO" "Add a large file"
BIG=$(file_sum "$REPO/lessons/big.bin")
SMALL=$(file_sum "$REPO/style.css")
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics with a 700 kB file" "serial 1"

S=$TMP/store
run_satchel store init --trust "$TMP/policy" --catalog-key "$TMP/catalog.key" "$S"
expect_success "store init"
run_satchel publish --store "$S" "$TMP/cb.satchel"
also "the large file is an object" test -f "$S/objects/$(echo "$BIG" | cut -c1-2)/$(echo "$BIG" | cut -c3-)"
expect_success "publish calligraphy-basics" "catalog serial 2"
SIGNED=$S/meta/releases/calligraphy-basics/1.signed

# --- start the daemon ---------------------------------------------------------------

bg_start DPID "$SATCHELD" --store "$S" --sync-listen 127.0.0.1:0 \
    --port-file "$TMP/port" --idle-timeout 2
DERR=$BG_ERR
if wait_port "$TMP/port"; then
	ok 0 "satcheld writes its port file (sync $PORT)"
else
	ok 1 "satcheld writes its port file"
	cat "$DERR" | diag
	bail_out "satcheld did not start"
fi

# --- the protocol ----------------------------------------------------------------------

client hello
expect_success "handshake: the server answers HELLO version 1, 1 MiB, no capabilities" \
    "HELLO version 1 max_frame 1048576 ncaps 0" "HELLO-8192 max_frame 8192"

client meta 2 "" - "$TMP/catalog.got"
also "the bytes are meta/catalog's" cmp -s "$TMP/catalog.got" "$S/meta/catalog"
expect_success "GET_META catalog returns meta/catalog" "META status 0 bytes $(wc -c <"$S/meta/catalog")"

client meta 2 "" "$(file_sum "$S/meta/catalog")" "$TMP/nm.got"
expect_success "GET_META catalog with have = its SHA-256: not modified" \
    "META status 1 bytes 0"

client meta 2 "" "$(printf x | sha256sum | cut -d ' ' -f 1)" "$TMP/old.got"
also "the bytes are meta/catalog's" cmp -s "$TMP/old.got" "$S/meta/catalog"
expect_success "GET_META catalog with an old have: the data" "META status 0"

client meta 1 "" - "$TMP/trust.got"
also "the bytes are meta/trust's" cmp -s "$TMP/trust.got" "$S/meta/trust"
expect_success "GET_META trust returns meta/trust" "META status 0"

client meta 3 calligraphy-basics@1 - "$TMP/signed.got"
also "the bytes are the .signed file's" cmp -s "$TMP/signed.got" "$SIGNED"
expect_success "GET_META release calligraphy-basics@1 returns its signed manifest" \
    "META status 0"

client meta 3 calligraphy-basics@9 - "$TMP/none.got"
expect_success "GET_META of a release the store lacks: status 2" "META status 2 bytes 0"

# A release file the catalog has not reached (a leftover of an
# interrupted publish) is not served.
cp "$SIGNED" "$(dirname "$SIGNED")/7.signed"
client meta 3 calligraphy-basics@7 - "$TMP/leftover.got"
also "the leftover file is there" test -s "$(dirname "$SIGNED")/7.signed"
expect_success "GET_META of a release file beyond the catalog: status 2" "META status 2 bytes 0"
rm -f "$(dirname "$SIGNED")/7.signed"

client object "$BIG" 0 "$TMP/big.got"
also "the bytes are the object's" cmp -s "$TMP/big.got" "$REPO/lessons/big.bin"
expect_success "GET_OBJECT from 0: six zstd chunks decompress to the object" \
    "OBJECT size 700000 bytes 700000 chunks 6"

client object "$BIG" 300001 "$TMP/tail.got"
tail -c 399999 "$REPO/lessons/big.bin" >"$TMP/tail.want"
also "the bytes are the object's tail" cmp -s "$TMP/tail.got" "$TMP/tail.want"
expect_success "GET_OBJECT from offset 300001: the object's tail" \
    "OBJECT size 700000 bytes 399999"

client object "$BIG" 0 "$TMP/small-frames.got" 4096
also "the bytes are the object's" cmp -s "$TMP/small-frames.got" "$REPO/lessons/big.bin"
expect_success "GET_OBJECT with max_frame 4096: chunks fit the agreed frame" \
    "OBJECT size 700000 bytes 700000"

client object "$SMALL" 1721 "$TMP/end.got"
expect_success "GET_OBJECT at offset == size: OBJECT_END alone" \
    "OBJECT size 1721 bytes 0 chunks 0"

client pipeline 20 "$BIG" "$SMALL"
expect_success "20 GET_OBJECTs pipelined on one connection complete in order" \
    "PIPELINE 20 in order"

client notfound
expect_success "GET_OBJECT of a missing object: ERROR not-found, the connection stays" \
    "/^ERROR 4 object 0{64} not found/" "then META status 0"

client publish
expect_success "PUBLISH of garbage: PUBLISH_RESULT ok 0; KEEPALIVE ignored; BYE closes" \
    "PUBLISH_RESULT 0 2 PUBLISH: not a signed manifest" "EOF"

# --- bad peers -------------------------------------------------------------------------

client toolarge
expect_success "a 10 MiB header before HELLO: ERROR too-large, closed; another client is served" \
    "/^ERROR 2 .*10485760/" "EOF" "other client: META status 0"

# A HELLO of 16 bytes whose magic is wrong.
client raw 000000100001"$(printf 'NOTSATCH' | od -An -tx1 | tr -d ' \n')"0001001000000000
expect_success "garbage in a frame: ERROR protocol, closed" "/^ERROR 1 /" "EOF"

client raw 00000000000400000000000300
expect_success "BYE before HELLO: ERROR protocol" "/^ERROR 1 BYE before HELLO/" "EOF"

client raw hello 000000000150
expect_success "an unknown message type: ERROR protocol, closed" "/^ERROR 1 /" "EOF"

client raw hello 000000000101
expect_success "a server-only message from the client: ERROR protocol" "/^ERROR 1 /" "EOF"

client overflow "$BIG"
expect_success "257 requests outstanding: ERROR protocol" \
    "/^ERROR 1 .*more than 256 requests outstanding/" "EOF"

client stall
expect_success "half a frame then silence: ERROR timeout and closed after --idle-timeout 2" \
    "ERROR 7 idle for 2 s" "/^EOF after [23] s/"

# --- the log, SIGTERM ------------------------------------------------------------------

like "$(cat "$DERR")" "/sync 127\\.0\\.0\\.1:[0-9]+: closed after [0-9.]+ s, [0-9]+ messages, [0-9]+ bytes in, [0-9]+ bytes out: sent ERROR 2/" \
    "one log line per connection: peer, messages, bytes, duration, reason"

# An idle client is closed at once by SIGTERM.
bg_start CPID python3 "$TMP/client.py" "$PORT" idle
COUT=$BG_OUT
_i=0
while [ "$_i" -lt 50 ] && ! grep -q READY "$COUT"; do
	sleep 0.1
	_i=$((_i + 1))
done
T0=$(date +%s)
kill -TERM "$DPID"
bg_wait "$DPID"
T1=$(date +%s)
DRC=$BG_RC
bg_wait "$CPID"
also "the daemon exited 0 (got $DRC)" test "$DRC" = 0
also "within 6 s" test $((T1 - T0)) -le 6
also "the idle client saw the connection close" grep -q '^EOF' "$COUT"
also "the log says shutdown" grep -q ': shutdown$' "$DERR"
also "no sanitizer report" sanitizer_free "$DERR"
ok 0 "SIGTERM: idle connections closed, exit 0 within 6 s, no leaks"

# --- the command line ------------------------------------------------------------------

run_satcheld --store "$TMP/no-such-store" --sync-listen 127.0.0.1:0
expect_fail "--store of a missing directory: exit 1 naming it" "$TMP/no-such-store"

run_satcheld --store "$TMP" --sync-listen 127.0.0.1:0
expect_fail "--store of a directory that is not a store: exit 1" "$TMP"

bg_start D2 "$SATCHELD" --store "$S" --sync-listen 127.0.0.1:0 --port-file "$TMP/port2"
wait_port "$TMP/port2" || bail_out "the second daemon did not start"
run_satcheld --store "$S" --sync-listen "127.0.0.1:$PORT"
expect_fail "a port already taken: exit 1 naming the address" "127.0.0.1:$PORT"

bg_start D3 "$SATCHELD" --store "$S" --sync-listen 127.0.0.1:0 --port-file "$TMP/port3" \
    --max-connections 1
D3ERR=$BG_ERR
wait_port "$TMP/port3" || bail_out "the third daemon did not start"
bg_start CPID python3 "$TMP/client.py" "$PORT" idle
COUT=$BG_OUT
_i=0
while [ "$_i" -lt 50 ] && ! grep -q READY "$COUT"; do
	sleep 0.1
	_i=$((_i + 1))
done
client raw 000000000003
kill_recorded "$D3"
bg_wait "$CPID"
also "the first client was served until SIGTERM" grep -q '^EOF' "$COUT"
also "no sanitizer report" sanitizer_free "$D3ERR"
expect_success "over --max-connections 1: ERROR busy, closed" "/^ERROR 6 /" "EOF"
kill_recorded "$D2"

run_satcheld --store "$S" --sync-listen 127.0.0.1
expect_usage "--sync-listen without a port: usage error" "127.0.0.1"
run_satcheld --store "$S" --idle-timeout 0
expect_usage "--idle-timeout 0: usage error" "--idle-timeout"
run_satcheld --sync-listen 127.0.0.1:0
expect_usage "no --store: usage error" "--store"
run_satcheld --bogus
expect_usage "an unknown option: usage error"
run_satcheld --help
expect_success "--help" "usage: satcheld --store DIR"
run_satcheld --version
expect_success "--version" "/^satcheld [0-9]/"

done_testing
