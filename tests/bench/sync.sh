#!/bin/sh
# Benchmark (not a pass/fail test): mirror the shared 250 MB corpus over
# loopback, initial v1 then the v1->v2 update, with `satchel pull
# satchel://` from satcheld beside git (git daemon), rsync (daemon, -a and
# -az), casync (with seed), ostree (pull over HTTP) and a plain tar.zst
# over HTTP, all in one run of ../shared/bench/run_all.sh, every byte
# counted by its relay. Then N mirrors pull v1 from one satcheld at once
# while its memory is sampled.
#
# usage: sh tests/bench/sync.sh [--scale S] [--runs N] [--data DIR]
#        [--peers "git rsync casync ostree http_tar satchel"] [--mirrors N]
#        [--satchel-bin DIR]   (satchel and satcheld from DIR; no build)
# Writes DIR/sync-S/RESULTS-sync.md (summary against the targets) and
# DIR/sync-S/RESULTS-peers.md (the harness's full table).
# Targets (issue 4): initial mirror wall no worse than `rsync -az` and git,
# bytes within 1.02x of the tree's tar | zstd -3; update bytes no more than
# the changed files' zstd -3 size; daemon under 64 MB while 50 mirrors pull.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
args="$*"
scale=1.0
runs=1
data=/var/tmp/satchel-bench
peers="git rsync casync ostree http_tar satchel"
mirrors=50
bin=
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--peers) peers=$2; shift 2 ;;
	--mirrors) mirrors=$2; shift 2 ;;
	--satchel-bin) bin=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
bench_shared run_all.sh
. "$top/tests/packages.sh"
install_packages $SATCHEL_BUILD_PACKAGES python3 rsync casync ostree nginx curl

if [ -n "$bin" ]; then
	build=$(cd "$bin" && pwd)
else
	build="$top/_build/bench"
	bench_build "$build" satchel satcheld
fi
export SATCHEL_BIN="$build"

h="$data/sync-$scale"
mkdir -p "$h"
# Reuse the corpus the other benchmarks generated (same generator, seed 42).
if [ ! -e "$h/corpus" ] && [ -f "$data/corpus-$scale/manifest.json" ]; then
	ln -s "$data/corpus-$scale" "$h/corpus"
fi

echo "== run_all.sh: $peers ($runs run(s), scale $scale)"
EXTRA_PEERS="$top/tests/bench/peers" "$shared/run_all.sh" --scale "$scale" \
    --runs "$runs" --data "$h" --peers "$peers" --no-serve \
    --out "$h/RESULTS-peers.md"
work="$h/work"

# The content's zstd -3 size, as the issue defines it: the v1 tree as one
# tar.zst (the harness's http_tar peer serves the same bytes).
zsize=$(tar -C "$h/corpus/v1" --sort=name --numeric-owner -cf - . | zstd -3 -T0 -q | wc -c)

mirror_line=
if [ "$mirrors" -gt 0 ] && [ -d "$work/satchel/srv/o1" ]; then
	echo "== $mirrors mirrors pull v1 from one satcheld at once"
	m="$h/mirrors"
	rm -rf "$m"
	mkdir -p "$m"
	"$build/satcheld" --store "$work/satchel/srv/o1" --sync-listen 127.0.0.1:0 \
	    $( [ "$(id -u)" -eq 0 ] && echo --user root ) \
	    --port-file "$m/port" --max-connections $((mirrors + 8)) 2>"$m/daemon.log" &
	dpid=$!
	port=$(bench_port "$m/port")
	t0=$(date +%s.%N)
	i=1
	pids=
	while [ $i -le "$mirrors" ]; do
		"$build/satchel" pull "satchel://127.0.0.1:$port" --store "$m/s$i" \
		    >"$m/pull$i.log" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Sample the daemon's resident memory while the pulls run (bounded:
	# at most 1800 s); VmHWM is the kernel's own peak.
	peak=0
	n=0
	while [ $n -lt 9000 ]; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status")
		[ "$rss" -gt "$peak" ] && peak=$rss
		alive=0
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
		[ $alive = 0 ] && break
		sleep 0.2
		n=$((n + 1))
	done
	ok=0
	for p in $pids; do wait "$p" && ok=$((ok + 1)); done
	wall=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dpid/status")
	kill -TERM "$dpid"
	wait "$dpid" || true
	# Every mirror must hold the release, checked byte for byte once.
	"$build/satchel" fsck "$m/s1" >/dev/null 2>&1 && fsck1=ok || fsck1=FAILED
	mirror_line="$mirrors concurrent \`satchel pull\` of v1 from one satcheld: $ok of $mirrors succeeded in $wall s (mirror 1 fsck: $fsck1); daemon VmHWM $(awk -v k="$hwm" 'BEGIN { printf "%.1f MB", k / 1024 }') (sampled VmRSS peak $(awk -v k="$peak" 'BEGIN { printf "%.1f MB", k / 1024 }')); target < 64 MB."
	rm -rf "$m"
fi

python3 - "$work" "$h/corpus" "$zsize" "$h/RESULTS-sync.md" \
    "sh tests/bench/sync.sh${args:+ $args}" \
    "$mirror_line" <<'PY'
import json, os, statistics, sys
work, corpus, zsize, out, cmd, mline = sys.argv[1:]
zsize = int(zsize)
res = [json.loads(l) for l in open(os.path.join(work, "results.jsonl")) if l.strip()]
res = [r for r in res if r["peer"] != "calibration"]
ch = json.load(open(os.path.join(work, "changed.json")))
hw = os.path.join(work, "satchel-daemon.jsonl")
hw = [json.loads(l) for l in open(hw)] if os.path.exists(hw) else []
sysinfo = open(os.path.join(work, "sysinfo.txt")).read().strip()
peers = []
for r in res:
    if r["peer"] not in peers:
        peers.append(r["peer"])
def med(p, s, k):
    v = [r[k] for r in res if r["peer"] == p and r["scenario"] == s and r[k] is not None]
    return statistics.median(v) if v else None
def ok(p, s):
    v = [r for r in res if r["peer"] == p and r["scenario"] == s]
    return "✓" if v and all(r["verified"] for r in v) else "✗"
chz = ch["changed_bytes_compressed"]
L = [f"Mirror of the {ch['v1_bytes'] / 1e6:.1f} MB corpus ({ch['v1_files']} files), "
     f"then the v1→v2 update ({ch['added']} added, {ch['modified']} modified, "
     f"{ch['deleted']} deleted), over loopback through one counting relay; "
     f"median of {len({r['run'] for r in res})} run(s). "
     f"MB down = bytes server→client. v1 as tar | zstd -3: {zsize / 1e6:.2f} MB; "
     f"changed files, each zstd -3: {chz / 1e6:.2f} MB.",
     "", f"Command: `{cmd}`", "", "Machine/tools: " + sysinfo.replace("\n", "; ").replace("wrk line, ", ""), "",
     "| peer | initial: MB down | × tar.zst | wall s | update: MB down | × changed zstd | wall s | ok |",
     "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :-: |"]
for p in peers:
    fb, fw = med(p, "full-v1", "bytes_down"), med(p, "full-v1", "wall_s")
    ub, uw = med(p, "update-v1v2", "bytes_down"), med(p, "update-v1v2", "wall_s")
    f = lambda x, d: "" if x is None else d(x)
    L.append(f"| {p} | {f(fb, lambda x: '%.2f' % (x / 1e6))} | {f(fb, lambda x: '%.3f' % (x / zsize))} | "
             f"{f(fw, lambda x: '%.2f' % x)} | {f(ub, lambda x: '%.2f' % (x / 1e6))} | "
             f"{f(ub, lambda x: '%.3f' % (x / chz))} | {f(uw, lambda x: '%.2f' % x)} | "
             f"{ok(p, 'full-v1')}{ok(p, 'update-v1v2')} |")
L.append("")
if hw:
    L.append("satcheld peak resident memory (VmHWM, one daemon per step): " + ", ".join(
        f"run {h['run']} {h['scenario']} {h['daemon_vmhwm_kb'] / 1024:.1f} MB" for h in hw) + ".")
if mline:
    L.append("")
    L.append(mline)
sat = "satchel"
if sat in peers:
    L.append("")
    L.append("Targets (issue 4):")
    fw = med(sat, "full-v1", "wall_s"); fb = med(sat, "full-v1", "bytes_down")
    ub = med(sat, "update-v1v2", "bytes_down")
    for peer in ("rsync -az", "git"):
        pw = med(peer, "full-v1", "wall_s")
        if pw and fw:
            L.append(f"- initial wall vs {peer}: {fw:.2f} s vs {pw:.2f} s = {fw / pw:.2f}x "
                     f"({'met' if fw <= pw else 'NOT met'}; target ≤ 1.00x)")
    if fb:
        L.append(f"- initial bytes vs tar | zstd -3: {fb / zsize:.3f}x "
                 f"({'met' if fb <= 1.02 * zsize else 'NOT met'}; target ≤ 1.02x)")
    if ub:
        L.append(f"- update bytes vs changed files' zstd -3: {ub / chz:.3f}x "
                 f"({'met' if ub <= chz else 'NOT met'}; target ≤ 1.00x)")
open(out, "w").write("\n".join(L) + "\n")
PY
cat "$h/RESULTS-sync.md"
echo "(written to $h/RESULTS-sync.md; full table in $h/RESULTS-peers.md)"
