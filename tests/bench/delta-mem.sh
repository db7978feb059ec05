#!/bin/sh
# tests/bench/delta-mem.sh: memory and time of the file delta codec
# (lib/delta.c) on a large file, beside zstd's own --patch-from. Not run by
# make check.
#
#   sh tests/bench/delta-mem.sh [SIZE-MiB [ZSTD-LEVEL]]
#
# Makes a file of SIZE MiB (default 1907: 2.0 GB) of pseudo-random data under
# /var/tmp (DELTA_BENCH_DIR to change), a copy with 1 MiB rewritten in the
# middle, then encodes and decodes in separate processes (a small driver,
# tests/bench/delta-tool.c, built against an -O2 build of the libraries in
# _build/bench-delta) and prints wall time, peak RSS and the delta's size
# of each step; then `zstd -LEVEL --long=31 --patch-from` on the same pair,
# with its time and RSS from /usr/bin/time (default level 3: at 19 zstd
# needs gigabytes of tables and far longer on 2 GB). At 2048 MiB zstd's
# largest window (2 GiB) no longer reaches from a byte of the new file to
# the same byte of the old one, and its output is as large as the file. Also the two small corpus-like pairs (a 6 KB HTML page
# with one paragraph replaced, a 2 MiB PDF-like file with 64 KiB rewritten
# in its middle) against `zstd -19 --patch-from`. Everything it made under
# the directory is removed at the end.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
size=${1:-1907}
zlevel=${2:-3}
build=$top/_build/bench-delta
dir=$(mktemp -d "${DELTA_BENCH_DIR:-/var/tmp}/delta-mem.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

. "$top/tests/bench/lib.sh"
bench_build "$build" lib/libsatchel.a protocol/libsatchel-protocol.a
cc -O2 -g -I"$top/lib" -I"$top/protocol" -o "$dir/delta-tool" \
    "$top/tests/bench/delta-tool.c" "$build/lib/libsatchel.a" \
    "$build/protocol/libsatchel-protocol.a" -lzstd -lcrypto
tool=$dir/delta-tool

# pair NAME: encode and decode NAME.a -> NAME.b, check the result, print
# the delta's size beside zstd's; ZSTDOPTS are zstd's options.
pair()
{
	"$tool" encode "$dir/$1.a" "$dir/$1.b" "$dir/$1.delta"
	"$tool" decode "$dir/$1.a" "$dir/$1.delta" "$dir/$1.out" \
	    "$(wc -c <"$dir/$1.b" | tr -d ' ')" \
	    "$(sha256sum "$dir/$1.b" | cut -c1-64)"
	cmp "$dir/$1.b" "$dir/$1.out"
	rm -f "$dir/$1.out"
	# shellcheck disable=SC2086
	/usr/bin/time -f "zstd $ZSTDOPTS: %e s, peak RSS %M KiB" \
	    zstd -q -f $ZSTDOPTS --patch-from="$dir/$1.a" "$dir/$1.b" \
	    -o "$dir/$1.zst" 2>&1 | grep -v -e '^\[Optimal' -e '^- ' \
	    -e '^Also consider' -e 'long mode automatically' || :
	echo "$1: delta $(wc -c <"$dir/$1.delta" | tr -d ' ') bytes," \
	    "zstd $ZSTDOPTS --patch-from $(wc -c <"$dir/$1.zst" | tr -d ' ')" \
	    "bytes"
}

# Small pairs like the benchmark corpus, made by a seeded generator.
python3 - "$dir" <<'EOF'
import random, sys
d = sys.argv[1]
r = random.Random(1)
parts = []
while sum(map(len, parts)) < 2 << 20:
    if r.random() < 0.5:
        parts.append(("%d 0 obj << /Type /Page /Contents %d 0 R /Font /F%d"
            " >> endobj\n" % (r.randint(1, 999), r.randint(1, 999),
            r.randint(1, 9))).encode() * r.randint(1, 20))
    else:
        parts.append(b"stream\n" + r.randbytes(r.randint(500, 8000)) +
            b"\nendstream\n")
a = b"".join(parts)[:2 << 20]
mid = len(a) // 2
open(d + "/pdf.a", "wb").write(a)
open(d + "/pdf.b", "wb").write(a[:mid] + r.randbytes(65536) + a[mid + 65536:])
words = ("the of and to in is that for it as was with be by on not he this"
    " are or his from at which but have an they you were her she there been"
    " one all we their").split()
def para(n):
    return "<p>" + " ".join(r.choice(words) for _ in range(n)) + "</p>"
ps = ["<html><head><title>Lesson</title></head><body>"] + \
    [para(60) for _ in range(25)] + ["</body></html>", ""]
open(d + "/html.a", "w").write("\n".join(ps))
ps[10] = para(60)
open(d + "/html.b", "w").write("\n".join(ps))
EOF
ZSTDOPTS=-19
echo "== small pairs"
pair html
pair pdf

# The large pair: AES-CTR keystream is pseudo-random and quick to make.
echo "== $size MiB with 1 MiB rewritten in the middle"
openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f \
    -iv 00000000000000000000000000000000 -nosalt </dev/zero 2>/dev/null |
    head -c $((size << 20)) >"$dir/big.a"
cp "$dir/big.a" "$dir/big.b"
head -c 1048576 /dev/urandom |
    dd of="$dir/big.b" bs=1048576 seek=$((size / 2)) conv=notrunc \
    status=none
ZSTDOPTS="-$zlevel --long=31"
[ "$zlevel" -ge 20 ] && ZSTDOPTS="--ultra $ZSTDOPTS"
pair big
