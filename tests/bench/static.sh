#!/bin/sh
# Benchmark (not a pass/fail test): the cost to the origin of N mirrors
# pulling one update over the static transport (SPEC §10 "Static
# transport"), with and without a cache tier in front. The update is the
# shared corpus's v1 -> v2 (gen_corpus.py). Every mirror already holds v1
# (hard links to one pulled store: objects are never written in place);
# then v2 is published and the N mirrors pull it one after another
#   direct: from satcheld's /store/ on its HTTP listener
#   cached: through nginx (proxy_cache) in front of that listener
# Reported for each: satcheld's CPU time (user + system, from
# /proc/PID/stat) and the body bytes it sent for /store/ (its /metrics),
# and the mirrors' total wall time. Every mirror is fsck'ed afterwards.
#
# usage: sh tests/bench/static.sh [--scale S] [--mirrors N] [--data DIR]
#            [--build DIR]   (a configured build to use; default DIR/build)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
scale=1.0
nm=100
data=/var/tmp/satchel-bench
build=
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--mirrors) nm=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
command -v nginx >/dev/null || { echo "nginx is needed" >&2; exit 1; }
bench_shared gen_corpus.py
mkdir -p "$data"
if [ -z "$build" ]; then
	build="$data/build"
	bench_build "$build" satchel satcheld
fi
S="$build/satchel"
D="$build/satcheld"
bench_corpus "$data" "$scale"

w="$data/static-work"
rm -rf "$w"
mkdir -p "$w"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@invalid

repo="$w/repo"
cp -R "$corpus/v1" "$repo"
bench_conf "$repo" 1 1.0
git -C "$repo" -c init.defaultBranch=main init -q
git -C "$repo" add -A
git -C "$repo" commit -q -m v1
bench_policy "$S" "$w"
"$S" build -C "$repo" --key "$w/pub.key" -o "$w/v1.satchel" >/dev/null
# v2: the corpus's second tree in the same repository.
find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
cp -R "$corpus/v2/." "$repo/"
bench_conf "$repo" 2 2.0
git -C "$repo" add -A
git -C "$repo" commit -q -m v2
"$S" build -C "$repo" --key "$w/pub.key" -o "$w/v2.satchel" >/dev/null
O="$w/origin"
"$S" store init --trust "$w/policy" --catalog-key "$w/cat.key" "$O" >/dev/null
"$S" publish --store "$O" "$w/v1.satchel" >/dev/null

"$D" --store "$O" --sync-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --port-file "$w/port" 2> "$w/satcheld.log" &
dpid=$!
pids="$pids $dpid"
bench_port "$w/port" >/dev/null
hport=$(awk '$1 == "http" { print $2 }' "$w/port")
H="http://127.0.0.1:$hport"

# Every mirror holds v1: one pull, then hard links.
"$S" pull "$H/store/" --store "$w/base" >/dev/null 2>&1
i=1
while [ "$i" -le "$nm" ]; do
	cp -al "$w/base" "$w/direct-$i"
	cp -al "$w/base" "$w/cached-$i"
	i=$((i + 1))
done

"$S" publish --store "$O" "$w/v2.satchel" >/dev/null
# satcheld's library notices the new catalog within a second or so.
i=0
while ! curl -s "$H/healthz" | grep -q 'catalog serial 2' && [ "$i" -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done

nport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$w/ng/logs" "$w/ng/tmp"
user=
[ "$(id -u)" = 0 ] && user="user root root;"
cat > "$w/ng/nginx.conf" <<CONF
daemon off;
$user
worker_processes 1;
pid $w/ng/nginx.pid;
error_log $w/ng/logs/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $w/ng/tmp/body;
	proxy_temp_path $w/ng/tmp/proxy;
	fastcgi_temp_path $w/ng/tmp/fastcgi;
	uwsgi_temp_path $w/ng/tmp/uwsgi;
	scgi_temp_path $w/ng/tmp/scgi;
	proxy_cache_path $w/ng/cache levels=1:2 keys_zone=satchel:10m
	    max_size=4g inactive=1h use_temp_path=off;
	server {
		listen 127.0.0.1:$nport;
		location / {
			proxy_pass $H;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cache satchel;
		}
	}
}
CONF
nginx -p "$w/ng" -e "$w/ng/logs/error.log" -c "$w/ng/nginx.conf" &
pids="$pids $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$nport/healthz" && [ "$i" -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done

ticks() { awk '{ print $14 + $15 }' "/proc/$dpid/stat"; }
sent() {
	curl -s "$H/metrics" | awk -F'} ' '
	    /^satchel_http_response_bytes_total\{route="store_(meta|object)"\}/ {
		s += $2 } END { print s + 0 }'
}
now() { date +%s.%N; }
hz=$(getconf CLK_TCK)

# run KIND URL: the N mirrors of KIND pull the update from URL.
run() {
	c0=$(ticks); b0=$(sent); t0=$(now)
	i=1
	while [ "$i" -le "$nm" ]; do
		"$S" pull "$2" --store "$w/$1-$i" >/dev/null 2>&1 ||
		    { echo "$1-$i: the pull failed" >&2; exit 1; }
		i=$((i + 1))
	done
	t1=$(now); c1=$(ticks); b1=$(sent)
	echo "$1 $((c1 - c0)) $((b1 - b0)) $t0 $t1" >> "$w/results"
}
: > "$w/results"
run direct "$H/store/"
run cached "http://127.0.0.1:$nport/store/"

i=1
while [ "$i" -le "$nm" ]; do
	for k in direct cached; do
		"$S" fsck "$w/$k-$i" >/dev/null ||
		    { echo "$k-$i: fsck failed" >&2; exit 1; }
	done
	i=$((i + 1))
done

upd=$(du -sb "$O/objects" | cut -f1)
echo "corpus $corpus, $nm mirrors, each pulling v1 -> v2 (all fsck clean)"
echo "| origin | satcheld CPU | bytes satcheld sent | mirrors' wall time |"
echo "| --- | --- | --- | --- |"
awk -v hz="$hz" '{
	kind = $1 == "direct" ? "direct (/store/)" : "behind nginx proxy_cache"
	printf "| %s | %.2f s | %.1f MB | %.1f s |\n", kind, $2 / hz, $3 / 1e6, $5 - $4
}' "$w/results"
