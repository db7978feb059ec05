#!/bin/sh
# Benchmark (not a pass/fail test) of updates only (issue 6): what a
# mirror holding one release downloads, and how long it takes, to get the
# next, with `satchel pull satchel://` from satcheld beside git fetch (git
# daemon), rsync -a/-az (daemon), casync extract with a seed and ostree
# pull (object by object and with a static delta), every byte counted by
# the shared harness's relay, set against the update's floor
# (tests/bench/floor.py). Two updates of the shared 250 MB corpus
# (gen_corpus.py, seed 42):
#   1  v1 -> v2 as gen_corpus.py makes it (pages edited, added and
#      deleted, images replaced, a PDF edited);
#   2  v2 -> v3, hand-made by tests/bench/handmade.py: three lessons
#      rewritten, one video re-encoded, one PDF corrected (4 KiB).
#
# usage: sh tests/bench/update.sh [--scale S] [--runs N] [--data DIR]
#        [--peers "git rsync casync ostree satchel"]
#        [--satchel-bin DIR]   (satchel and satcheld from DIR; no build)
#        [--report-only]       (only rewrite RESULTS-update.md from the
#                              last run's data)
# Writes DIR/update-S/RESULTS-update.md (both updates against the targets)
# and each update's full harness table in DIR/update-S/uN/RESULTS-peers.md.
# Targets (issue 6), per update: satchel's bytes down no more than the
# best peer's (the peer with the fewest), within 1.1x of the floor, and
# its wall time no worse than that best peer's.
#
# How update 2 runs through the shared harness, which only knows v1 -> v2:
# run_all.sh is called once per update with a data directory of its own,
# whose corpus/ holds that update's old tree as v1 and new tree as v2.
# For update 1 corpus/ is a symlink to DIR/corpus-S, as in sync.sh. For
# update 2 corpus/ is a real directory: v1 a hard-linked copy (cp -al)
# of DIR/corpus-S/v2, v2 the v3 tree handmade.py makes from it (unchanged
# files hard links again, changed ones new inodes), v1.sha256/v2.sha256
# their listings, and a manifest.json with the corpus's seed and scale so
# run_all.sh takes it as its own instead of regenerating. So every peer
# script, satchel's included, runs unmodified: real directories (not
# symlinks, which the satchel peer's `cp -R` would copy as a link), the
# same prep/measure/verify, and no space for two more copies of 250 MB.
# Each run_all.sh also measures its full-v1 step (the peers need the old
# release on the client before an update); only update-v1v2 is reported.
# Time at scale 1.0: about 30 min on 2 cores, 15 of them ostree's static
# delta generation over update 2's re-encoded 42 MB video; 3 min at 0.1.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/bench/lib.sh"
args="$*"
scale=1.0
runs=1
data=/var/tmp/satchel-bench
peers="git rsync casync ostree satchel"
bin=
report_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--peers) peers=$2; shift 2 ;;
	--satchel-bin) bin=$2; shift 2 ;;
	--report-only) report_only=1; shift ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
bench_shared run_all.sh
mkdir -p "$data"
data=$(cd "$data" && pwd)
h="$data/update-$scale"

# measure: builds or finds satchel, makes update 2's trees, the floors,
# then one run_all.sh per update; records the command and revision in
# $h/run.txt for the report.
measure()
{
	. "$top/tests/packages.sh"
	install_packages $SATCHEL_BUILD_PACKAGES python3 rsync casync ostree \
	    nginx curl
	rev=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
	if [ -n "$bin" ]; then
		build=$(cd "$bin" && pwd)
		rev="binaries from $build (tree $rev)"
	else
		build="$top/_build/bench"
		bench_build "$build" satchel satcheld
		rev="$rev, built in $build"
	fi
	export SATCHEL_BIN="$build"
	bench_corpus "$data" "$scale"
	mkdir -p "$h/u1" "$h/u2"
	printf '%s\n%s\n' "sh tests/bench/update.sh${args:+ $args}" "$rev" \
	    > "$h/run.txt"
	# The machine may be shared: its load beside the wall times.
	echo "load average at the start $(cut -d' ' -f1-3 /proc/loadavg)" \
	    >> "$h/run.txt"

	# Update 1: the corpus itself.
	[ -e "$h/u1/corpus" ] || ln -s "$corpus" "$h/u1/corpus"

	# Update 2: made afresh each time (seconds; deterministic), so it
	# follows the corpus and handmade.py as they are now.
	echo "== making v3 (tests/bench/handmade.py)"
	c2="$h/u2/corpus"
	rm -rf "$c2"
	mkdir -p "$c2"
	cp -al "$corpus/v2" "$c2/v1" 2>/dev/null || cp -a "$corpus/v2" "$c2/v1"
	cp "$corpus/v2.sha256" "$c2/v1.sha256"
	python3 "$top/tests/bench/handmade.py" --shared "$shared" \
	    --old "$c2/v1" --out "$c2/v2" \
	    --base-manifest "$corpus/manifest.json" \
	    --manifest "$c2/handmade.json"
	python3 "$shared/treehash.py" list "$c2/v2" > "$c2/v2.sha256"
	cp "$c2/handmade.json" "$c2/manifest.json"

	# The floors before any peer runs, so no zstd -19 competes with a
	# measured step for the two cores.
	for u in u1 u2; do
		echo "== floor of $u (tests/bench/floor.py)"
		python3 "$top/tests/bench/floor.py" --shared "$shared" \
		    "$h/$u/corpus/v1" "$h/$u/corpus/v2" > "$h/$u/floor.json"
	done

	for u in u1 u2; do
		echo "== $u: run_all.sh: $peers ($runs run(s), scale $scale)"
		EXTRA_PEERS="$top/tests/bench/peers" "$shared/run_all.sh" \
		    --scale "$scale" --runs "$runs" --data "$h/$u" \
		    --peers "$peers" --no-serve --out "$h/$u/RESULTS-peers.md"
	done
	echo "at the end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$h/run.txt"
}

[ "$report_only" = 1 ] || measure
python3 - "$h" <<'PY'
import json, os, statistics, sys
h = sys.argv[1]
try:
    run = open(os.path.join(h, "run.txt")).read().splitlines()
except OSError:
    run = []
run += ["(not recorded)"] * (2 - len(run))
cmd, rev, loadavg = run[0], run[1], "; ".join(run[2:])
MB = 1e6
SAT = "satchel"


def load(u):
    w = os.path.join(h, u, "work")
    res = [json.loads(l) for l in open(os.path.join(w, "results.jsonl")) if l.strip()]
    return {"res": [r for r in res if r["peer"] != "calibration"],
            "ch": json.load(open(os.path.join(w, "changed.json"))),
            "floor": json.load(open(os.path.join(h, u, "floor.json"))),
            "man": json.load(open(os.path.join(h, u, "corpus", "manifest.json"))),
            "sys": open(os.path.join(w, "sysinfo.txt")).read().strip()}


def med(res, p, k):
    v = [r[k] for r in res if r["peer"] == p and r["scenario"] == "update-v1v2"
         and r[k] is not None]
    return statistics.median(v) if v else None


def ok(res, p):
    # the update counts only if the client's initial release was right too
    v = [r for r in res if r["peer"] == p]
    return bool(v) and all(r["verified"] for r in v) and \
        any(r["scenario"] == "update-v1v2" for r in v)


def mb(x):
    return "" if x is None else "%.3f" % (x / MB)


def section(n, title, d, L):
    res, ch, fl = d["res"], d["ch"], d["floor"]
    peers = []
    for r in res:
        if r["peer"] not in peers:
            peers.append(r["peer"])
    nruns = len({r["run"] for r in res})
    L += [f"## Update {n}: {title}", ""]
    if n == 2:
        m = d["man"]
        L.append(f"Hand-made by tests/bench/handmade.py from v2: lessons "
                 f"{', '.join(m['lessons'])} rewritten (every page new text), "
                 f"{m['video']['path']} re-encoded ({m['video']['old_size'] / MB:.1f} → "
                 f"{m['video']['new_size'] / MB:.1f} MB of new bytes), "
                 f"{m['pdf_edit']['path']} corrected ({m['pdf_edit']['length']} bytes "
                 f"at offset {m['pdf_edit']['offset']}).")
        L.append("")
    L.append(f"{ch['added']} files added, {ch['modified']} modified, {ch['deleted']} deleted; "
             f"{ch['changed_bytes'] / MB:.2f} MB changed ({ch['changed_bytes_compressed'] / MB:.2f} MB "
             f"as each file's zstd -3); old release {ch['v1_bytes'] / MB:.1f} MB in "
             f"{ch['v1_files']} files. Median of {nruns} run(s); MB down = bytes server→client "
             f"through the relay.")
    L += ["", "Floor (tests/bench/floor.py, zstd -19): what a client holding the old release "
          "must still be sent, each part at its best; the joint floor (information, not a "
          "target) sends the modified and added files as one stream, so files that share "
          "words share a window, as rsync -z's single stream does.", "",
          "| part | files | raw MB | floor MB |", "| --- | ---: | ---: | ---: |"]
    for k, what in (("replaced", "replaced, incompressible (raw)"),
                    ("patched", "modified (--patch-from old)"),
                    ("added", "added (tar \\| zstd --long)")):
        p = fl[k]
        L.append(f"| {what} | {p['files']} | {p['raw_bytes'] / MB:.3f} | {p['bytes'] / MB:.3f} |")
    L.append(f"| data | | | {fl['data_bytes'] / MB:.3f} |")
    L.append(f"| metadata (listing, --patch-from old; {fl['deleted']['files']} deleted) | "
             f"{fl['metadata']['files']} | {fl['metadata']['raw_bytes'] / MB:.3f} | "
             f"{fl['metadata']['bytes'] / MB:.3f} |")
    L.append(f"| **floor** | | | **{fl['floor_bytes'] / MB:.3f}** |")
    L.append(f"| (joint floor: patched and added files as one stream) | {fl['joint']['files']} | | "
             f"({fl['joint']['floor_bytes'] / MB:.3f}) |")
    floor = fl["floor_bytes"]
    good = [p for p in peers if p != SAT and ok(res, p) and med(res, p, "bytes_down") is not None]
    best = min(good, key=lambda p: med(res, p, "bytes_down")) if good else None
    fast = min(good, key=lambda p: med(res, p, "wall_s")) if good else None
    bb = med(res, best, "bytes_down") if best else None
    L += ["", f"| tool | MB down | × floor | × best peer | wall s | client CPU s | ok |",
          "| --- | ---: | ---: | ---: | ---: | ---: | :-: |"]
    for p in peers:
        b, w, c = med(res, p, "bytes_down"), med(res, p, "wall_s"), med(res, p, "cpu_s")
        L.append(f"| {p}{' (best peer)' if p == best else ''} | {mb(b)} | "
                 f"{'' if b is None else '%.2f' % (b / floor)} | "
                 f"{'' if b is None or not bb else '%.2f' % (b / bb)} | "
                 f"{'' if w is None else '%.2f' % w} | {'' if c is None else '%.2f' % c} | "
                 f"{'✓' if ok(res, p) else '✗'} |")
    L.append("")
    verdict = {}
    sb, sw = med(res, SAT, "bytes_down"), med(res, SAT, "wall_s")
    if SAT not in peers or sb is None or not ok(res, SAT):
        L.append("satchel did not complete this update verified: no verdict.")
        return {}
    L.append(f"Targets (issue 6), update {n}:")
    if best:
        bw = med(res, best, "wall_s")
        verdict["bytes ≤ best peer"] = sb <= bb
        L.append(f"- bytes vs the best peer ({best}): {sb / MB:.3f} MB vs {bb / MB:.3f} MB = "
                 f"{sb / bb:.2f}x ({'met' if sb <= bb else 'NOT met'}; target ≤ 1.00x)")
    verdict["bytes ≤ 1.1 × floor"] = sb <= 1.1 * floor
    L.append(f"- bytes vs the floor: {sb / MB:.3f} MB vs {floor / MB:.3f} MB = {sb / floor:.2f}x "
             f"({'met' if sb <= 1.1 * floor else 'NOT met'}; target ≤ 1.10x)")
    jf = fl["joint"]["floor_bytes"]
    L.append(f"- (for information) bytes vs the joint floor: {sb / jf:.2f}x")
    if best and bb < floor:
        L.append(f"- (for information) {best} sends less than the floor: its one compressed "
                 f"stream spans the files, which the floor's per-file patches cannot; the "
                 f"joint floor does ({bb / jf:.2f}x of it)")
    if best:
        verdict["wall ≤ best peer's"] = sw <= bw
        L.append(f"- wall vs the best peer ({best}): {sw:.2f} s vs {bw:.2f} s = {sw / bw:.2f}x "
                 f"({'met' if sw <= bw else 'NOT met'}; target ≤ 1.00x)")
        if fast and fast != best:
            fw = med(res, fast, "wall_s")
            L.append(f"- (for information) the fastest peer, {fast}: {fw:.2f} s; satchel "
                     f"{sw / fw:.2f}x of it")
    L.append("")
    return verdict


u1, u2 = load("u1"), load("u2")
m1 = u1["man"]
L = [f"# Updates: satchel against its peers and the floor (issue 6)", "",
     f"Two updates of the shared corpus (gen_corpus.py, seed {m1['seed']}, scale {m1['scale']}), "
     "each pulled by a client holding the old release, over loopback through one counting relay "
     "per step (../shared/bench/run_all.sh, one data directory per update).", "",
     f"Command: `{cmd}`", "",
     f"satchel: {rev}", "",
     "Machine/tools: " + u1["sys"].replace("\n", "; ").replace("wrk line, ", "")
     + (f"; {loadavg} (1, 5, 15 min)" if loadavg else ""), ""]
v1 = section(1, "v1 → v2 (gen_corpus.py)", u1, L)
v2 = section(2, "v2 → v3 (hand-made)", u2, L)
if v1 or v2:
    L += ["## Verdict", "", "| target | update 1 | update 2 |", "| --- | :-: | :-: |"]
    f = lambda v, k: "" if k not in v else ("met" if v[k] else "NOT met")
    for k in ("bytes ≤ best peer", "bytes ≤ 1.1 × floor", "wall ≤ best peer's"):
        L.append(f"| {k} | {f(v1, k)} | {f(v2, k)} |")
out = os.path.join(h, "RESULTS-update.md")
open(out, "w").write("\n".join(L) + "\n")
PY
cat "$h/RESULTS-update.md"
echo "(written to $h/RESULTS-update.md; full tables in $h/u1/RESULTS-peers.md and $h/u2/RESULTS-peers.md)"
