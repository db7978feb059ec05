#!/bin/sh
# daemon-conf.sh: satcheld's configuration: -c FILE with every option, the
# command line over the file, errors that name FILE:LINE and the key, the
# exit statuses (1: a bad file, a missing store, a port taken; 2: a usage
# error on the command line), SIGHUP (new bundles and idle timeout take
# effect while a client keeps its connection and still gets answers;
# restart-only options are logged as such; a file that no longer parses
# is logged and the old configuration stays), and SIGTERM (exit 0 within
# the grace period). A python3 client (standard library only) holds the
# connection.
. "$(dirname "$0")/lib.sh"
need date sleep python3 pgrep
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

cat >"$TMP/client.py" <<'PYEOF'
# client.py PORT MODE [GOFILE]: one sync connection.
#   idle: handshake, then wait; prints what ends it ("ERROR 7 ..." / "EOF")
#   hold: handshake, GET_META catalog, prints "META status N", "READY",
#         waits for GOFILE, then asks again on the same connection.
import os, socket, struct, sys, time

HELLO, ERROR, GET_META, META = 0x0001, 0x0002, 0x0100, 0x0101

def frame(t, p=b""):
    return struct.pack(">IH", len(p), t) + p

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
    def exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def read(self):
        h = self.exact(6)
        if h is None:
            return None
        n, t = struct.unpack(">IH", h)
        return t, self.exact(n)

def describe(f):
    if f is None:
        return "EOF"
    t, p = f
    if t == ERROR:
        (code,) = struct.unpack(">H", p[:2])
        (n,) = struct.unpack(">I", p[2:6])
        return "ERROR %d %s" % (code, p[6:6 + n].decode())
    if t == META:
        (n,) = struct.unpack(">I", p[1:5])
        return "META status %d" % p[5 + n]
    return "TYPE 0x%04x" % t

port, mode = int(sys.argv[1]), sys.argv[2]
c = Conn(port)
c.s.sendall(frame(HELLO, b"SATCHEL\0" + struct.pack(">HIH", 1, 1 << 20, 0)))
f = c.read()
if f is None or f[0] != HELLO:
    print("FAIL no HELLO: " + describe(f))
    sys.exit(1)
get_catalog = frame(GET_META, b"\x02" + struct.pack(">I", 0) + b"\0")
if mode == "idle":
    t0 = time.time()
    print(describe(c.read()))
    print("closed after %d s" % round(time.time() - t0))
elif mode == "hold":
    c.s.sendall(get_catalog)
    print(describe(c.read()))
    print("READY", flush=True)
    for _ in range(300):
        if os.path.exists(sys.argv[3]):
            break
        time.sleep(0.1)
    else:
        print("FAIL no go file")
        sys.exit(1)
    c.s.sendall(get_catalog)
    print("after: " + describe(c.read()))
sys.stdout.flush()
PYEOF

# --- an origin store to mirror ---------------------------------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care
expect_success "trust policy"
make_repo calligraphy-basics
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care"
O=$TMP/origin
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel"
expect_success "an origin store with two bundles"

# --- -c with every option ---------------------------------------------------------------

M=$TMP/mirror
CONF=$TMP/satcheld.conf
cat >"$CONF" <<EOF
# satcheld at a school: every option
[satcheld]
store = $M
sync-listen = 127.0.0.1:0
port-file = $TMP/port.M
idle-timeout = 30
max-connections = 5
min-rate = 2048/30
; mirror mode
upstream = $O
trust = $TMP/policy
interval = 60
retry = 1
bundles = family-*
EOF
bg_start DM "$SATCHELD" -c "$CONF"
LOG=$BG_ERR
if wait_port "$TMP/port.M"; then
	ok 0 "-c FILE: listening where the file says, port file written (sync $PORT)"
else
	ok 1 "-c FILE: listening where the file says"
	diag <"$LOG"
	bail_out "satcheld did not start"
fi
MPORT=$PORT
MPID=$(daemon_pid "$DM")
[ -n "$MPID" ] || bail_out "cannot find satcheld's process"
also "pulled within 20 s" wait_until 20 test -f "$M/meta/releases/family-health-care/1.signed"
also "the store was made from the file's trust policy" cmp -s "$M/meta/trust" "$TMP/policy"
also "only the file's bundles" test ! -e "$M/meta/releases/calligraphy-basics"
also "the log shows upstream, interval, retry and bundles" \
    log_has "$LOG" "mirror: from $O every 60 s \\(retry from 1 s\\), bundles matching family-\\*"
ok 0 "-c FILE: the mirror runs with the file's upstream, trust, interval, retry, bundles"

# --- SIGHUP: a connection held across the reload ----------------------------------------

bg_start CPID python3 "$TMP/client.py" "$MPORT" hold "$TMP/go"
COUT=$BG_OUT
also "the client is connected" wait_until 10 grep -q READY "$COUT"
sed -e "s|^bundles = .*|bundles = family-* calligraphy-*|" \
    -e "s|^idle-timeout = .*|idle-timeout = 2|" \
    -e "s|^store = .*|store = $TMP/elsewhere|" \
    -e "s|^sync-listen = .*|sync-listen = 127.0.0.1:1|" "$CONF" >"$CONF.new"
mv "$CONF.new" "$CONF"
kill -HUP "$MPID"
also "the new bundles are pulled within 20 s" \
    wait_until 20 test -f "$M/meta/releases/calligraphy-basics/1.signed"
: >"$TMP/go"
bg_wait "$CPID"
also "the client exited 0" test "$BG_RC" = 0
also "its first answer" grep -q "^META status 0$" "$COUT"
also "its answer after the reload, on the same connection" \
    grep -q "^after: META status 0$" "$COUT"
ok 0 "SIGHUP: the open connection survives and is still answered; new bundles pulled at once"
like "$(cat "$LOG")" "/reload: store changed from $(printf '%s' "$M" | sed 's|/|\\/|g') to .*elsewhere: needs a restart/" \
    "SIGHUP: a new store is logged as needing a restart"
like "$(cat "$LOG")" "/reload: sync-listen changed from 127.0.0.1:0 to 127.0.0.1:1: needs a restart/" \
    "SIGHUP: a new listen address is logged as needing a restart"
like "$(cat "$LOG")" "/reload: idle-timeout 2 s, max-connections 5, min-rate 2048\/30/" \
    "SIGHUP: the new idle timeout is logged"
like "$(cat "$LOG")" "/reload: store .*mirror: trust policy serial [0-9]+ \\(1 publisher\\), catalog serial 3/" \
    "SIGHUP: the store's trust policy and catalog are re-read"
run python3 "$TMP/client.py" "$MPORT" idle
expect_success "after the reload an idle connection is closed after 2 s" \
    "ERROR 7 idle for 2 s" "/closed after [23] s/"

# A file that no longer parses: logged with FILE:LINE, the old one stays.
sed "s|^interval = .*|interval = soon|" "$CONF" >"$CONF.new"
mv "$CONF.new" "$CONF"
BADLINE=$(grep -n '^interval = soon$' "$CONF" | cut -d : -f 1)
kill -HUP "$MPID"
also "logged within 10 s" wait_until 10 log_has "$LOG" "configuration in force stays"
also "with FILE:LINE: KEY" log_has "$LOG" "reload: $CONF:$BADLINE: interval: \"soon\" is not a number"
run python3 "$TMP/client.py" "$MPORT" idle
expect_success "SIGHUP with a broken file: logged with file:line, the old configuration (idle 2 s) stays" \
    "ERROR 7 idle for 2 s"

# --- SIGTERM ----------------------------------------------------------------------------

T0=$(date +%s)
kill -TERM "$MPID"
bg_wait "$DM"
T1=$(date +%s)
also "exit status 0 (got $BG_RC)" test "$BG_RC" = 0
also "within the grace period ($((T1 - T0)) s)" test $((T1 - T0)) -le 6
also "the log says stopped" log_has "$LOG" "satcheld: stopped$"
also "no sanitizer report" sanitizer_free "$LOG"
ok 0 "SIGTERM: exit 0 within the grace period, no leaks"

# --- the command line over the file -----------------------------------------------------

cat >"$TMP/o.conf" <<EOF
store = $O
sync-listen = 127.0.0.1:0
port-file = $TMP/port.file
idle-timeout = 30
EOF
bg_start DO "$SATCHELD" -c "$TMP/o.conf" --port-file "$TMP/port.cli" --idle-timeout 2
OLOG=$BG_ERR
wait_port "$TMP/port.cli"
also "the command line's port file is written" test -s "$TMP/port.cli"
also "not the file's" test ! -e "$TMP/port.file"
run python3 "$TMP/client.py" "$PORT" idle
expect_success "the command line overrides the file (--port-file, --idle-timeout 2)" \
    "ERROR 7 idle for 2 s"

# The file names a port that is taken.
cat >"$TMP/taken.conf" <<EOF
store = $O
sync-listen = 127.0.0.1:$PORT
EOF
run_satcheld -c "$TMP/taken.conf"
expect_fail "a port taken (from the file): exit 1 naming the address" "127.0.0.1:$PORT"
# An origin told by SIGHUP to mirror: refused, it goes on serving.
printf 'upstream = %s\n' "$M" >>"$TMP/o.conf"
_before=$(find "$O" -type f | LC_ALL=C sort | xargs sha256sum)
kill -HUP "$(daemon_pid "$DO")"
also "logged within 10 s" wait_until 10 log_has "$OLOG" "reload: $O is an origin .*: it cannot mirror $M; upstream ignored"
sleep 1
also "the origin's files are unchanged" test "$(find "$O" -type f | LC_ALL=C sort | xargs sha256sum)" = "$_before"
run python3 "$TMP/client.py" "$PORT" idle
expect_success "SIGHUP cannot make an origin a mirror; it still serves" "ERROR 7 idle for 2 s"
kill_recorded "$DO"
also "no sanitizer report" sanitizer_free "$OLOG"
ok 0 "that daemon stopped cleanly"

# --- errors -----------------------------------------------------------------------------

printf '# a comment\n[satcheld]\nstore = %s\n\nidle-timeout = 0\n' "$O" >"$TMP/bad1.conf"
run_satcheld -c "$TMP/bad1.conf"
expect_fail "a bad value in the file: exit 1, FILE:LINE: KEY" \
    "$TMP/bad1.conf:5: idle-timeout: \"0\" is not a number in 1..86400"
printf 'store = %s\ncolour = blue\n' "$O" >"$TMP/bad2.conf"
run_satcheld -c "$TMP/bad2.conf"
expect_fail "an unknown key in the file: exit 1, FILE:LINE: KEY" \
    "$TMP/bad2.conf:2: colour: unknown key"
printf 'store %s\n' "$O" >"$TMP/bad3.conf"
run_satcheld -c "$TMP/bad3.conf"
expect_fail "a line without '=': exit 1, FILE:LINE" \
    "$TMP/bad3.conf:1: expected KEY = VALUE"
printf 'store = %s\n[http]\n' "$O" >"$TMP/bad4.conf"
run_satcheld -c "$TMP/bad4.conf"
expect_fail "an unknown section: exit 1, FILE:LINE" \
    "$TMP/bad4.conf:2: \"[http]\": the only section is [satcheld]"
printf 'store = %s\nupstream = satchel://nohost\n' "$O" >"$TMP/bad5.conf"
run_satcheld -c "$TMP/bad5.conf"
expect_fail "a bad upstream URL in the file: exit 1" \
    "$TMP/bad5.conf:2: upstream: \"satchel://nohost\": expected satchel://HOST:PORT"
printf 'store = %s\nstore = %s\n' "$O" "$O" >"$TMP/bad6.conf"
run_satcheld -c "$TMP/bad6.conf"
expect_fail "a key set twice: exit 1" "$TMP/bad6.conf:2: store: set twice"
run_satcheld -c "$TMP/no-such.conf"
expect_fail "a missing config file: exit 1 naming it" "$TMP/no-such.conf"
run_satcheld --store "$TMP/no-such-store" --sync-listen 127.0.0.1:0
expect_fail "a missing store: exit 1 naming it" "$TMP/no-such-store"
printf 'sync-listen = 127.0.0.1:0\n' >"$TMP/nostore.conf"
run_satcheld -c "$TMP/nostore.conf"
expect_usage "no store in the file nor on the command line: usage error" "--store"
run_satcheld --store "$O" --idle-timeout 0
expect_usage "a bad value on the command line: usage error naming the option" \
    "--idle-timeout: \"0\" is not a number"
run_satcheld --store "$O" --interval 0
expect_usage "--interval 0: usage error" "--interval"
run_satcheld --store "$O" --upstream satchel://host
expect_usage "--upstream without a port: usage error" "--upstream"
run_satcheld --store "$O" --bundles ''
expect_usage "--bundles with no pattern: usage error" "--bundles: no pattern"
run_satcheld --store "$O" extra
expect_usage "an argument without --bundles: usage error" "unexpected argument \"extra\""
run_satcheld --store "$O" --colour blue
expect_usage "an unknown option: usage error"

run_satcheld --help
_missing=
for o in config store sync-listen port-file idle-timeout max-connections \
    min-rate upstream trust interval retry bundles git-repos git-poll help version; do
	out_has "--$o" || _missing="$_missing --$o"
done
also "every option is in --help (missing:$_missing)" test -z "$_missing"
expect_success "--help names every option, the config file, the signals and the exit statuses" \
    "usage: satcheld" "SIGHUP" "Exit status" "[satcheld]"

done_testing
