#!/bin/sh
# static.sh: the static transport (SPEC §10 "Static transport"): `satchel
# pull http[s]://HOST/PATH/` from a store directory that a real nginx
# serves as plain files: a new store (each archive byte for byte the
# published file, fsck clean), an update that fetches only the changed
# objects (counted in nginx's access log), a resumed object (a .part of
# half of it continued with a Range request), refusals that leave the
# store as it was (a tampered object, an untrusted catalog key, an
# endless object, a missing object, not a store), https:// with a
# certificate made here (trusted only through SATCHEL_CA_FILE); then
# satcheld's own /store/ (its Cache-Control, 404 outside the store's
# files) and nginx as a caching reverse proxy between satcheld and 20
# mirrors: after the first, satcheld sees no object request.
. "$(dirname "$0")/lib.sh"
need nginx openssl python3 curl head sha256sum cut grep
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# --- nginx ----------------------------------------------------------------------

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_nginx PIDVAR NAME SERVER-BLOCK: nginx in the foreground (one
# process, no daemon), all its files under $TMP/NAME, with SERVER-BLOCK
# (where @PORT@ is its port) as its one server; its access log, one line
# a request, "METHOD URI STATUS range=RANGE", in $TMP/NAME/access.log.
# Sets NPORT. A port taken between free_port and the bind: tried again.
start_nginx()
{
	_nv=$1
	_nd=$TMP/$2
	mkdir -p "$_nd/logs" "$_nd/tmp"
	_try=0
	while [ "$_try" -lt 5 ]; do
		_try=$((_try + 1))
		NPORT=$(free_port)
		_user=
		[ "$(id -u)" = 0 ] && _user="user root root;"
		cat >"$_nd/nginx.conf" <<EOF
daemon off;
master_process off;
$_user
worker_processes 1;
pid $_nd/nginx.pid;
error_log $_nd/logs/error.log info;
events { worker_connections 256; }
http {
	access_log off;
	log_format t '\$request_method \$request_uri \$status range=\$http_range';
	client_body_temp_path $_nd/tmp/body;
	proxy_temp_path $_nd/tmp/proxy;
	fastcgi_temp_path $_nd/tmp/fastcgi;
	uwsgi_temp_path $_nd/tmp/uwsgi;
	scgi_temp_path $_nd/tmp/scgi;
	types { }
	default_type application/octet-stream;
	$(printf '%s\n' "$3" | sed "s/@PORT@/$NPORT/g; s|@DIR@|$_nd|g")
}
EOF
		: >"$_nd/access.log"
		bg_start "$_nv" nginx -p "$_nd" -e "$_nd/logs/error.log" \
		    -c "$_nd/nginx.conf"
		eval "_np=\$$_nv"
		_i=0
		while [ "$_i" -lt 100 ]; do
			curl -s -o /dev/null "http://127.0.0.1:$NPORT/" &&
			    return 0
			kill -0 "$_np" 2>/dev/null || break
			sleep 0.1
			_i=$((_i + 1))
		done
		kill_recorded "$_np"
	done
	diag <"$_nd/logs/error.log"
	bail_out "nginx did not start"
}

# requests NAME ERE: how many lines of nginx NAME's access log match ERE.
requests()
{
	grep -Ec -- "$2" "$TMP/$1/access.log"
}

# --- keys, policies, bundles ----------------------------------------------------

make_keys root catalog catalog2 author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care new-citizen-orientation
expect_success "trust policy: catalog key, author for the example bundles"
make_policy "$TMP/policy2" "$TMP/catalog2.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics family-health-care new-citizen-orientation
expect_success "a second policy: only catalog2's key signs catalogs"

make_repo calligraphy-basics
CB=$REPO
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb1.satchel"
expect_success "build calligraphy-basics v1" "serial 1"
cb_release "$CB" 2 1.1
run_satchel build -C "$CB" --key "$TMP/author.key" --tag -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics v2" "serial 2"
make_repo family-health-care
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/fhc1.satchel"
expect_success "build family-health-care v1"
make_repo new-citizen-orientation
head -c 8388608 /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a big file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/big1.satchel"
expect_success "build new-citizen-orientation with an 8 MiB file" "serial 1"
archive_hashes "$TMP/cb1.satchel" >"$TMP/h.cb1"
archive_hashes "$TMP/cb2.satchel" >"$TMP/h.cb2"
archive_hashes "$TMP/fhc1.satchel" >"$TMP/h.fhc1"

O=$TMP/www/origin
mkdir -p "$TMP/www"
make_origin "$O" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/cb1.satchel" "$TMP/fhc1.satchel"
expect_success "the origin store, with two bundles published"

# nginx serves $TMP/www as plain files: the store directory at /origin/.
start_nginx NG ng "server {
	listen 127.0.0.1:@PORT@;
	access_log @DIR@/access.log t;
	root $TMP/www;
}"
ok 0 "nginx serves the store directory (port $NPORT)"
URL=http://127.0.0.1:$NPORT/origin/

# --- a new store over http:// ------------------------------------------------------

SCHOOL=$TMP/school
N_BOTH=$(count "$TMP/h.cb1" "$TMP/h.fhc1")
run_satchel pull "$URL" --store "$SCHOOL"
also "meta/trust is the origin's policy" cmp -s "$SCHOOL/meta/trust" "$O/meta/trust"
also "meta/catalog is the origin's, byte for byte" \
    cmp -s "$SCHOOL/meta/catalog" "$O/meta/catalog"
also "release files are the origin's" \
    cmp -s "$SCHOOL/meta/releases/calligraphy-basics/1.signed" \
    "$O/meta/releases/calligraphy-basics/1.signed"
also "objects are the origin's" test "$(objects "$SCHOOL")" = "$(objects "$O")"
also "tmp/ empty" dir_empty "$SCHOOL/tmp"
expect_success "pull $URL --store SCHOOL: a new store" \
    "$SCHOOL: new store; 2 releases updated, 0 already current; $N_BOTH files copied" \
    "catalog serial 3"
is "$(requests ng '^GET /origin/objects/[0-9a-f]{2}/[0-9a-f]{62} 200 ')" \
    "$N_BOTH" "nginx's log: one GET for each of the $N_BOTH objects"
is "$(requests ng '^GET /origin/(STORE|meta/trust|meta/catalog) 200 ')" 3 \
    "nginx's log: STORE, meta/trust and meta/catalog asked for"

run_satchel archive --store "$SCHOOL" -o "$TMP/s-cb.satchel" calligraphy-basics
expect_success "archive calligraphy-basics from the school"
same_bytes "$TMP/s-cb.satchel" "$TMP/cb1.satchel" \
    "calligraphy-basics from the school equals the published file"
run_satchel fsck "$SCHOOL"
expect_success "fsck SCHOOL: clean" "$SCHOOL: clean"

run_satchel pull "$URL" --store "$SCHOOL"
expect_success "pull again: already current, nothing copied" \
    "0 releases updated, 2 already current; 0 files copied"

# --- an update: only the changed objects ---------------------------------------------

run_satchel publish --store "$O" "$TMP/cb2.satchel"
expect_success "publish calligraphy-basics v2 to the origin" "catalog serial 4"
NEW2=$(LC_ALL=C comm -13 "$TMP/h.cb1" "$TMP/h.cb2" | wc -l | tr -d ' ')
: >"$TMP/ng/access.log"
run_satchel pull "$URL" --store "$SCHOOL"
also "the school's catalog is the origin's" \
    cmp -s "$SCHOOL/meta/catalog" "$O/meta/catalog"
expect_success "pull after v2: only the $NEW2 changed files copied" \
    "$SCHOOL: 1 release updated, 1 already current; $NEW2 files copied" \
    "catalog serial 4"
is "$(requests ng '^GET /origin/objects/')" "$NEW2" \
    "nginx's log: $NEW2 object requests for the update"
is "$(requests ng '^GET /origin/meta/releases/calligraphy-basics/2.signed 200')" 1 \
    "nginx's log: the new release's signed manifest"
run_satchel archive --store "$SCHOOL" -o "$TMP/s-cb2.satchel" calligraphy-basics
expect_success "archive calligraphy-basics v2 from the school"
same_bytes "$TMP/s-cb2.satchel" "$TMP/cb2.satchel" \
    "calligraphy-basics v2 from the school equals the published file"

# --- resume: a .part of half an object, continued with a Range request ---------------

run_satchel publish --store "$O" "$TMP/big1.satchel"
expect_success "publish new-citizen-orientation to the origin" "catalog serial 5"
R=$TMP/school-r
run_satchel store init --trust "$TMP/policy" "$R"
BIGSUM=$(sha256sum "$TMP/new-citizen-orientation/big.bin" | cut -d ' ' -f 1)
mkdir -p "$R/tmp/pull-5"
head -c 4194304 "$TMP/new-citizen-orientation/big.bin" >"$R/tmp/pull-5/$BIGSUM.part"
: >"$TMP/ng/access.log"
run_satchel pull "$URL" --store "$R" new-citizen-orientation
also "tmp/ empty" dir_empty "$R/tmp"
expect_success "a .part with 4 of 8 MiB: only the rest fetched" \
    '/1 release updated, 0 already current; [0-9]+ files copied \(4\.[0-2] MiB\)/'
is "$(requests ng "^GET /origin/objects/$(echo "$BIGSUM" | cut -c1-2)/$(echo "$BIGSUM" | cut -c3-) 206 range=bytes=4194304-\$")" 1 \
    "nginx's log: the big object asked for from 4 MiB on, answered 206"
run_satchel archive --store "$R" -o "$TMP/r-big.satchel" new-citizen-orientation
expect_success "archive new-citizen-orientation after the resumed pull"
same_bytes "$TMP/r-big.satchel" "$TMP/big1.satchel" \
    "the resumed bundle equals the published file"

# A server without Range support (Python's http.server, HTTP/1.0: a new
# connection for every request) answers 200 with the whole object: the
# bytes the .part holds are skipped, the rest written.
PYPORT=$(free_port)
bg_start PY python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$PYPORT"
wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$PYPORT/"
ok $? "python3 -m http.server serves the store directory too (port $PYPORT)"
R3=$TMP/school-r3
run_satchel store init --trust "$TMP/policy" "$R3"
mkdir -p "$R3/tmp/pull-5"
head -c 4194304 "$TMP/new-citizen-orientation/big.bin" >"$R3/tmp/pull-5/$BIGSUM.part"
run_satchel pull "http://127.0.0.1:$PYPORT/origin/" --store "$R3" new-citizen-orientation
also "tmp/ empty" dir_empty "$R3/tmp"
expect_success "a 200 to the Range request: the .part's 4 MiB skipped, the rest kept" \
    '/1 release updated, 0 already current; [0-9]+ files copied \(4\.[0-2] MiB\)/'
run_satchel archive --store "$R3" -o "$TMP/r3-big.satchel" new-citizen-orientation
expect_success "archive new-citizen-orientation after the pull from http.server"
same_bytes "$TMP/r3-big.satchel" "$TMP/big1.satchel" \
    "the bundle pulled from http.server equals the published file"
kill_recorded "$PY"

R2=$TMP/school-r2
run_satchel store init --trust "$TMP/policy" "$R2"
snapshot "$R2"
mkdir -p "$R2/tmp/pull-5"
head -c 4194304 /dev/urandom >"$R2/tmp/pull-5/$BIGSUM.part"
run_satchel pull "$URL" --store "$R2" new-citizen-orientation
unchanged "$R2"
expect_fail "a .part that is not the object's prefix: refused, removed" \
    "new-citizen-orientation@1" "big.bin" "damaged"

# --- refusals, each leaving the store as it was ---------------------------------------

# bad_copy NAME: a copy of the origin at /NAME/, its objects writable.
bad_copy()
{
	rm -rf "$TMP/www/$1"
	cp -a "$O" "$TMP/www/$1"
	chmod -R u+w "$TMP/www/$1/objects"
}
CBFILE=$(sed -n 1p "$TMP/h.cb2")
CBOBJ=objects/$(echo "$CBFILE" | cut -c1-2)/$(echo "$CBFILE" | cut -c3-)

fresh()
{
	rm -rf "$TMP/fresh"
	run_satchel store init --trust "${1:-$TMP/policy}" "$TMP/fresh"
	snapshot "$TMP/fresh"
}

bad_copy tampered
flip_byte "$TMP/www/tampered/$CBOBJ" 0
fresh
run_satchel pull "http://127.0.0.1:$NPORT/tampered/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "a tampered object on the server: refused, store unchanged" \
    "calligraphy-basics@2" "damaged"

bad_copy endless
head -c 100000 /dev/urandom >>"$TMP/www/endless/$CBOBJ"
fresh
run_satchel pull "http://127.0.0.1:$NPORT/endless/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "an object larger than its manifest says: refused, store unchanged" \
    "calligraphy-basics@2" "larger than"

# A server that never ends an object: its bytes, then more, without a
# Content-Length, for as long as the client reads.
cat >"$TMP/endless.py" <<'PYEOF'
import http.server, os, sys
root = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        path = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        self.send_response(200)
        if "/objects/" not in self.path:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
            while "/objects/" in self.path:
                self.wfile.write(b"x" * 65536)
        except OSError:
            pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PYEOF
EPORT=$(free_port)
bg_start EP python3 "$TMP/endless.py" "$EPORT" "$O"
wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$EPORT/STORE"
ok $? "a server of endless objects (port $EPORT)"
fresh
run_satchel pull "http://127.0.0.1:$EPORT/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "an object that never ends (no Content-Length): refused, store unchanged" \
    "larger than"
kill_recorded "$EP"

bad_copy missing
rm -f "$TMP/www/missing/$CBOBJ"
fresh
run_satchel pull "http://127.0.0.1:$NPORT/missing/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "an object the server lacks (404): refused, store unchanged" \
    "calligraphy-basics@2" "not found (HTTP 404)"

# The source carries the school's own policy (another one of the same
# serial would be refused as a fork first), but its catalog is signed by
# the origin's catalog key, which that policy does not list.
bad_copy untrusted
cp "$TMP/policy2" "$TMP/www/untrusted/meta/trust"
fresh "$TMP/policy2"
run_satchel pull "http://127.0.0.1:$NPORT/untrusted/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "a catalog key the store does not trust: refused, store unchanged" \
    "untrusted" "not signed by a catalog key"

fresh
run_satchel pull "http://127.0.0.1:$NPORT/nothing/" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "a URL that is no store: refused naming STORE" \
    "not a Satchel store" "STORE"

# --- https:// with a certificate made here ---------------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/tls.key" \
    -out "$TMP/tls.crt" -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
ok $? "openssl: a self-signed certificate for 127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" \
    -out "$TMP/other.crt" -days 2 -subj /CN=satchel.invalid \
    -addext subjectAltName=DNS:satchel.invalid >/dev/null 2>&1
ok $? "openssl: a self-signed certificate for another name"
start_nginx NGS ngs "server {
	listen 127.0.0.1:@PORT@ ssl;
	ssl_certificate $TMP/tls.crt;
	ssl_certificate_key $TMP/tls.key;
	access_log @DIR@/access.log t;
	root $TMP/www;
}"
ok 0 "nginx serves the store directory over TLS (port $NPORT)"
SURL=https://127.0.0.1:$NPORT/origin/

fresh
run_satchel pull "$SURL" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "https:// with a certificate no CA of the system signed: refused" \
    "$SURL" "certificate verify failed"

SATCHEL_CA_FILE=$TMP/other.crt
export SATCHEL_CA_FILE
run_satchel pull "$SURL" --store "$TMP/fresh"
unchanged "$TMP/fresh"
expect_fail "https:// with SATCHEL_CA_FILE another CA (not its signer): refused" \
    "$SURL" "certificate verify failed"

SATCHEL_CA_FILE=$TMP/tls.crt
run_satchel pull "$SURL" --store "$TMP/fresh"
expect_success "https:// with SATCHEL_CA_FILE naming its certificate: pulled" \
    "$TMP/fresh: 3 releases updated" "catalog serial 5"
run_satchel archive --store "$TMP/fresh" -o "$TMP/tls-cb.satchel" calligraphy-basics
expect_success "archive calligraphy-basics pulled over https://"
same_bytes "$TMP/tls-cb.satchel" "$TMP/cb2.satchel" \
    "calligraphy-basics pulled over https:// equals the published file"
run_satchel fsck "$TMP/fresh"
expect_success "fsck: clean" "clean"
unset SATCHEL_CA_FILE
kill_recorded "$NGS"

# --- satcheld's /store/ ---------------------------------------------------------------------

start_satcheld D "satcheld serves the origin over sync and http" \
    --store "$O" --http-listen 127.0.0.1:0
HPORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$_pf")
like "$HPORT" '/^[0-9]+$/' "the port file names the http port"
H=http://127.0.0.1:$HPORT

# cache_control PATH: the Cache-Control of satcheld's answer to GET PATH.
cache_control()
{
	curl -s -o /dev/null -D - "$H$1" | tr -d '\r' |
	    sed -n 's/^[Cc]ache-[Cc]ontrol: //p'
}
# status PATH: the HTTP status of satcheld's answer to GET PATH.
status()
{
	curl -s --path-as-is -o /dev/null -w '%{http_code}' "$H$1"
}
is "$(cache_control /store/$CBOBJ)" "public, max-age=31536000, immutable" \
    "/store/objects/...: immutable"
is "$(cache_control /store/meta/releases/calligraphy-basics/2.signed)" \
    "public, max-age=31536000, immutable" "/store/meta/releases/...: immutable"
is "$(cache_control /store/meta/catalog)" "public, max-age=60" \
    "/store/meta/catalog: max-age=60"
is "$(cache_control /store/meta/trust)" "public, max-age=60" \
    "/store/meta/trust: max-age=60"
is "$(cache_control /store/STORE)" "public, max-age=60" "/store/STORE: max-age=60"
curl -s -o "$TMP/got.obj" "$H/store/$CBOBJ"
also "the bytes are the object's" cmp -s "$TMP/got.obj" "$O/$CBOBJ"
is "$(status /store/$CBOBJ)" 200 "/store/objects/...: 200"
for p in /store/lock /store/tmp/ /store/meta/ /store/meta/releases/ \
    /store/objects/ /store/objects/$(echo "$CBFILE" | cut -c1-2) \
    /store/objects/$(echo "$CBFILE" | cut -c1-2)/ \
    "/store/$CBOBJ.part" /store/meta/releases/calligraphy-basics/9.signed \
    /store/meta/releases/calligraphy-basics/02.signed \
    /store/meta/releases/calligraphy-basics/2 /store/meta/releases/nobody/1.signed \
    /store/cache/ /store/meta/catalog.tmp /store/ /store; do
	is "$(status "$p")" 404 "GET $p: 404"
done
is "$(status /store/meta/../STORE)" 400 "GET /store/meta/../STORE: 400 (the path decoder)"
is "$(status /store/meta%2Fcatalog)" 400 "GET /store/meta%2Fcatalog: 400 (an encoded slash)"

# store_objects: how many object requests satcheld answered 2xx.
store_objects()
{
	curl -s "$H/metrics" | sed -n \
	    's/^satchel_http_requests_total{route="store_object",status="2xx"} //p' |
	    grep . || echo 0
}
C=$(store_objects)
fresh
run_satchel pull "$H/store/" --store "$TMP/fresh"
expect_success "pull $H/store/: from satcheld's /store/" \
    "$TMP/fresh: 3 releases updated" "catalog serial 5"
run_satchel archive --store "$TMP/fresh" -o "$TMP/d-cb.satchel" calligraphy-basics
expect_success "archive calligraphy-basics pulled from /store/"
same_bytes "$TMP/d-cb.satchel" "$TMP/cb2.satchel" \
    "calligraphy-basics pulled from /store/ equals the published file"
run_satchel fsck "$TMP/fresh"
expect_success "fsck: clean" "clean"

NOBJ=$(objects "$TMP/fresh" | wc -l | tr -d ' ')
is "$(store_objects)" "$((C + NOBJ))" \
    "/metrics: $NOBJ store_object requests for the pull's $NOBJ objects"

# --- the cache tier: nginx as a caching reverse proxy, 20 mirrors ------------------------

start_nginx NGC ngc "proxy_cache_path @DIR@/cache levels=1:2 keys_zone=satchel:10m
    inactive=1h use_temp_path=off;
server {
	listen 127.0.0.1:@PORT@;
	access_log @DIR@/access.log t;
	location / {
		proxy_pass $H;
		proxy_http_version 1.1;
		proxy_set_header Connection \"\";
		proxy_cache satchel;
	}
}"
ok 0 "nginx caches satcheld's http listener (port $NPORT)"
C0=$(store_objects)
i=1
while [ "$i" -le 20 ]; do
	run_satchel pull "http://127.0.0.1:$NPORT/store/" --store "$TMP/mirror$i"
	expect_success "mirror $i pulls through the cache" \
	    "$TMP/mirror$i: new store; 3 releases updated" "catalog serial 5"
	if [ "$i" = 1 ]; then
		is "$(store_objects)" "$((C0 + NOBJ))" \
		    "the first mirror: satcheld served its $NOBJ objects"
		C1=$(store_objects)
	fi
	run_satchel fsck "$TMP/mirror$i"
	expect_success "mirror $i: fsck clean" "clean"
	i=$((i + 1))
done
is "$(store_objects)" "$C1" \
    "after the first mirror satcheld saw no object request (/metrics)"
is "$(requests ngc '^GET /store/objects/')" "$((20 * NOBJ))" \
    "nginx answered all $((20 * NOBJ)) object requests of the 20 mirrors"

# satcheld in mirror mode behind the same cache: --upstream http://.../store/.
OLOG=$DLOG
C20=$(store_objects)
start_satcheld DM "a satcheld mirror with --upstream through the cache" \
    --store "$TMP/dmirror" --trust "$TMP/policy" \
    --upstream "http://127.0.0.1:$NPORT/store/" --interval 3600
MLOG=$DLOG
wait_until 60 log_has "$MLOG" "mirror: pulled from http://127.0.0.1:$NPORT/store/ .*catalog serial 5"
ok $? "the mirror pulled through the cache (its log says so)"
also "the origin saw no object request" test "$(store_objects)" = "$C20"
run_satchel fsck "$TMP/dmirror"
expect_success "the satcheld mirror's store: fsck clean" "clean"
kill_recorded "$DM" "$NGC" "$D"
sanitizer_free "$OLOG" "$MLOG"
ok $? "satcheld origin and mirror: no sanitizer report"

done_testing
