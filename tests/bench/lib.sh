# tests/bench/lib.sh: sourced by the benchmark scripts (build-verify.sh,
# mirrors.sh, store.sh, sync.sh), which set `top` (the source tree) first.
# What they all do the same way before they measure: find the shared
# harness, build satchel with optimisation, make a bench-channel
# repository and a trust policy, wait for satcheld's port, and sum up a
# file of GNU time lines. POSIX sh.

# bench_shared FILE: sets `shared` to the shared benchmark harness
# (../shared/bench beside the repository, or beside a worktree's parent;
# BENCH_SHARED or SHARED_BENCH first when set) that holds FILE, or exits.
bench_shared()
{
	for shared in "${BENCH_SHARED:-}" "${SHARED_BENCH:-}" \
	    "$top/../shared/bench" "$top/../../shared/bench"; do
		[ -n "$shared" ] && [ -e "$shared/$1" ] && return 0
	done
	echo "no $1 in ../shared/bench (set BENCH_SHARED)" >&2
	exit 1
}

# bench_build BUILD TARGET...: makes TARGETs (satchel, satcheld) in the
# build directory BUILD, configured with CFLAGS="-O2 -g" the first time
# (the sanitizer build of `make check` would measure the sanitizers).
bench_build()
{
	_b=$1
	shift
	mkdir -p "$_b"
	[ -x "$top/configure" ] || (cd "$top" && sh autogen.sh >/dev/null 2>&1)
	[ -f "$_b/Makefile" ] ||
		(cd "$_b" && "$top/configure" CFLAGS="-O2 -g" >/dev/null)
	make -C "$_b" -j2 "$@" >/dev/null
}

# bench_conf REPO SERIAL LABEL: bundle.conf of the bench-channel bundle in
# REPO (a copy of a corpus tree), and a lesson.conf in each lesson naming
# its first file as the entry.
bench_conf()
{
	cat > "$1/bundle.conf" <<CONF
name = bench-channel
serial = $2
label = $3
title = Benchmark learning channel
language = en
license = CC-BY-4.0
CONF
	for _d in "$1"/lessons/*/; do
		printf 'entry = %s\n' \
		    "$(cd "$_d" && ls | grep -v lesson.conf | head -n 1)" \
		    > "$_d/lesson.conf"
	done
}

# bench_policy SATCHEL DIR: keys DIR/root.key, DIR/cat.key, DIR/pub.key and
# a trust policy DIR/policy in which cat signs catalogs and pub may
# publish bench-*.
bench_policy()
{
	for _k in root cat pub; do
		"$1" keygen --force "$2/$_k.key" >/dev/null 2>&1
	done
	"$1" trust new --root-key "$2/root.key" -o "$2/policy" >/dev/null
	"$1" trust add-catalog --root-key "$2/root.key" "$2/policy" \
	    "$2/cat.key.pub" >/dev/null
	"$1" trust add-publisher --root-key "$2/root.key" "$2/policy" \
	    "$2/pub.key.pub" 'bench-*' >/dev/null
}

# bench_port FILE: waits up to 10 s for satcheld's port file FILE and
# prints the sync port (nothing if it never came).
bench_port()
{
	_i=0
	while [ ! -s "$1" ] && [ "$_i" -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	awk '$1 == "sync" { print $2 }' "$1" 2>/dev/null
}

# bench_summary FILE: FILE holds one "SECONDS MAX_RSS_KB" line a run (GNU
# time -f '%e %M'); prints "MEDIAN_SECONDS MAX_RSS_KB".
bench_summary()
{
	_med=$(sort -n "$1" |
	    awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
	_rss=$(awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { print m }' "$1")
	echo "$_med $_rss"
}
