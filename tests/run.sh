#!/bin/sh
# Runs every Satchel test on a fresh Debian 12 machine: installs what is
# missing, builds with AddressSanitizer and UndefinedBehaviorSanitizer,
# runs the unit and integration tests (each TAP case counted), checks that
# `make distcheck` passes, and ends with the line "N passed, N failed".
# Exit status: 0 when nothing failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. "$top/tests/packages.sh"

install_packages $SATCHEL_BUILD_PACKAGES $SATCHEL_TEST_PACKAGES || exit 1

# The browser test's playwright-core, the version tests/browser pins: npm
# ci when it is missing or another. Should that fail, browser.sh fails
# (SATCHEL_BROWSER_REQUIRED) rather than skip; the other tests still run.
browser="$top/tests/browser"
if ! node -e 'const d = process.argv[1];
	process.exit(require(d + "/node_modules/playwright-core/package.json").version ===
	    require(d + "/package.json").dependencies["playwright-core"] ? 0 : 1)' \
    "$browser" 2>/dev/null; then
	printf '== npm ci in %s\n' "$browser"
	mkdir -p "$top/_build"
	(cd "$browser" && npm ci --no-audit --no-fund) >"$top/_build/npm-ci.out" 2>&1 ||
		{ tail -20 "$top/_build/npm-ci.out"; echo "error: npm ci in $browser failed" >&2; }
fi
SATCHEL_BROWSER_REQUIRED=1
SATCHEL_NODE_MODULES="$browser/node_modules"
export SATCHEL_BROWSER_REQUIRED SATCHEL_NODE_MODULES

jobs=$(nproc 2>/dev/null || echo 2)
build="$top/_build/sanitize"
log() { printf '== %s\n' "$*"; }

log "autogen"
./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$build"
log "configure (ASan + UBSan) in $build"
(cd "$build" && "$top/configure" --enable-sanitizers CFLAGS="-g -O1" >configure.out 2>&1) ||
	{ cat "$build/configure.out"; echo "0 passed, 1 failed"; exit 1; }
log "make"
make -C "$build" -j"$jobs" >"$build/make.out" 2>&1 ||
	{ tail -50 "$build/make.out"; echo "0 passed, 1 failed"; exit 1; }
log "make check"
make -C "$build" -j"$jobs" check >"$build/check.out" 2>&1
check_rc=$?

passed=0
failed=0
for trs in $(find "$build/tests" -name '*.trs' | sort); do
	p=$(grep -cE '^:test-result: (PASS|XFAIL|SKIP)' "$trs")
	f=$(grep -cE '^:test-result: (FAIL|XPASS|ERROR)' "$trs")
	passed=$((passed + p))
	failed=$((failed + f))
	name=${trs#"$build"/}
	name=${name%.trs}
	if [ "$f" -gt 0 ]; then
		printf 'FAIL %s (%d passed, %d failed)\n' "$name" "$p" "$f"
		grep -E '^(not ok|#)' "${trs%.trs}.log" | head -40 | sed 's/^/    /'
	else
		printf 'ok   %s (%d)\n' "$name" "$p"
	fi
done
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	# The harness failed without a failing case: a build error, a crash.
	tail -40 "$build/check.out"
	failed=$((failed + 1))
fi

if [ "${SATCHEL_SKIP_DISTCHECK:-}" != 1 ]; then
	log "make distcheck"
	if make -C "$build" -j"$jobs" distcheck >"$build/distcheck.out" 2>&1; then
		printf 'ok   distcheck\n'
		passed=$((passed + 1))
	else
		tail -40 "$build/distcheck.out"
		printf 'FAIL distcheck\n'
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
