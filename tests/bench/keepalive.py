#!/usr/bin/env python3
"""Hold N keep-alive HTTP connections open to a server and report its memory.

  keepalive.py --port PORT --path PATH --conns N --pid PID [--hold S]

Opens N connections to 127.0.0.1:PORT, sends one GET of PATH on each
(HTTP/1.1, keep-alive), reads each whole response (Content-Length
framed), and keeps every socket open. With all N answered and still open
it samples the resident memory of PID and its descendants (nginx's master
and workers; satcheld's threads are one process) for --hold seconds and
prints one JSON object: conns opened, responses that were 200, the
RSS sum now (kB), the peak sampled, and the sum of VmHWM.

Why a client of its own: wrk keeps its connections busy; this measures
what idle learners' phones cost a server that keeps them open.
"""
import argparse
import json
import os
import resource
import selectors
import socket
import sys
import time


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def mem_kb(pid, key):
    tot = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        tot += int(line.split()[1])
        except OSError:
            pass
    return tot


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.need = None        # body bytes still to come
        self.status = None
        self.done = False


def feed(c, data):
    """Consumes response bytes; True once the whole response is in."""
    if c.need is None:
        c.buf += data
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = c.buf[:end].decode("latin-1").split("\r\n")
        c.status = int(head[0].split()[1])
        length = 0
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        c.need = length - (len(c.buf) - end - 4)
        c.buf = b""
    else:
        c.need -= len(data)
    return c.need <= 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.conns + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    before = mem_kb(a.pid, "VmRSS")
    sel = selectors.DefaultSelector()
    conns = []
    req = (f"GET {a.path} HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
           "Connection: keep-alive\r\nUser-Agent: keepalive.py\r\n\r\n").encode()
    for _ in range(a.conns):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
        s.sendall(req)
        s.setblocking(False)
        c = Conn(s)
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    pending = len(conns)
    closed = 0
    deadline = time.monotonic() + a.timeout
    while pending > 0 and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            try:
                data = c.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:            # the server closed it
                sel.unregister(c.sock)
                c.done = True
                closed += 1
                pending -= 1
                continue
            if feed(c, data):
                sel.unregister(c.sock)
                c.done = True
                pending -= 1
    ok = sum(1 for c in conns if c.status == 200 and c.need is not None
             and c.need <= 0)
    # Every connection answered and open: what do they cost the server?
    peak = now = mem_kb(a.pid, "VmRSS")
    t_end = time.monotonic() + a.hold
    while time.monotonic() < t_end:
        time.sleep(0.2)
        now = mem_kb(a.pid, "VmRSS")
        peak = max(peak, now)
    # Were they all still open? A closed socket reads EOF at once.
    still = 0
    for c in conns:
        try:
            d = c.sock.recv(1)
            if d:
                still += 1
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    rec = {"conns": a.conns, "ok": ok, "closed_early": closed,
           "open_after_hold": still, "rss_before_kb": before,
           "rss_kb": now, "rss_peak_kb": peak,
           "hwm_kb": mem_kb(a.pid, "VmHWM")}
    for c in conns:
        c.sock.close()
    json.dump(rec, sys.stdout)
    print()
    return 0 if ok == a.conns else 1


if __name__ == "__main__":
    sys.exit(main())
