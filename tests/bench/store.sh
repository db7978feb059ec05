#!/bin/sh
# Benchmark (not a pass/fail test): publish and pull of the shared 250 MB
# corpus, beside `cp -r` and `rsync -a` of the same trees in the same run.
#   publish v1 into an empty origin     vs  cp -r v1 / rsync -a v1 (fresh)
#   pull the origin into a new store    vs  cp -r v1 / rsync -a v1 (fresh)
#   publish v2 (~5% changed) after v1   vs  rsync -a v2 over a copy of v1
#   pull v2 into the store holding v1   vs  rsync -a v2 over a copy of v1
# and the origin's growth when v2 is published, against the size of the
# files v2 changed (target: within 1.1x). Wall time is the median of RUNS;
# peak memory is GNU time's max RSS (target: under 64 MB).
#
# usage: sh tests/bench/store.sh [--scale S] [--runs N] [--data DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
scale=1.0
runs=3
data=/var/tmp/satchel-bench
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
bench_shared gen_corpus.py
. "$top/tests/packages.sh"
install_packages $SATCHEL_BUILD_PACKAGES python3 time rsync
mkdir -p "$data"
build="$data/build"
bench_build "$build" satchel
S="$build/satchel"

bench_corpus "$data" "$scale"

w="$data/store-bench"
rm -rf "$w"
mkdir -p "$w"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@invalid

# One repository, two commits: v1, then v2 with serial 2.
repo="$w/repo"
cp -R "$corpus/v1" "$repo"
bench_conf "$repo" 1 1.1
git -C "$repo" -c init.defaultBranch=main init -q
git -C "$repo" add -A
git -C "$repo" commit -q -m v1
git -C "$repo" tag v1
rsync -a --delete --exclude .git --exclude bundle.conf "$corpus/v2/" "$repo/"
bench_conf "$repo" 2 1.2
git -C "$repo" add -A
git -C "$repo" commit -q -m v2

bench_policy "$S" "$w"
"$S" build -C "$repo" --rev v1 --key "$w/pub.key" -o "$w/v1.satchel" >/dev/null
"$S" build -C "$repo" --key "$w/pub.key" -o "$w/v2.satchel" >/dev/null

out="$w/times"
mkdir -p "$out"
# measure NAME SETUP CMD: runs SETUP (untimed) then CMD, RUNS times;
# prints "NAME median_seconds max_rss_kb".
measure() {
	name=$1 setup=$2 cmd=$3
	: > "$out/$name"
	i=0
	while [ "$i" -lt "$runs" ]; do
		sh -c "$setup" >/dev/null 2>&1
		sync
		/usr/bin/time -f '%e %M' -o "$out/$name.one" sh -c "$cmd" >/dev/null 2>&1
		cat "$out/$name.one" >> "$out/$name"
		i=$((i + 1))
	done
	bench_summary "$out/$name"
}

v1="$corpus/v1"
v2="$corpus/v2"
O="$w/origin" M="$w/mirror" D="$w/dest"
fresh_origin="rm -rf '$O' && '$S' store init --trust '$w/policy' --catalog-key '$w/cat.key' '$O'"
echo "== measuring, $runs runs each"
p1=$(measure pub1 "$fresh_origin" "'$S' publish --store '$O' '$w/v1.satchel'")
c1=$(measure cp1 "rm -rf '$D'" "cp -r '$v1' '$D'")
r1=$(measure rs1 "rm -rf '$D'" "rsync -a '$v1/' '$D/'")
# The origin now holds v1 (last run of pub1).
u1=$(measure pull1 "rm -rf '$M'" "'$S' pull '$O' --store '$M'")
before=$(du -sb "$O/objects" | cut -f1)
p2=$(measure pub2 "$fresh_origin && '$S' publish --store '$O' '$w/v1.satchel'" \
    "'$S' publish --store '$O' '$w/v2.satchel'")
after_v1_only=$(sh -c "$fresh_origin" >/dev/null 2>&1; "$S" publish --store "$O" "$w/v1.satchel" >/dev/null; du -sb "$O/objects" | cut -f1)
"$S" publish --store "$O" "$w/v2.satchel" >/dev/null
after=$(du -sb "$O/objects" | cut -f1)
growth=$((after - after_v1_only))
changed=$(python3 "$shared/treehash.py" changed "$v1" "$v2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["changed_bytes"])')
r2=$(measure rs2 "rm -rf '$D' && cp -a '$v1' '$D'" "rsync -a --delete '$v2/' '$D/'")
u2=$(measure pull2 "rm -rf '$M' && mkdir -p '$M' && rm -rf '$M' && '$S' store init --trust '$w/policy' '$M' && rm -rf '$w/o1' && '$S' store init --trust '$w/policy' --catalog-key '$w/cat.key' '$w/o1' && '$S' publish --store '$w/o1' '$w/v1.satchel' && '$S' pull '$w/o1' --store '$M'" \
    "'$S' pull '$O' --store '$M'")
"$S" fsck "$M" >/dev/null

report="$data/RESULTS-store.md"
ratio() { echo "$1 $2" | awk '{ printf "%.2fx", ($2 > 0 ? $1 / $2 : 0) }'; }
t() { echo "$1" | cut -d' ' -f1; }
m() { echo "$1" | awk '{ printf "%.1f MB", $2 / 1024 }'; }
{
	echo "satchel publish/pull vs cp -r and rsync -a: corpus scale $scale ($(du -sb "$v1" | cut -f1) bytes), median of $runs runs, $(nproc) cores, $(date -u +%Y-%m-%d)"
	echo
	echo "| step | satchel (s) | cp -r (s) | rsync -a (s) | vs cp | vs rsync | satchel peak RSS |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	echo "| publish v1 (empty origin) | $(t "$p1") | $(t "$c1") | $(t "$r1") | $(ratio "$(t "$p1")" "$(t "$c1")") | $(ratio "$(t "$p1")" "$(t "$r1")") | $(m "$p1") |"
	echo "| pull v1 (new store) | $(t "$u1") | $(t "$c1") | $(t "$r1") | $(ratio "$(t "$u1")" "$(t "$c1")") | $(ratio "$(t "$u1")" "$(t "$r1")") | $(m "$u1") |"
	echo "| publish v2 over v1 | $(t "$p2") | | $(t "$r2") | | $(ratio "$(t "$p2")" "$(t "$r2")") | $(m "$p2") |"
	echo "| pull v2 over v1 | $(t "$u2") | | $(t "$r2") | | $(ratio "$(t "$u2")" "$(t "$r2")") | $(m "$u2") |"
	echo
	echo "Origin growth when v2 is published after v1: $growth bytes; files v2 added or changed: $changed bytes; ratio $(ratio "$growth" "$changed") (target <= 1.10x)."
} > "$report"
cat "$report"
echo "(written to $report)"
