#!/bin/sh
# Benchmark (not a pass/fail test): `satchel build` and `satchel verify` on
# a bundle made from the shared 250 MB corpus, beside the pipelines a user
# would otherwise reach for, on the same commit in the same run:
#   build  vs  git archive HEAD | zstd -3
#   verify vs  zstd -dc FILE.tar.zst | sha256sum
# Reports the median wall time of RUNS runs (after one warm-up), the ratio
# to the peer pipeline, and peak resident memory (GNU time's max RSS).
#
# usage: sh tests/bench/build-verify.sh [--scale S] [--runs N] [--data DIR]
#        [--satchel PATH]
# Targets (from issue 2): build <= 1.3x, verify <= 1.2x, peak memory < 64 MB.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
scale=1.0
runs=3
data=/var/tmp/satchel-bench
satchel=
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--satchel) satchel=$2; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
bench_shared gen_corpus.py
. "$top/tests/packages.sh"
install_packages $SATCHEL_BUILD_PACKAGES python3 time
mkdir -p "$data"

if [ -z "$satchel" ]; then
	build="$data/build"
	bench_build "$build" satchel
	satchel="$build/satchel"
fi

bench_corpus "$data" "$scale"

repo="$data/repo-$scale"
if [ ! -d "$repo/.git" ]; then
	echo "== making the bundle repository $repo"
	rm -rf "$repo"
	cp -R "$corpus/v1" "$repo"
	cat > "$repo/bundle.conf" <<CONF
name = bench-channel
serial = 1
label = 1.0
title = Benchmark learning channel
title.zh = 基准学习频道
language = en zh
license = CC-BY-4.0
CONF
	for d in "$repo"/lessons/*/; do
		first=$(cd "$d" && ls | head -n 1)
		printf 'title = %s\nentry = %s\n' "$(basename "$d")" "$first" > "$d/lesson.conf"
	done
	git -C "$repo" -c init.defaultBranch=main init -q
	git -C "$repo" add -A
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@invalid \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@invalid \
	GIT_AUTHOR_DATE=@1700000000 GIT_COMMITTER_DATE=@1700000000 \
		git -C "$repo" commit -q -m "Benchmark corpus v1"
	git -C "$repo" gc -q
fi
files=$(git -C "$repo" ls-files | wc -l)
bytes=$(du -sb --exclude=.git "$repo" | cut -f1)

key="$data/bench.key"
[ -f "$key" ] || "$satchel" keygen --force "$key" >/dev/null 2>&1

out="$data/out"
mkdir -p "$out"
# measure NAME CMD: runs CMD once to warm up, then $runs times; prints
# "NAME median_seconds max_rss_kb".
measure() {
	name=$1
	shift
	sh -c "$*" >/dev/null 2>&1
	i=0
	: > "$out/$name.times"
	while [ "$i" -lt "$runs" ]; do
		/usr/bin/time -f '%e %M' -o "$out/$name.one" sh -c "$*" >/dev/null 2>&1
		cat "$out/$name.one" >> "$out/$name.times"
		i=$((i + 1))
	done
	echo "$name $(bench_summary "$out/$name.times")"
}

echo "== measuring ($runs runs each after a warm-up; $files files, $bytes bytes)"
r1=$(measure peer-build "git -C '$repo' archive HEAD | zstd -3 -q -c > '$out/peer.tar.zst'")
r2=$(measure satchel-build "'$satchel' build -C '$repo' --key '$key' -o '$out/bench.satchel'")
r3=$(measure peer-verify "zstd -dc '$out/peer.tar.zst' | sha256sum")
r4=$(measure satchel-verify "'$satchel' verify --pubkey '$key.pub' '$out/bench.satchel'")

"$satchel" verify --pubkey "$key.pub" "$out/bench.satchel"
psize=$(stat -c %s "$out/peer.tar.zst")
ssize=$(stat -c %s "$out/bench.satchel")

report="$data/RESULTS-build-verify.md"
{
	echo "satchel build/verify vs peer pipelines: $files files, $bytes bytes, scale $scale, median of $runs runs, $(nproc) cores, $(date -u +%Y-%m-%d)"
	echo
	echo "| step | satchel (s) | peer (s) | ratio | satchel peak RSS | peer peak RSS |"
	echo "| --- | --- | --- | --- | --- | --- |"
	echo "$r2 $r1" | awk '{ printf "| build (peer: git archive \\| zstd -3) | %.2f | %.2f | %.2fx | %.1f MB | %.1f MB |\n", $2, $5, $2 / $5, $3 / 1024, $6 / 1024 }'
	echo "$r4 $r3" | awk '{ printf "| verify (peer: zstd -dc \\| sha256sum) | %.2f | %.2f | %.2fx | %.1f MB | %.1f MB |\n", $2, $5, $2 / $5, $3 / 1024, $6 / 1024 }'
	echo
	echo "Output size: satchel $ssize bytes, git archive | zstd -3 $psize bytes."
} > "$report"
cat "$report"
echo "(written to $report)"
