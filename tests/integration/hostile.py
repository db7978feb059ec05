import hashlib, os, socket, struct, sys, threading, time

store, portfile, mode = sys.argv[1:4]
MB = 1 << 20

def text(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b

def frame(t, p):
    return struct.pack(">IH", len(p), t) + p

def zframe(data=b"", declared=None, rle=0):
    """A zstd frame of raw blocks holding data, then rle bytes of zeros in
    RLE blocks; it declares `declared` (default: what it holds)."""
    if declared is None:
        declared = len(data) + rle
    out = [b"\x28\xb5\x2f\xfd\xe0", struct.pack("<Q", declared)]
    blocks = []
    for i in range(0, len(data), 65536):
        c = data[i:i + 65536]
        blocks.append((0, len(c), c))
    while rle > 0:
        n = min(rle, 131072)
        blocks.append((1, n, b"\0"))
        rle -= n
    if not blocks:
        blocks.append((0, 0, b""))
    for i, (kind, n, c) in enumerate(blocks):
        last = 1 if i == len(blocks) - 1 else 0
        out.append(struct.pack("<I", n << 3 | kind << 1 | last)[:3] + c)
    return b"".join(out)

def doc(role, name):
    if role == 1:
        p = "meta/trust"
    elif role == 2:
        p = "meta/catalog"
    else:
        n, s = name.split("@")
        p = "meta/releases/%s/%s.signed" % (n, s)
    try:
        with open(os.path.join(store, p), "rb") as f:
            return f.read()
    except OSError:
        return None

def obj(h):
    hx = h.hex()
    with open(os.path.join(store, "objects", hx[:2], hx[2:]), "rb") as f:
        return f.read()

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def read_frame(s):
    n, t = struct.unpack(">IH", recv_exact(s, 6))
    return t, recv_exact(s, n)

def hello(caps):
    return frame(1, b"SATCHEL\0" + struct.pack(">HIH", 1, MB, len(caps)) +
                 b"".join(text(c) for c in caps))

def meta(role, name, d):
    out = []
    step = MB - 64 - len(name)
    for off in range(0, len(d), step):
        out.append(frame(0x101, struct.pack(">B", role) + text(name) +
                         struct.pack(">BQQ", 0, len(d), off) +
                         text(d[off:off + step])))
    return b"".join(out)

def object_data(req, off, chunk_z):
    return frame(0x201, struct.pack(">IQ", req, off) + text(chunk_z))

def serve(s):
    if mode == "stall":
        time.sleep(3600)
        return
    if mode == "slow":
        # One byte a second, for ever: a HELLO, then KEEPALIVEs.
        data = hello([]) + frame(3, b"") * 100000
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            time.sleep(1)
        return
    read_frame(s)		# the client's HELLO
    caps = {"metaz-bomb": ["zmeta"], "pack-bomb": ["pack"],
            "delta-endless": ["delta"]}.get(mode, [])
    s.sendall(hello([c.encode() for c in caps]))
    while True:
        t, p = read_frame(s)
        if t == 4:		# BYE
            return
        if t in (0x100, 0x401):	# GET_META, GET_META_DELTA (answered whole)
            role = p[0]
            nl = struct.unpack(">I", p[1:5])[0]
            name = p[5:5 + nl].decode()
            rest = p[5 + nl:]
            d = doc(role, name)
            if d is None:
                s.sendall(frame(0x101, struct.pack(">B", role) + text(name) +
                                b"\x02"))
                continue
            if t == 0x100 and rest[0] == 1 and \
                    rest[1:33] == hashlib.sha256(d).digest():
                s.sendall(frame(0x101, struct.pack(">B", role) + text(name) +
                                b"\x01"))
                continue
            if mode == "meta-1g" and role == 2:
                s.sendall(frame(0x101, struct.pack(">B", role) + text(name) +
                                struct.pack(">BQQ", 0, 1 << 30, 0) +
                                text(d[:60000])))
                continue
            if mode == "metaz-bomb" and role == 2:
                z = zframe(d[:1000], declared=len(d), rle=64 * MB)
                s.sendall(frame(0x102, struct.pack(">B", role) + text(name) +
                                struct.pack(">QQ", len(d), 0) + text(z)))
                continue
            s.sendall(meta(role, name, d))
            continue
        if t == 0x200:		# GET_OBJECT
            req = struct.unpack(">I", p[:4])[0]
            h = p[4:36]
            off = struct.unpack(">Q", p[36:44])[0]
            b = obj(h)
            if mode == "pack-bomb":
                n = len(b) - off
                z = zframe(b[off:], declared=n, rle=64 * MB)
                s.sendall(frame(0x204, struct.pack(">HIQQI", 1, req, off,
                                len(b), n) + text(z)))
                continue
            if mode == "objdata-bomb":
                s.sendall(object_data(req, off, zframe(b[off:off + 100],
                          declared=min(100, len(b) - off), rle=64 * MB)))
                continue
            for o in range(off, len(b), 65536):
                s.sendall(object_data(req, o, zframe(b[o:o + 65536])))
            if mode == "object-endless":
                o = len(b)
                z = zframe(rle=MB)
                while o < 1 << 40:
                    s.sendall(object_data(req, o, z))
                    o += MB
            s.sendall(frame(0x202, struct.pack(">IQ", req, len(b))))
            continue
        if t == 0x400:		# GET_DELTA: endless
            req = struct.unpack(">I", p[:4])[0]
            o = struct.unpack(">Q", p[68:76])[0]
            z = zframe(rle=MB)
            while o < 1 << 40:
                s.sendall(object_data(req, o, z))
                o += MB
            continue
        if t in (0x300, 0x305):	# PUBLISH: the last piece, raw or not
            total, off = struct.unpack(">QQ", p[:16])
            n = struct.unpack(">I", p[16:20])[0]
            if t == 0x305 or off + n < total:
                continue	# a compressed piece's length is not its own
            if mode == "need-bogus":	# an object the manifest lacks
                s.sendall(frame(0x301, struct.pack(">II", 1, 1) +
                                hashlib.sha256(b"bogus").digest()))
            elif mode == "need-huge":	# 4 billion hashes announced
                s.sendall(frame(0x301, struct.pack(">II", 0xffffffff, 1) +
                                hashlib.sha256(b"bogus").digest()))
            continue
        if t == 3:
            continue
        s.sendall(frame(2, struct.pack(">H", 1) + text("unexpected")))
        return

def conn(s):
    try:
        serve(s)
    except (OSError, EOFError):
        pass
    finally:
        s.close()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = ls.accept()
    threading.Thread(target=conn, args=(c,), daemon=True).start()
