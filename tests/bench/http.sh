#!/bin/sh
# Benchmark (not a pass/fail test): satcheld's web library against nginx
# on the same machine in the same run. wrk -t2 -c64 fetches a ~10 KB
# lesson page and a ~40 MB video (from the shared corpus) from
# `satcheld --http-listen` (/b/NAME/PATH, the URL a learner follows) and
# from nginx (worker_processes 2, sendfile on, access_log off, as the
# shared http_serve peer) serving the same bytes from the bundle's tree;
# the rounds alternate which server goes first, and each target is judged
# on the median of the rounds' ratios. Before that, each server, freshly
# started, holds 1000 idle keep-alive connections (tests/bench/
# keepalive.py) while its resident memory is read from /proc.
#
# usage: sh tests/bench/http.sh [--data DIR] [--duration S] [--rounds N]
#        [--conns N] [--idle-conns N] [--http-threads N]
#        [--satchel-bin DIR]   (satchel and satcheld from DIR; no build)
# Writes DIR/RESULTS-http.md (working files in DIR/http) and prints it.
# Targets (issue 5): >= 0.8x nginx's requests/s on the page, >= 0.95x its
# throughput on the video, < 32 MB resident with 1000 keep-alive
# connections open.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
args="$*"
data=/var/tmp/satchel-bench
duration=10
rounds=3
conns=64
idle=1000
threads=
bin=
while [ $# -gt 0 ]; do
	case "$1" in
	--data) data=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--idle-conns) idle=$2; shift 2 ;;
	--http-threads) threads=$2; shift 2 ;;
	--satchel-bin) bin=$2; shift 2 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
bench_shared wrkrun.py
. "$top/tests/packages.sh"
install_packages $SATCHEL_BUILD_PACKAGES python3 wrk nginx curl

if [ -n "$bin" ]; then
	build=$(cd "$bin" && pwd)
else
	build="$top/_build/bench"
	bench_build "$build" satchel satcheld
fi
S="$build/satchel"

mkdir -p "$data"
bench_corpus "$data" 1.0
w="$data/http"
rm -rf "$w"
mkdir -p "$w"

# The page closest to 10 KB and the video closest to 40 MiB, as the shared
# http_serve peer picks them.
pick() {
	awk -v re="$1" -v t="$2" '$3 ~ re { d = $2 - t; if (d < 0) d = -d;
	    if (best == "" || d < bd) { best = $3; bs = $2; bd = d } }
	    END { print best, bs }' "$corpus/v1.sha256"
}
set -- $(pick '^lessons/.*\.html$' 10240)
page=$1 page_size=$2
set -- $(pick '^videos/' 41943040)
video=$1 video_size=$2

# The bundle: the page's whole unit (a lesson) and the video. nginx serves
# this tree, satcheld the store it is published into: the same bytes.
echo "== building the bench-http bundle ($page, $video)"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@invalid
repo="$w/repo"
unit=$(dirname "$page")
mkdir -p "$repo/$unit" "$repo/videos"
cp "$corpus/v1/$unit"/* "$repo/$unit/"
cp "$corpus/v1/$video" "$repo/videos/"
cat > "$repo/bundle.conf" <<CONF
name = bench-http
serial = 1
label = 1.0
title = Web library benchmark
language = en
license = CC-BY-4.0
CONF
printf 'entry = %s\n' "$(basename "$page")" > "$repo/$unit/lesson.conf"
git -C "$repo" -c init.defaultBranch=main init -q
git -C "$repo" add -A
git -C "$repo" commit -q -m "bench-http 1"
bench_policy "$S" "$w"
"$S" build -C "$repo" --key "$w/pub.key" -o "$w/bench-http.satchel" >/dev/null
"$S" store init --trust "$w/policy" --catalog-key "$w/cat.key" "$w/store" >/dev/null
"$S" publish --store "$w/store" "$w/bench-http.satchel" >/dev/null

# --- the servers ---
dpid= npid=
cleanup()
{
	[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$npid" ] && kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	dpid= npid=
}
trap 'cleanup' EXIT INT TERM

start_satcheld()
{
	rm -f "$w/port"
	# As root, satcheld needs --user: the bench's store is root's.
	"$build/satcheld" --store "$w/store" --sync-listen 127.0.0.1:0 \
	    $( [ "$(id -u)" -eq 0 ] && echo --user root ) \
	    --http-listen 127.0.0.1:0 ${threads:+--http-threads $threads} \
	    --port-file "$w/port" 2>>"$w/satcheld.log" &
	dpid=$!
	bench_port "$w/port" >/dev/null
	dport=$(awk '$1 == "http" { print $2 }' "$w/port")
	[ -n "$dport" ] || { echo "satcheld did not start: see $w/satcheld.log" >&2; exit 1; }
}

# Like ../shared/bench/lib.sh's write_nginx_conf, with room for the idle
# connections.
start_nginx()
{
	n="$w/nginx"
	mkdir -p "$n/logs" "$n/tmp"
	nport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$n/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 8192;
user root;
pid $n/nginx.pid;
error_log $n/logs/error.log warn;
events { worker_connections $((idle + 1024)); }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  types { text/html html; video/mp4 mp4; }
  default_type application/octet-stream;
  client_body_temp_path $n/tmp/body;
  proxy_temp_path $n/tmp/proxy;
  fastcgi_temp_path $n/tmp/fastcgi;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $repo;
    location / { autoindex off; }
  }
}
EOF
	nginx -p "$n" -c "$n/nginx.conf" -g 'daemon off;' &
	npid=$!
	i=0
	while ! curl -s -o /dev/null "http://127.0.0.1:$nport/" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Both must send exactly the file's bytes before anything is timed.
sane()
{
	got=$(curl -s "$1" | sha256sum | cut -d' ' -f1)
	want=$(sha256sum < "$2" | cut -d' ' -f1)
	[ "$got" = "$want" ] || { echo "$1 does not serve $2" >&2; exit 1; }
}

ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# cpu_ticks PID: the user and system clock ticks PID and its children
# (nginx's workers) have used: how much of the machine each server needed
# for what it served, which wrk's share of the two cores does not blur.
cpu_ticks()
{
	python3 - "$1" <<'CPU'
import os, sys
kids = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            st = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(st[1]), []).append((int(d), int(st[11]) + int(st[12])))
def ticks(p):
    try:
        st = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(st[11]) + int(st[12]) + sum(ticks(k) for k, _ in kids.get(p, []))
print(ticks(int(sys.argv[1])))
CPU
}

echo "== $idle idle keep-alive connections to each server"
start_satcheld
python3 "$top/tests/bench/keepalive.py" --port "$dport" \
    --path "/b/bench-http/$page" --conns "$idle" --pid "$dpid" \
    > "$w/idle-satcheld.json" || true
cat "$w/idle-satcheld.json"
cleanup
start_nginx
python3 "$top/tests/bench/keepalive.py" --port "$nport" --path "/$page" \
    --conns "$idle" --pid "$npid" > "$w/idle-nginx.json" || true
cat "$w/idle-nginx.json"
cleanup

echo "== wrk -t2 -c$conns -d${duration}s, $rounds round(s), alternating"
start_satcheld
start_nginx
sane "http://127.0.0.1:$dport/b/bench-http/$page" "$repo/$page"
sane "http://127.0.0.1:$nport/$page" "$repo/$page"
sane "http://127.0.0.1:$dport/b/bench-http/$video" "$repo/$video"
sane "http://127.0.0.1:$nport/$video" "$repo/$video"
r=1
while [ $r -le "$rounds" ]; do
	for obj in page video; do
		if [ $obj = page ]; then f=$page sz=$page_size; else f=$video sz=$video_size; fi
		if [ $((r % 2)) = 1 ]; then order="satcheld nginx"; else order="nginx satcheld"; fi
		for srv in $order; do
			if [ $srv = satcheld ]; then
				url="http://127.0.0.1:$dport/b/bench-http/$f" pid=$dpid
			else
				url="http://127.0.0.1:$nport/$f" pid=$npid
			fi
			t0=$(cpu_ticks "$pid")
			python3 "$shared/wrkrun.py" --server "$srv" --object "$obj" \
			    --size "$sz" --pid "$pid" --url "$url" --out "$w/wrk.jsonl" \
			    --conns "$conns" --duration "$duration" --run "$r"
			printf '{"run": %d, "server": "%s", "object": "%s", "ticks": %d}\n' \
			    "$r" "$srv" "$obj" $(($(cpu_ticks "$pid") - t0)) >>"$w/cpu.jsonl"
		done
	done
	r=$((r + 1))
done
cleanup

python3 - "$w" "$data/RESULTS-http.md" "sh tests/bench/http.sh${args:+ $args}" \
    "$page" "$page_size" "$video" "$video_size" "$idle" \
    "$(nproc) cores, $(uname -sr), $(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" <<'PY'
import json, os, statistics, sys
w, out, cmd, page, psz, video, vsz, idle, machine = sys.argv[1:]
res = [json.loads(l) for l in open(os.path.join(w, "wrk.jsonl")) if l.strip()]
def med(srv, obj, k):
    v = [r[k] for r in res if r["server"] == srv and r["object"] == obj and r[k] is not None]
    return statistics.median(v) if v else 0.0
def spread(srv, obj, k):
    v = [r[k] for r in res if r["server"] == srv and r["object"] == obj and r[k] is not None]
    return f"{min(v):,.0f}–{max(v):,.0f}" if v else ""
def bad(srv, obj):
    return sum(r["non2xx"] for r in res if r["server"] == srv and r["object"] == obj)
idl = {s: json.load(open(os.path.join(w, f"idle-{s}.json")))
       for s in ("satcheld", "nginx") if os.path.getsize(os.path.join(w, f"idle-{s}.json"))}
rounds = len({r["run"] for r in res})
dur = res[0]["wrk"].split("-d")[1].split()[0] if res else "?"
pr = med("satcheld", "page", "req_s") / max(med("nginx", "page", "req_s"), 1e-9)
vr = med("satcheld", "video", "mb_s") / max(med("nginx", "video", "mb_s"), 1e-9)
# Each round measured both servers back to back.
def paired(obj, k):
    out = []
    for run in sorted({r["run"] for r in res}):
        s = [r[k] for r in res if r["run"] == run and r["object"] == obj and r["server"] == "satcheld"]
        n = [r[k] for r in res if r["run"] == run and r["object"] == obj and r["server"] == "nginx"]
        if s and n and s[0] and n[0]:
            out.append(s[0] / n[0])
    return out
pp, pv = paired("page", "req_s"), paired("video", "mb_s")
prm = statistics.median(pp) if pp else 0.0
vrm = statistics.median(pv) if pv else 0.0
ok = lambda b: "pass" if b else "FAIL"
L = [f"satcheld --http-listen against nginx (worker_processes 2, sendfile on, access_log off), "
     f"same machine, same run; wrk -t2 -c64 -d{dur}, {rounds} round(s) alternating which "
     f"server goes first; medians (range in brackets). Page: `{page}` ({int(psz):,} bytes); "
     f"video: `{video}` ({int(vsz):,} bytes), served by satcheld at /b/bench-http/PATH.",
     "", f"Command: `{cmd}`", "", f"Machine: {machine}.", "",
     "| measure | satcheld | nginx | ratio | target | |",
     "| --- | ---: | ---: | ---: | --- | --- |",
     f"| page, requests/s | {med('satcheld', 'page', 'req_s'):,.0f} ({spread('satcheld', 'page', 'req_s')}) | "
     f"{med('nginx', 'page', 'req_s'):,.0f} ({spread('nginx', 'page', 'req_s')}) | {prm:.2f}x | ≥ 0.8x | {ok(prm >= 0.8)} |",
     f"| video, MB/s | {med('satcheld', 'video', 'mb_s'):,.0f} ({spread('satcheld', 'video', 'mb_s')}) | "
     f"{med('nginx', 'video', 'mb_s'):,.0f} ({spread('nginx', 'video', 'mb_s')}) | {vrm:.2f}x | ≥ 0.95x | {ok(vrm >= 0.95)} |",
     f"| page, p99 latency ms | {med('satcheld', 'page', 'p99_ms'):.2f} | {med('nginx', 'page', 'p99_ms'):.2f} | | | |",
     f"| peak RSS under wrk, MB | {max(r['rss_peak_kb'] for r in res if r['server'] == 'satcheld') / 1024:.1f} | "
     f"{max(r['rss_peak_kb'] for r in res if r['server'] == 'nginx') / 1024:.1f} | | | |"]
if "satcheld" in idl:
    s, n = idl["satcheld"], idl.get("nginx", {})
    sr = s["rss_peak_kb"] / 1024
    L.append(f"| RSS with {idle} keep-alive connections open, MB | {sr:.1f} "
             f"(VmHWM {s['hwm_kb'] / 1024:.1f}) | "
             + (f"{n['rss_peak_kb'] / 1024:.1f} (master + workers) | " if n else " | ")
             + f"| < 32 MB | {ok(sr < 32 and s['ok'] == s['conns'] and s['open_after_hold'] == s['conns'])} |")
    L += ["", f"Idle connections: satcheld answered {s['ok']} of {s['conns']} and kept "
          f"{s['open_after_hold']} open"
          + (f"; nginx {n['ok']} and {n['open_after_hold']}" if n else "") + "."]
L += ["", f"Ratio in each round (satcheld and nginx back to back): page "
      + ", ".join(f"{x:.2f}x" for x in pp) + "; video "
      + ", ".join(f"{x:.2f}x" for x in pv) + ". The table's ratio is the "
      "median of these: a round's two runs share the machine's load, "
      f"which the medians of all runs do not (ratio of the medians: page {pr:.2f}x, "
      f"video {vr:.2f}x)."]
cpu = os.path.join(w, "cpu.jsonl")
cpu = [json.loads(l) for l in open(cpu)] if os.path.exists(cpu) else []
hz = os.sysconf("SC_CLK_TCK")
def cost(srv, obj):
    t = sum(c["ticks"] for c in cpu if c["server"] == srv and c["object"] == obj) / hz
    rs = [r for r in res if r["server"] == srv and r["object"] == obj]
    if obj == "page":
        n = sum(r["requests"] or 0 for r in rs)
        return f"{t / max(n, 1) * 1e6:.0f} µs a request"
    b = sum((r["requests"] or 0) * int(r["size"]) for r in rs)
    return f"{t / max(b / 1e9, 1e-9):.2f} s a GB"
if cpu:
    L += ["", f"Server CPU (user + system, all threads or workers) for what it served: "
          f"page: satcheld {cost('satcheld', 'page')}, nginx {cost('nginx', 'page')}; "
          f"video: satcheld {cost('satcheld', 'video')}, nginx {cost('nginx', 'video')}."]
errs = [f"{r['server']} {r['object']} run {r['run']}: {r['non2xx']} non-2xx, {r['socket_errors']}"
        for r in res if r["non2xx"] or r["socket_errors"]]
if errs:
    L += ["", "wrk reported: " + "; ".join(errs) + "."]
text = "\n".join(L) + "\n"
open(out, "w").write(text)
print(text)
PY
echo "(written to $data/RESULTS-http.md; raw: $w/wrk.jsonl)"
