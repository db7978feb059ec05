#!/bin/sh
# http.sh: satcheld's web library (--http-listen) with curl against a real
# daemon on 127.0.0.1: every route; status codes and headers; files byte
# for byte from the store with ETag, 304, Range, If-Range, 416 and HEAD;
# each path traversal attempt; the lesson zip (`unzip -t`, contents equal
# to the bundle's files, cached: the same bytes twice) and the whole
# bundle (`satchel verify`); the JSON API; /metrics and /healthz;
# keep-alive and the idle timeout; a release page open during an update
# keeps being served; usage counts reach stats/ and `satchel report`.
. "$(dirname "$0")/lib.sh"
need curl python3 unzip pgrep
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

# get NAME PATH [CURL-ARGS...]: GET (or what the args say) of PATH; the
# body in NAME.body, the headers in NAME.hdr (CRs removed), the status in
# CODE.
get()
{
	_gn=$1
	_gp=$2
	shift 2
	rm -f "$TMP/$_gn.body"
	CODE=$(curl -s --path-as-is --max-time 20 -o "$TMP/$_gn.body" \
	    -D "$TMP/$_gn.raw" -w '%{http_code}' "$@" "$U$_gp")
	touch "$TMP/$_gn.body"	# curl makes none for an empty body
	tr -d '\r' <"$TMP/$_gn.raw" >"$TMP/$_gn.hdr"
}

# header NAME FIELD: the value of FIELD in NAME.hdr (the last response).
header()
{
	awk -v f="$2" 'BEGIN { f = tolower(f) }
	    /^HTTP\// { v = "" }
	    { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == f)
	      v = substr($0, i + 2) }
	    END { print v }' "$TMP/$1.hdr"
}

body()
{
	cat "$TMP/$1.body"
}

# json NAME EXPR: a Python expression over the parsed JSON body j.
json()
{
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$TMP/$1.body" "$2" 2>&1
}

sha()
{
	sha256sum "$1" | cut -d' ' -f1
}

# --- a store with the three example bundles ---------------------------------

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" '*'
expect_success "a policy: the author may publish every bundle"
for b in calligraphy-basics family-health-care new-citizen-orientation; do
	make_repo "$b"
	run_satchel build -C "$REPO" --key "$TMP/author.key" --tag \
	    -o "$TMP/$b.satchel"
	expect_success "build $b"
done
CB=$TMP/calligraphy-basics
FHC=$TMP/family-health-care
make_origin "$TMP/store" "$TMP/policy" "$TMP/catalog.key" \
    "$TMP/calligraphy-basics.satchel" "$TMP/family-health-care.satchel" \
    "$TMP/new-citizen-orientation.satchel"
expect_success "an origin holding the three bundles"

start_satcheld D "satcheld serves the store over sync and http" \
    --store "$TMP/store" --http-listen 127.0.0.1:0 --http-idle-timeout 2
SPORT=$PORT
HPORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$_pf")
like "$HPORT" '/^[0-9]+$/' "the port file names the http port"
U=http://127.0.0.1:$HPORT
like "$(cat "$DLOG")" "and http 127.0.0.1:$HPORT" \
    "satcheld logs where the web library listens"

# --- the library page ----------------------------------------------------------

get lib /
is "$CODE" 200 "GET / is 200"
like "$(header lib Content-Type)" '/^text\/html; charset=utf-8$/' \
    "the library is HTML in UTF-8"
like "$(body lib)" '<html lang="en">' "no Accept-Language: an English page"
like "$(body lib)" 'Family Health Care at Home' "a card for family-health-care"
like "$(body lib)" 'Calligraphy' "a card for calligraphy-basics"
like "$(body lib)" '<label for="q">' "the search box has a label"
get libzh / -H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.8'
like "$(body libzh)" '<html lang="zh">' "Accept-Language zh-CN: a Chinese page"
like "$(body libzh)" '家庭健康护理' "and the bundles' Chinese titles"
get libhl '/?hl=en' -H 'Accept-Language: zh-CN'
like "$(body libhl)" '<html lang="en">' "?hl=en overrides Accept-Language"
like "$(body libhl)" '<h2><a href="/bundle/family-health-care?hl=en">' \
    "links keep the chosen language"
like "$(body libzh)" '<span lang="en">English</span>' \
    "text in another language than the page's is marked with lang"

get s1 '/?q=%E6%B4%97%E6%89%8B'
is "$CODE" 200 "a search in Chinese (洗手) is 200"
like "$(body s1)" 'family-health-care' "洗手 finds family-health-care"
unlike "$(body s1)" 'href="/bundle/calligraphy-basics' "and not calligraphy-basics"
like "$(body s1)" 'lessons/01-handwashing/index.html' \
    "and links the matching lesson"
get s2 '/?q=HANDS'
like "$(body s2)" 'lessons/01-handwashing/index.html' \
    "an English search ignores case (HANDS finds 'hands')"
get s3 '/?q=zzzqqq'
like "$(body s3)" 'Nothing matches' "a search that finds nothing says so"
get s4 '/?subject=calligraphy'
like "$(body s4)" 'href="/bundle/calligraphy-basics"' "subject filter: calligraphy-basics"
unlike "$(body s4)" 'href="/bundle/family-health-care"' \
    "subject filter: not family-health-care"
get s5 '/?language=zh&audience=older-adults'
like "$(body s5)" 'href="/bundle/calligraphy-basics"' \
    "audience filter: older-adults finds calligraphy-basics"
unlike "$(body s5)" 'href="/bundle/new-citizen-orientation"' \
    "audience filter: not new-citizen-orientation"
get s6 "/?q=$(python3 -c 'print("a" * 300)')"
is "$CODE" 400 "a search longer than 256 bytes is 400"
get s7 '/?q=%FF%FE'
is "$CODE" 400 "a search that is not UTF-8 is 400"

# --- a bundle's page ---------------------------------------------------------------

get bp /bundle/family-health-care
is "$CODE" 200 "GET /bundle/family-health-care is 200"
B=$(body bp)
like "$B" '<ol class="lessons">' "its lessons are an ordered list"
is "$(printf '%s\n' "$B" | grep -o 'href="/b/family-health-care@1/lessons/[^/]*/' |
    sed 's|.*lessons/||; s|/$||' | tr '\n' ' ')" \
    "01-handwashing 02-blood-pressure 03-when-to-see-a-doctor " "in order"
like "$B" 'href="/b/family-health-care@1/lessons/01-handwashing/index.html"' \
    "each links its entry page in this release"
like "$B" 'href="/download/family-health-care@1/01-handwashing.zip"' \
    "each has a lesson download"
like "$B" 'href="/download/family-health-care@1.satchel"' \
    "the whole bundle can be downloaded"
like "$B" '15 min' "lessons show their minutes"
get bp2 /bundle/no-such-bundle
is "$CODE" 404 "an unknown bundle is 404"
like "$(header bp2 Content-Type)" 'text/html' "with an HTML page"

# --- files ------------------------------------------------------------------------

F=lessons/01-handwashing/index.html
get f1 "/b/family-health-care/$F"
is "$CODE" 200 "a lesson's entry page is 200"
is "$(sha "$TMP/f1.body")" "$(sha "$FHC/$F")" "byte for byte the bundle's file"
is "$(header f1 ETag)" "\"$(sha "$FHC/$F")\"" "its ETag is the file's SHA-256"
is "$(header f1 Content-Length)" "$(wc -c <"$FHC/$F" | tr -d ' ')" \
    "Content-Length is its size"
like "$(header f1 Content-Type)" '/^text\/html; charset=utf-8$/' "Content-Type text/html"
is "$(header f1 Cache-Control)" "no-cache" \
    "the current release's URL must be revalidated"
is "$(header f1 Accept-Ranges)" "bytes" "Accept-Ranges: bytes"
ETAG=$(header f1 ETag)
get f2 "/b/family-health-care@1/lessons/01-handwashing/handwash.svg"
is "$CODE" 200 "an image under NAME@SERIAL is 200"
is "$(header f2 Content-Type)" "image/svg+xml" "SVG as image/svg+xml"
like "$(header f2 Cache-Control)" 'immutable' "a release's URL is immutable"
is "$(sha "$TMP/f2.body")" \
    "$(sha "$FHC/lessons/01-handwashing/handwash.svg")" "the image's bytes"
get f3 "/b/calligraphy-basics/lessons/03-eight-strokes/grid.png"
is "$(header f3 Content-Type)" "image/png" "PNG as image/png"
get f4 "/b/family-health-care/lessons/01-handwashing/"
is "$CODE" 200 "a directory serves its index.html"
is "$(sha "$TMP/f4.body")" "$(sha "$FHC/$F")" "the same bytes as index.html"
get f5 "/b/family-health-care/$F" -H "If-None-Match: $ETAG"
is "$CODE" 304 "If-None-Match with the ETag: 304"
is "$(wc -c <"$TMP/f5.body" | tr -d ' ')" 0 "304 has no body"
get f6 "/b/family-health-care/$F" -H 'If-None-Match: "0000"'
is "$CODE" 200 "If-None-Match with another ETag: 200"
get r1 "/b/family-health-care/$F" -H 'Range: bytes=0-9'
is "$CODE" 206 "Range bytes=0-9: 206"
is "$(body r1)" "$(head -c 10 "$FHC/$F")" "the first ten bytes"
SIZE=$(wc -c <"$FHC/$F" | tr -d ' ')
is "$(header r1 Content-Range)" "bytes 0-9/$SIZE" "Content-Range bytes 0-9/SIZE"
is "$(header r1 Content-Length)" 10 "Content-Length 10"
get r2 "/b/family-health-care/$F" -H 'Range: bytes=-16'
is "$(body r2)" "$(tail -c 16 "$FHC/$F")" "Range bytes=-16: the last 16 bytes"
get r3 "/b/family-health-care/$F" -H 'Range: bytes=100-'
is "$(sha "$TMP/r3.body")" "$(tail -c +101 "$FHC/$F" | sha256sum | cut -d' ' -f1)" \
    "Range bytes=100-: from byte 100 to the end"
get r4 "/b/family-health-care/$F" -H "Range: bytes=0-9" -H "If-Range: $ETAG"
is "$CODE" 206 "If-Range with the ETag: the range (206)"
get r5 "/b/family-health-care/$F" -H "Range: bytes=0-9" -H 'If-Range: "old"'
is "$CODE" 200 "If-Range with another ETag: the whole file (200)"
is "$(sha "$TMP/r5.body")" "$(sha "$FHC/$F")" "all of it"
get r6 "/b/family-health-care/$F" -H "Range: bytes=$SIZE-"
is "$CODE" 416 "a range past the end: 416"
is "$(header r6 Content-Range)" "bytes */$SIZE" "Content-Range bytes */SIZE"
get r7 "/b/family-health-care/$F" -H "Range: bytes=0-1,5-6"
is "$CODE" 200 "several ranges: the whole file (200)"
get h1 "/b/family-health-care/$F" -I
is "$CODE" 200 "HEAD: 200"
is "$(header h1 Content-Length)" "$SIZE" "HEAD: Content-Length of the file"
# What follows the headers, read off the socket (curl would not look).
python3 - "$HPORT" "/b/family-health-care/$F" >"$TMP/head.out" 2>&1 <<'EOF2'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD " + sys.argv[2].encode() + b" HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    d += c
print(len(d) - (d.index(b"\r\n\r\n") + 4))
EOF2
is "$(cat "$TMP/head.out")" 0 "HEAD: nothing after the headers"
get n1 "/b/family-health-care/lessons/no-such-file.html"
is "$CODE" 404 "a path the release does not hold: 404"
get n2 "/b/family-health-care@7/$F"
is "$CODE" 404 "a serial the store does not hold: 404"
get n3 "/b/family-health-care@0/$F"
is "$CODE" 404 "serial 0: 404"
get n4 "/b/Not_A_Name/$F"
is "$CODE" 404 "a bad bundle name: 404"

# --- escaping the store ----------------------------------------------------------

for p in "/b/family-health-care/../../meta/catalog" \
    "/b/family-health-care/%2e%2e/%2e%2e/meta/catalog" \
    "/b/family-health-care/lessons%2f01-handwashing%2findex.html" \
    "/b/family-health-care/lessons%5c..%5c..%5cmeta" \
    "/b/family-health-care/a%00b" \
    "/b/family-health-care/%c0%ae%c0%ae/x" \
    "/b/family-health-care/%e0%80%ae" \
    "/b/family-health-care//lessons" \
    "/b/family-health-care/./lessons" \
    "/b/family-health-care/%zz" \
    "/b/family-health-care/%2"; do
	get t "$p"
	like "$CODE" '/^(400|404)$/' "$p: $CODE"
done
get t "/b/family-health-care/%2e%2e/meta/catalog"
is "$CODE" 400 "encoded dot segments are 400, not a lookup"
like "$(body t)" 'an empty, &quot;.&quot; or &quot;..&quot; path segment' \
    "and the page says what was wrong"
get t "/b/family-health-care/meta/catalog"
is "$CODE" 404 "the store's own files are not in any release: 404"
get t "/$(python3 -c 'print("x" * 5000)')"
is "$CODE" 400 "a 5000-byte URL: 400"
get t "/$(python3 -c 'print("x" * 70000)')"
like "$CODE" '/^4[0-9][0-9]$/' "a 70000-byte request line: refused with a 4xx ($CODE)"

# --- methods and bodies --------------------------------------------------------

get m1 / -X POST -d 'a=b'
is "$CODE" 405 "POST: 405"
is "$(header m1 Allow)" "GET, HEAD" "with Allow: GET, HEAD"
get m2 /b/family-health-care/style.css -X PUT -d 'x'
is "$CODE" 405 "PUT: 405"
head -c 100000 /dev/zero >"$TMP/big"
get m3 / -X POST --data-binary @"$TMP/big"
is "$CODE" 413 "a 100 kB request body: 413"

# --- the lesson zip --------------------------------------------------------------

get z1 /download/family-health-care@1/01-handwashing.zip
is "$CODE" 200 "a lesson zip: 200"
is "$(header z1 Content-Type)" "application/zip" "as application/zip"
like "$(header z1 Content-Disposition)" \
    'attachment; filename="family-health-care-1.0-01-handwashing.zip"' \
    "named NAME-LABEL-LESSON.zip"
mv "$TMP/z1.body" "$TMP/lesson.zip"
run unzip -t "$TMP/lesson.zip"
expect_success "unzip -t: the zip is sound" 'No errors detected'
rm -rf "$TMP/unz" && mkdir "$TMP/unz" && (cd "$TMP/unz" && unzip -q "$TMP/lesson.zip")
same=0
for f in "$FHC"/lessons/01-handwashing/* "$FHC/style.css"; do
	rel=${f#"$FHC"/}
	cmp -s "$f" "$TMP/unz/$rel" || { same=1; diag "differs: $rel"; }
done
is "$same" 0 "its lesson files and style.css are the bundle's, byte for byte"
is "$(ls "$TMP/unz/lessons")" "01-handwashing" "and no other lesson's"
get z2 /download/family-health-care@1/01-handwashing.zip
is "$(sha "$TMP/z2.body")" "$(sha "$TMP/lesson.zip")" \
    "asked again: the same bytes (cached)"
is "$(header z2 ETag)" "$(header z1 ETag)" "with the same ETag"
get z3 /download/family-health-care@1/01-handwashing.zip -H 'Range: bytes=100-'
is "$CODE" 206 "a lesson zip download resumes (Range: 206)"
get z4 /download/family-health-care@1/99-nothing.zip
is "$CODE" 404 "an unknown lesson's zip: 404"
get z5 /download/family-health-care/02-blood-pressure.zip
is "$CODE" 200 "the current release's lesson zip (no @SERIAL): 200"

# --- the whole bundle ------------------------------------------------------------

get a1 /download/calligraphy-basics.satchel
is "$CODE" 200 "the whole bundle: 200"
like "$(header a1 Content-Disposition)" 'filename="calligraphy-basics-1.0.satchel"' \
    "named NAME-LABEL.satchel"
mv "$TMP/a1.body" "$TMP/dl.satchel"
run_satchel verify --pubkey "$TMP/author.key.pub" "$TMP/dl.satchel"
expect_success "satchel verify accepts it"
is "$(sha "$TMP/dl.satchel")" "$(sha "$TMP/calligraphy-basics.satchel")" \
    "the very bytes the author built"

# --- the API ------------------------------------------------------------------------

get j1 /api/v1/catalog
is "$CODE" 200 "GET /api/v1/catalog: 200"
is "$(header j1 Content-Type)" "application/json" "as application/json"
is "$(json j1 '[b["name"] for b in j["bundles"]]')" \
    "['calligraphy-basics', 'family-health-care', 'new-citizen-orientation']" \
    "it lists the three bundles"
is "$(json j1 'j["catalog_serial"]')" "$(catalog_serial "$TMP/store")" \
    "and the catalog serial"
get j2 /api/v1/bundles/family-health-care
is "$(json j2 '[l["id"] for l in j["lessons"]]')" \
    "['01-handwashing', '02-blood-pressure', '03-when-to-see-a-doctor']" \
    "a bundle's lessons, in order"
is "$(json j2 'j["meta"]["title.zh"]')" "家庭健康护理" "its metadata, every language"
is "$(json j2 'j["lessons"][0]["minutes"]')" 15 "lesson minutes"
get j3 /api/v1/bundles/family-health-care/lessons/01-handwashing
is "$(json j3 'sorted(f["path"] for f in j["file_list"])')" \
    "['lessons/01-handwashing/handwash.svg', 'lessons/01-handwashing/index.html', 'lessons/01-handwashing/lesson.conf']" \
    "a lesson's files"
is "$(json j3 '[f["sha256"] for f in j["file_list"] if f["path"].endswith("index.html")][0]')" \
    "$(sha "$FHC/$F")" "with their SHA-256"
get j4 /api/v1/bundles/nope
is "$CODE" 404 "an unknown bundle in the API: 404"
get j5 /api/v1/bundles/family-health-care/lessons/nope
is "$CODE" 404 "an unknown lesson in the API: 404"

# --- feeds, metrics, health, static ----------------------------------------------

get o1 /opds
is "$CODE" 200 "GET /opds: 200"
like "$(header o1 Content-Type)" 'profile=opds-catalog;kind=acquisition' \
    "an OPDS acquisition feed"
get c1 /static/satchel.css
is "$CODE" 200 "the style sheet: 200"
get c2 /static/satchel.css -H "If-None-Match: $(header c1 ETag)"
is "$CODE" 304 "the style sheet revalidates: 304"
get hz /healthz
is "$CODE" 200 "/healthz: 200"
like "$(body hz)" "ok: catalog serial $(catalog_serial "$TMP/store"), 3 bundles" \
    "and says what it serves"
get mt /metrics
is "$CODE" 200 "/metrics: 200"
M=$(body mt)
like "$M" '/satchel_http_requests_total\{route="file",status="2xx"\} [1-9]/' \
    "requests by route and status"
like "$M" '/satchel_http_requests_total\{route="file",status="4xx"\} [1-9]/' \
    "4xx counted too"
like "$M" '/satchel_http_response_bytes_total\{route="lesson_zip"\} [1-9]/' \
    "bytes by route"
like "$M" '/satchel_http_connections_open [0-9]/' "open connections"
like "$M" 'satchel_sync_state{state="none"} 1' "the sync state (no upstream)"
like "$M" '/satchel_lesson_views_total\{bundle="family-health-care",lesson="01-handwashing"\} [1-9]/' \
    "lesson views"
like "$M" 'satchel_lesson_downloads_total{bundle="family-health-care",lesson="01-handwashing"} 2' \
    "lesson downloads (two whole fetches; HEAD and the resumption not counted)"
like "$M" 'satchel_bundle_downloads_total{bundle="calligraphy-basics"} 1' \
    "bundle downloads"

# --- connections -------------------------------------------------------------------

n=$(curl -sv -o /dev/null -o /dev/null "$U/healthz" "$U/healthz" 2>&1 |
    grep -c 'Re-using existing connection')
is "$n" 1 "keep-alive: two requests on one connection"
python3 - "$HPORT" >"$TMP/idle.out" 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t = time.time()
try:
    d = s.recv(1)
    print("closed" if d == b"" else "data", round(time.time() - t))
except socket.timeout:
    print("timeout")
EOF
like "$(cat "$TMP/idle.out")" '/^closed [1-5]$/' \
    "an idle connection is closed after --http-idle-timeout"

# --- an update under a reader ----------------------------------------------------

L2=lessons/02-holding-the-brush/index.html
get u1 "/b/calligraphy-basics@1/$L2"
cp "$TMP/u1.body" "$TMP/old-page"
cb_release "$CB" 2 1.1 "A paragraph only release 2 has."
run_satchel build -C "$CB" --key "$TMP/author.key" -o "$TMP/cb2.satchel"
expect_success "build calligraphy-basics 1.1"
run_satchel publish --store "$TMP/store" "$TMP/cb2.satchel"
expect_success "publish it while satcheld serves"
serial_is_2()
{
	get u2 /api/v1/bundles/calligraphy-basics
	[ "$(json u2 'j["serial"]')" = 2 ]
}
wait_until 10 serial_is_2
is "$(json u2 'j["serial"]')" 2 "the library shows release 2 within seconds"
get u3 "/b/calligraphy-basics@1/$L2"
is "$CODE" 200 "the page open in release 1 is still served"
is "$(sha "$TMP/u3.body")" "$(sha "$TMP/old-page")" "with release 1's bytes"
get u4 "/b/calligraphy-basics/$L2"
like "$(body u4)" 'A paragraph only release 2 has.' "the current URL has release 2"
get u5 /bundle/calligraphy-basics
like "$(body u5)" 'calligraphy-basics@2/lessons' "the bundle page links release 2"

# --- a mirror's web library -------------------------------------------------------

start_satcheld M "a mirror of it with a web library of its own" \
    --store "$TMP/mirror" --trust "$TMP/policy" \
    --upstream "satchel://127.0.0.1:$SPORT" --http-listen 127.0.0.1:0
MPORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$_pf")
MLOG=$DLOG
mirror_pulled()
{
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$TMP/mm.txt" &&
	    grep -q 'satchel_sync_state{state="idle"} 1' "$TMP/mm.txt"
}
wait_until 20 mirror_pulled
like "$(cat "$TMP/mm.txt")" 'satchel_sync_state{state="idle"} 1' \
    "the mirror's /metrics: its pull succeeded"
like "$(cat "$TMP/mm.txt")" '/satchel_sync_last_success_seconds [1-9][0-9]+/' \
    "with the time of the last success"
mirror_has_three()
{
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/api/v1/catalog" \
	    >"$TMP/mc.json" &&
	    [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bundles"]))' "$TMP/mc.json" 2>/dev/null)" = 3 ]
}
wait_until 10 mirror_has_three
ok "$(mirror_has_three; echo $?)" "the mirror's library lists the three bundles"
U_SAVE=$U
U=http://127.0.0.1:$MPORT
get mf "/b/family-health-care/$F"
is "$(sha "$TMP/mf.body")" "$(sha "$FHC/$F")" "and serves their files"
U=$U_SAVE
kill -TERM "$M"
bg_wait "$M"
is "$BG_RC" 0 "the mirror stops cleanly"
no_sanitizer "$MLOG"

# --- stopping; the counts on disk ----------------------------------------------

kill -TERM "$D"
bg_wait "$D"
is "$BG_RC" 0 "SIGTERM: satcheld exits 0"
no_sanitizer "$DLOG"
DAY=$(date -u +%Y-%m-%d)
ok "$([ -s "$TMP/store/stats/$DAY.json" ]; echo $?)" \
    "today's usage counts are in stats/$DAY.json"
run_satchel report --store "$TMP/store" --csv
expect_success "satchel report reads them" \
    '/family-health-care,01-handwashing,[1-9][0-9]*,2/'
run_satchel fsck "$TMP/store"
expect_success "fsck: the cache and stats directories do not upset the store"
ok "$([ -n "$(ls "$TMP/store/cache/zip")" ]; echo $?)" "lesson zips are cached"
run_satchel gc "$TMP/store"
expect_success "gc"
ok "$([ ! -e "$TMP/store/cache/zip" ] && [ ! -e "$TMP/store/cache/bundle" ]; echo $?)" \
    "gc empties the cache (it is rebuilt on demand)"
ok "$([ -s "$TMP/store/stats/$DAY.json" ]; echo $?)" "and keeps the usage counts"

done_testing
