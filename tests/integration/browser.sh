#!/bin/sh
# browser.sh: the learners' web library in a real browser. It builds the
# three example bundles from git, publishes them into a store, starts
# satcheld --http-listen 127.0.0.1:0 on it, and runs
# tests/browser/library.spec.mjs: headless Chromium (Debian's chromium,
# driven by playwright-core) opens the library in Chinese and in English,
# searches in Chinese with the keyboard, opens a bundle and a lesson (its
# image loaded, its style.css applied), downloads a lesson zip, uses the
# pages with the keyboard and without JavaScript, and checks them at
# 360 px (nothing wider than the screen) and for WCAG 2.1 AA basics
# (lang, alt, labels, contrast). Each of its TAP lines is a case here.
# Then the downloaded zip is read back with python3's zipfile (every CRC
# checked) and compared, file by file, with the bundle's sources.
#
# Screenshots (PNG, full page) of the library, the search results, a
# bundle page and a lesson page at 360 and 1280 px wide are left in
# $SATCHEL_BUILDDIR/tests/artifacts/browser/ (SATCHEL_ARTIFACTS overrides
# it); `make clean` removes them. The build tree is never the source tree
# under tests/run.sh, and .gitignore covers tests/artifacts/ for in-tree
# builds.
#
# Prerequisites: chromium, node and playwright-core (tests/browser/: `npm
# ci` installs the pinned version into tests/browser/node_modules, or
# into the directory SATCHEL_NODE_MODULES names). tests/run.sh installs
# them all and sets SATCHEL_BROWSER_REQUIRED=1, so that a missing piece
# there is a failure; a by-hand `make check` without them skips.
. "$(dirname "$0")/lib.sh"
need python3
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

# missing REASON: a prerequisite is not there: skip, or fail when
# tests/run.sh promised to install it.
missing()
{
	if [ "${SATCHEL_BROWSER_REQUIRED:-0}" = 1 ]; then
		bail_out "$* (tests/run.sh should have installed it)"
	fi
	skip_all "$*"
}

CHROMIUM=${SATCHEL_CHROMIUM:-/usr/bin/chromium}
MODULES=${SATCHEL_NODE_MODULES:-$SATCHEL_SRCDIR/tests/browser/node_modules}
ARTIFACTS=${SATCHEL_ARTIFACTS:-$SATCHEL_BUILDDIR/tests/artifacts/browser}
SPEC=$SATCHEL_SRCDIR/tests/browser/library.spec.mjs
[ -x "$CHROMIUM" ] || missing "no Chromium at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null 2>&1 || missing "node is not installed"
[ -f "$MODULES/playwright-core/package.json" ] ||
	missing "no playwright-core in $MODULES (cd tests/browser && npm ci)"
[ -f "$SPEC" ] || bail_out "$SPEC is missing"

# Chromium under a sanitized satcheld takes longer than the default.
TEST_TIMEOUT=300
cd "$TMP" || bail_out "cannot enter $TMP"

# --- a store with the example bundles ---------------------------------------

make_keys root catalog author
ARCHIVES=
for b in calligraphy-basics family-health-care new-citizen-orientation; do
	make_repo "$b"
	run_satchel build -C "$REPO" --key "$TMP/author.key" -o "$TMP/$b.satchel"
	expect_success "satchel build $b"
	ARCHIVES="$ARCHIVES $TMP/$b.satchel"
done
make_policy "$TMP/policy" "$TMP/catalog.key.pub" "$TMP/author.key.pub" '*'
expect_success "a trust policy for the example bundles"
# shellcheck disable=SC2086 # the archives' paths hold no blanks ($TMP)
make_origin "$TMP/store" "$TMP/policy" "$TMP/catalog.key" $ARCHIVES
expect_success "a store with the three example bundles published"

# --- the daemon ----------------------------------------------------------------

start_satcheld DPID "satcheld --http-listen 127.0.0.1:0" \
    --store "$TMP/store" --http-listen 127.0.0.1:0
# start_satcheld leaves its port file's name in _pf.
HTTP_PORT=$(sed -n 's/^http \([0-9][0-9]*\)$/\1/p' "$_pf")
[ -n "$HTTP_PORT" ] || bail_out "the port file names no http port"
BASE=http://127.0.0.1:$HTTP_PORT

# --- the browser ------------------------------------------------------------------

mkdir -p "$ARTIFACTS" "$TMP/downloads" ||
	bail_out "cannot make $ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
diag "screenshots go to $ARTIFACTS"

# Each "ok"/"not ok" line of the script becomes a case here (numbered
# by lib.sh); its "#" lines pass through as diagnostics. The script
# bounds every wait of its own; timeout bounds the whole.
timeout -k 5 240 env BASE_URL="$BASE" CHROMIUM="$CHROMIUM" \
    MODULES="$MODULES" ARTIFACTS="$ARTIFACTS" DOWNLOADS="$TMP/downloads" \
    node "$SPEC" >"$TMP/spec.out" 2>"$TMP/spec.err"
SPEC_RC=$?
_tap_plan=
_tap_seen=0
while IFS= read -r line; do
	case $line in
	"ok "*)
		ok 0 "browser: $(printf '%s' "$line" | sed 's/^ok [0-9]* *-* *//')"
		_tap_seen=$((_tap_seen + 1))
		;;
	"not ok "*)
		ok 1 "browser: $(printf '%s' "$line" | sed 's/^not ok [0-9]* *-* *//')"
		_tap_seen=$((_tap_seen + 1))
		;;
	"#"*)
		printf '%s\n' "$line"
		;;
	"Bail out!"*)
		diag "$line"
		;;
	1..*)
		_tap_plan=${line#1..}
		;;
	esac
done <"$TMP/spec.out"
if [ "$SPEC_RC" -eq 0 ] && [ "$_tap_plan" = "$_tap_seen" ] &&
    [ "$_tap_seen" -gt 0 ]; then
	ok 0 "the browser script ran to its end ($_tap_plan cases)"
else
	ok 1 "the browser script ran to its end"
	diag "exit status $SPEC_RC, plan '$_tap_plan', $_tap_seen cases seen"
	tail -n 30 "$TMP/spec.err" | diag
fi

# --- the downloaded lesson zip ----------------------------------------------------

# The zip holds README.txt, the lesson's own files and every file
# outside lessons/ (lib/lesson-zip.h), each byte for byte as in the
# bundle's sources, and nothing else.
ZIP=$TMP/downloads/family-health-care-01-handwashing.zip
OUT=$(python3 - "$ZIP" "$EXAMPLES/family-health-care" \
    lessons/01-handwashing <<'PYEOF' 2>&1
import os, sys, zipfile
path, src, lesson = sys.argv[1:4]
want = {}
for root, dirs, files in os.walk(src):
    for f in files:
        full = os.path.join(root, f)
        rel = os.path.relpath(full, src)
        if rel.startswith("lessons/") and not rel.startswith(lesson + "/"):
            continue
        with open(full, "rb") as fh:
            want[rel] = fh.read()
z = zipfile.ZipFile(path)
bad = z.testzip()
if bad is not None:
    sys.exit("bad CRC: " + bad)
got = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
if "README.txt" not in got:
    sys.exit("no README.txt")
readme = got.pop("README.txt").decode("utf-8")
if "lessons/01-handwashing/index.html" not in readme:
    sys.exit("README.txt does not name the page to open:\n" + readme)
errs = []
for k in sorted(set(want) | set(got)):
    if k not in got:
        errs.append("missing from the zip: " + k)
    elif k not in want:
        errs.append("not in the bundle: " + k)
    elif got[k] != want[k]:
        errs.append("differs from the bundle: " + k)
if errs:
    sys.exit("\n".join(errs))
print("%d files match" % len(want))
PYEOF
)
like "$OUT" "/^[0-9]+ files match$/" \
    "the lesson zip's CRCs check and its files are the bundle's, byte for byte"

kill_recorded "$DPID"
no_sanitizer "$DLOG"
for f in "$ARTIFACTS"/*.png; do
	[ -e "$f" ] && diag "screenshot: $f"
done
done_testing
