#!/bin/sh
# http-send.sh: the two ways satcheld's web library sends a file
# (daemon/http.c serve_file), byte for byte: a page of a few KB is copied
# into a reused block and leaves with its headers in one write; a 24 MiB
# file goes out with sendfile(2). Whole files, ranges inside each and at
# their ends, HEAD, one keep-alive connection carrying both kinds in
# turn; and the big file sent to four clients at once without the
# daemon's resident memory growing by what it sends (libevent 2.1 maps a
# file into memory unless the buffer is flagged to drain to a socket).
. "$(dirname "$0")/lib.sh"
need curl sed awk head tail dd
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

cd "$TMP" || bail_out "cannot enter $TMP"

make_keys root catalog author
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" \
    calligraphy-basics
expect_success "trust policy"
make_repo calligraphy-basics
head -c 25165824 /dev/urandom >"$REPO/big.bin"
git_commit "$REPO" "Add a 24 MiB file"
run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/cb.satchel"
expect_success "build calligraphy-basics with a 24 MiB file"
make_origin "$TMP/origin" "$TMP/policy" "$TMP/catalog.key" "$TMP/cb.satchel"
expect_success "the store"

start_satcheld D "satcheld --http-listen" --store "$TMP/origin" \
    --http-listen 127.0.0.1:0
PF=$_LIB/port.$_SATCHELD_N
wait_until 10 grep -q '^http [0-9]' "$PF"
BASE=http://127.0.0.1:$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$PF")/b/calligraphy-basics
SMALL=lessons/01-four-treasures/index.html
SRC_SMALL=$REPO/$SMALL
SRC_BIG=$REPO/big.bin
SMALL_SIZE=$(wc -c <"$SRC_SMALL" | tr -d ' ')

# fetch NAME PATH [CURL-ARGS...]: GET BASE/PATH; the body in $TMP/NAME,
# "STATUS LENGTH" in GOT.
fetch()
{
	_n=$1
	_p=$2
	shift 2
	GOT=$(curl -s -o "$TMP/$_n" -w '%{http_code} %{size_download}' \
	    --max-time 60 "$@" "$BASE/$_p")
}

# part FILE OFFSET COUNT: COUNT bytes of FILE from OFFSET.
part()
{
	dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" \
	    count="$3" 2>/dev/null
}

fetch s1 "$SMALL"
also "the bytes are the file's" cmp -s "$TMP/s1" "$SRC_SMALL"
is "$GOT" "200 $SMALL_SIZE" "a $SMALL_SIZE-byte page whole: 200, every byte"

fetch s2 "$SMALL" -H 'Range: bytes=100-199'
part "$SRC_SMALL" 100 100 >"$TMP/s2.want"
also "bytes 100-199 of the file" cmp -s "$TMP/s2" "$TMP/s2.want"
is "$GOT" "206 100" "the page, bytes=100-199: 206, those bytes"

fetch s3 "$SMALL" -H 'Range: bytes=-37'
tail -c 37 "$SRC_SMALL" >"$TMP/s3.want"
also "its last 37 bytes" cmp -s "$TMP/s3" "$TMP/s3.want"
is "$GOT" "206 37" "the page, bytes=-37: 206, its last 37 bytes"

fetch b1 big.bin
also "the bytes are the file's" cmp -s "$TMP/b1" "$SRC_BIG"
is "$GOT" "200 25165824" "the 24 MiB file whole: 200, every byte"

fetch b2 big.bin -H 'Range: bytes=10000000-10999999'
part "$SRC_BIG" 10000000 1000000 >"$TMP/b2.want"
also "bytes 10000000-10999999 of the file" cmp -s "$TMP/b2" "$TMP/b2.want"
is "$GOT" "206 1000000" "the big file, a megabyte from its middle: 206"

fetch b3 big.bin -H 'Range: bytes=25165000-'
tail -c 824 "$SRC_BIG" >"$TMP/b3.want"
also "its last 824 bytes" cmp -s "$TMP/b3" "$TMP/b3.want"
is "$GOT" "206 824" "the big file, bytes=25165000-: 206, its tail"

GOT=$(curl -s -I -o "$TMP/h.head" -w '%{http_code} %{size_download}' \
    "$BASE/big.bin")
like "$(tr -d '\r' <"$TMP/h.head")" "Content-Length: 25165824" \
    "HEAD of the big file: its Content-Length"
is "$GOT" "200 0" "HEAD of the big file: 200, no body"

# One connection, page then big file then page: each answer must end
# where its Content-Length says, or the next would read garbage.
curl -s --max-time 60 -w '%{http_code} %{num_connects} %{size_download}\n' \
    -o "$TMP/k1" "$BASE/$SMALL" -o "$TMP/k2" "$BASE/big.bin" \
    -o "$TMP/k3" "$BASE/$SMALL" >"$TMP/k.out"
also "page 1 as the file" cmp -s "$TMP/k1" "$SRC_SMALL"
also "big file as the file" cmp -s "$TMP/k2" "$SRC_BIG"
also "page 2 as the file" cmp -s "$TMP/k3" "$SRC_SMALL"
is "$(tr '\n' ' ' <"$TMP/k.out")" \
    "200 1 $SMALL_SIZE 200 0 25165824 200 0 $SMALL_SIZE " \
    "keep-alive: page, big file, page on one connection, each whole"

# Four clients fetch the big file at once, slowly enough to overlap;
# satcheld's resident memory is sampled until they are done.
DP=$(daemon_pid "$D")
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$DP/status" 2>/dev/null; }
before=$(rss)
pids=
for i in 1 2 3 4; do
	curl -s --max-time 60 --limit-rate 12M -o "$TMP/c$i" "$BASE/big.bin" &
	pids="$pids $!"
done
peak=$before
n=0
while [ "$n" -lt 600 ]; do
	r=$(rss)
	[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
	alive=0
	for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ "$alive" = 0 ] && break
	sleep 0.1
	n=$((n + 1))
done
for p in $pids; do wait "$p"; done
for i in 1 2 3 4; do
	also "client $i got the file" cmp -s "$TMP/c$i" "$SRC_BIG"
done
grow=$(((peak - before) / 1024))
if [ -n "$before" ] && [ "$grow" -lt 24 ]; then
	ok 0 "four clients fetch 24 MiB each: satcheld grows by $grow MB (< 24)"
else
	ok 1 "four clients fetch 24 MiB each: satcheld grows by less than 24 MB"
	diag "VmRSS before ${before:-?} kB, peak $peak kB"
fi

kill_recorded "$D"
no_sanitizer "$DLOG"
done_testing
