# tests/integration/lib.sh: sourced by every integration test.
#
# It gives each test a private temporary directory (removed on exit), a
# fixed git identity that ignores the user's and the system's git
# configuration, the programs under test wrapped in `timeout`, helpers to
# start background programs and kill them by recorded PID, and TAP output:
# one "ok N - ..." or "not ok N - ..." line per case, diagnostics as "# "
# lines, and the plan printed last by done_testing.
#
# Environment (set by `make check`; guessed for a by-hand run from the
# source tree):
#   SATCHEL_SRCDIR    the source tree (examples/ lives there)
#   SATCHEL_BUILDDIR  the build tree holding ./satchel and ./satcheld
#   SATCHEL_KEEP_TMP  when 1, keep the temporary directory and say where
#
# POSIX sh only (Debian runs these with dash).

set -u

# --- where things are ------------------------------------------------------

if [ -z "${SATCHEL_SRCDIR:-}" ]; then
	SATCHEL_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
if [ -z "${SATCHEL_BUILDDIR:-}" ]; then
	SATCHEL_BUILDDIR=$SATCHEL_SRCDIR
fi
SATCHEL_SRCDIR=$(cd "$SATCHEL_SRCDIR" && pwd)
SATCHEL_BUILDDIR=$(cd "$SATCHEL_BUILDDIR" && pwd)
SATCHEL=$SATCHEL_BUILDDIR/satchel
SATCHELD=$SATCHEL_BUILDDIR/satcheld
EXAMPLES=$SATCHEL_SRCDIR/examples/bundles
export SATCHEL_SRCDIR SATCHEL_BUILDDIR

# Every program under test runs under this many seconds of `timeout`.
TEST_TIMEOUT=${TEST_TIMEOUT:-60}

# Sanitizers: leaks are reports too, and any report ends the program with
# a non-zero status. run_* also looks for reports on stderr.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'

# Messages are compared in English and file names may be UTF-8.
LC_ALL=C.UTF-8
LANG=C.UTF-8
export LC_ALL LANG

# --- TAP ----------------------------------------------------------------------

TEST_COUNT=0
TEST_FAILED=0
_PENDING_DIAG=		# failures recorded by also(), reported by the next case

# Prints diagnostics: every line of its arguments (or of stdin) as "# ...".
diag()
{
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | sed 's/^/# /'
	else
		sed 's/^/# /'
	fi
}

# _tap_line OK DESCRIPTION: one numbered result line. A '#' would start a
# TAP directive, so it is spelled out.
_tap_line()
{
	TEST_COUNT=$((TEST_COUNT + 1))
	_desc=$(printf '%s' "$2" | tr '\n#' ' _')
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s\n' "$TEST_COUNT" "$_desc"
	else
		TEST_FAILED=$((TEST_FAILED + 1))
		printf 'not ok %d - %s\n' "$TEST_COUNT" "$_desc"
	fi
}

# ok STATUS DESCRIPTION: passes when STATUS (usually $?) is 0. Anything
# recorded by also() since the last case turns it into a failure.
ok()
{
	_st=$1
	if [ -n "$_PENDING_DIAG" ]; then
		_st=1
	fi
	_tap_line "$_st" "$2"
	_flush_pending
	return 0
}

_flush_pending()
{
	if [ -n "$_PENDING_DIAG" ]; then
		printf '%s' "$_PENDING_DIAG" | diag
		_PENDING_DIAG=
	fi
}

# is GOT EXPECTED DESCRIPTION
is()
{
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "     got: '$1'" "
expected: '$2'"
	fi
}

# isnt GOT UNEXPECTED DESCRIPTION
isnt()
{
	if [ "$1" != "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got '$1', expected anything else"
	fi
}

# like TEXT PATTERN DESCRIPTION: PATTERN is a fixed string, or an extended
# regular expression when it is written as /RE/.
like()
{
	if _matches "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "expected to find: $2" "in:"
		printf '%s\n' "$1" | head -n 30 | diag
	fi
}

# unlike TEXT PATTERN DESCRIPTION
unlike()
{
	if _matches "$1" "$2"; then
		ok 1 "$3"
		diag "did not expect to find: $2" "in:"
		printf '%s\n' "$1" | head -n 30 | diag
	else
		ok 0 "$3"
	fi
}

# _matches TEXT PATTERN: as in like().
_matches()
{
	case $2 in
	/*/)
		_re=${2#/}
		_re=${_re%/}
		printf '%s\n' "$1" | grep -Eq -- "$_re"
		;;
	*)
		printf '%s\n' "$1" | grep -Fq -- "$2"
		;;
	esac
}

# also DESCRIPTION COMMAND...: an extra condition of the next case. If
# COMMAND fails, the next ok/is/like/expect_* reports not ok and says why.
also()
{
	_what=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		_PENDING_DIAG="$_PENDING_DIAG$_what: failed
"
	fi
}

# skip DESCRIPTION REASON: a case that cannot run here.
skip()
{
	TEST_COUNT=$((TEST_COUNT + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TEST_COUNT" "$1" "$2"
}

# skip_all REASON: the whole test cannot run here (a prerequisite that
# truly cannot exist on this machine, never a failure of ours).
skip_all()
{
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

# bail_out REASON: something that makes every later case meaningless
# (the program under test is missing); the TAP driver reports an error.
bail_out()
{
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# done_testing: the plan, printed last (TAP allows it at the end).
done_testing()
{
	printf '1..%d\n' "$TEST_COUNT"
	if [ "$TEST_FAILED" -gt 0 ]; then
		diag "$TEST_FAILED of $TEST_COUNT cases failed"
	fi
	exit 0
}

# --- temporary directory, background programs ------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/satchel-itest.XXXXXX") ||
	bail_out "cannot create a temporary directory"
_BG_PIDS=
_LIB=$TMP/.lib		# the helpers' own files, out of the tests' way
mkdir "$_LIB"

# satcheld refuses to start as root without --user. These tests run as
# root on CI on purpose (their stores and files are root's), so as root
# SATCHELD is a wrapper that says --user root explicitly; SATCHELD_BIN
# is the program itself (install.sh checks the refusal with it).
SATCHELD_BIN=$SATCHELD
if [ "$(id -u)" -eq 0 ] && [ -x "$SATCHELD_BIN" ]; then
	SATCHELD=$_LIB/satcheld
	printf '#!/bin/sh\nexec "%s" --user root "$@"\n' "$SATCHELD_BIN" \
	    >"$SATCHELD"
	chmod +x "$SATCHELD"
fi

# bg_start PIDVAR COMMAND...: starts COMMAND (under timeout) in the
# background, records its PID for kill_recorded and stores it in the
# variable PIDVAR; its stdout and stderr go to the files named by BG_OUT
# and BG_ERR (set anew by every call).
_BG_N=0
bg_start()
{
	_var=$1
	shift
	_BG_N=$((_BG_N + 1))
	BG_OUT=$_LIB/bg.$_BG_N.out
	BG_ERR=$_LIB/bg.$_BG_N.err
	timeout -k 5 "$TEST_TIMEOUT" "$@" >"$BG_OUT" 2>"$BG_ERR" &
	_pid=$!
	_BG_PIDS="$_BG_PIDS $_pid"
	eval "$_var=\$_pid"
}

# bg_wait PID: waits for a program bg_start started to end by itself, sets
# BG_RC to its exit status and forgets its PID (so that kill_recorded
# never signals a reaped, possibly reused, PID).
bg_wait()
{
	wait "$1"
	BG_RC=$?
	_left=
	for _p in $_BG_PIDS; do
		[ "$_p" = "$1" ] || _left="$_left $_p"
	done
	_BG_PIDS=$_left
	return 0
}

# kill_recorded [PID...]: stops the given recorded PIDs, or every one
# bg_start recorded, and waits for them. Never kills anything else.
kill_recorded()
{
	_which=${*:-$_BG_PIDS}
	_left=
	for _p in $_BG_PIDS; do
		_hit=0
		for _q in $_which; do
			[ "$_p" = "$_q" ] && _hit=1
		done
		if [ "$_hit" = 1 ]; then
			_stop_pid "$_p"
		else
			_left="$_left $_p"
		fi
	done
	_BG_PIDS=$_left
	return 0
}

# _stop_pid PID: TERM for PID (timeout, which forwards it to the program)
# and for its process group (timeout leads its own), repeated while either
# lives: a signal can land between fork and exec and be lost, and
# coreutils 9.1's timeout dies without forwarding a TERM that arrives just
# after it forked, leaving its program in the group. After 5 s, KILL.
# The watcher stops signalling PID once wait has reaped it (a flag file
# says so), and the group once it is empty.
_stop_pid()
{
	_done=$_LIB/stopped.$1
	rm -f "$_done"
	(
		_n=0
		_sig=TERM
		while { [ ! -e "$_done" ] && kill -0 "$1"; } 2>/dev/null ||
		    kill -0 "-$1" 2>/dev/null; do
			kill -"$_sig" "-$1" 2>/dev/null
			[ -e "$_done" ] || kill -"$_sig" "$1" 2>/dev/null
			_n=$((_n + 1))
			[ "$_n" -gt 50 ] && _sig=KILL
			sleep 0.1
		done
	) &
	_watch=$!
	wait "$1" 2>/dev/null
	: >"$_done"
	wait "$_watch" 2>/dev/null
	rm -f "$_done"
}

_cleanup()
{
	_rc=$?
	trap - EXIT
	kill_recorded
	if [ "${SATCHEL_KEEP_TMP:-0}" = 1 ]; then
		diag "kept temporary directory $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$_rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- a fixed environment -----------------------------------------------------

# Nothing of the user's: home, git configuration and identity are ours.
HOME=$TMP/home
mkdir -p "$HOME"
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=$HOME/.gitconfig
XDG_CONFIG_HOME=$HOME/.config
GIT_AUTHOR_NAME='Satchel Test'
GIT_AUTHOR_EMAIL='author@satchel.test'
GIT_COMMITTER_NAME='Satchel Test'
GIT_COMMITTER_EMAIL='author@satchel.test'
TZ=UTC
export HOME GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL XDG_CONFIG_HOME TZ
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AUTHOR_DATE GIT_COMMITTER_DATE \
    2>/dev/null || true
# libgit2 (inside satchel) reads $HOME/.gitconfig, not GIT_CONFIG_GLOBAL.
cat >"$GIT_CONFIG_GLOBAL" <<'EOF'
[user]
	name = Satchel Test
	email = author@satchel.test
[init]
	defaultBranch = main
[advice]
	detachedHead = false
EOF

# Commits get fixed, increasing times, so history and archives are the
# same on every run.
_COMMIT_TIME=1700000000

# git_commit DIR MESSAGE [git-commit options...]: commits everything in DIR.
git_commit()
{
	_dir=$1
	_msg=$2
	shift 2
	_COMMIT_TIME=$((_COMMIT_TIME + 3600))
	git -C "$_dir" add -A &&
	GIT_AUTHOR_DATE="@$_COMMIT_TIME +0000" \
	GIT_COMMITTER_DATE="@$_COMMIT_TIME +0000" \
	    git -C "$_dir" commit -q -m "$_msg" "$@"
}

# make_repo NAME [EXAMPLE]: copies examples/bundles/EXAMPLE (default NAME)
# to $TMP/NAME, makes it a git repository on branch main with one commit,
# and sets REPO to its path.
make_repo()
{
	REPO=$TMP/$1
	rm -rf "$REPO"
	cp -R "$EXAMPLES/${2:-$1}" "$REPO" &&
	git -c init.defaultBranch=main init -q "$REPO" &&
	git_commit "$REPO" "Import ${2:-$1}" ||
		bail_out "make_repo $1: cannot create the repository"
}

# set_conf DIR KEY VALUE: sets (or adds) "KEY = VALUE" in DIR/bundle.conf.
set_conf()
{
	_f=$1/bundle.conf
	grep -v "^$2 *=" "$_f" >"$_f.new"
	printf '%s = %s\n' "$2" "$3" >>"$_f.new"
	mv "$_f.new" "$_f"
}

# del_conf DIR KEY: removes the line "KEY = ..." from DIR/bundle.conf.
del_conf()
{
	_f=$1/bundle.conf
	grep -v "^$2 *=" "$_f" >"$_f.new"
	mv "$_f.new" "$_f"
}

# --- killing at random moments (pull.sh, crash.sh) -----------------------

# sigkill PID: SIGKILL for a command bg_start started (and for its process
# group: timeout leads its own), then reaps it: BG_RC is 137 when the
# kill landed, the command's own status when it had already ended.
sigkill()
{
	kill -KILL "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
	bg_wait "$1" 2>/dev/null	# no "Killed" from the shell
	# A child forked between the two kills above (a zombie waiting for
	# init to reap it is no child at work).
	_n=0
	while ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z' &&
	    [ "$_n" -lt 100 ]; do
		kill -KILL "-$1" 2>/dev/null
		sleep 0.01
		_n=$((_n + 1))
	done
}

# delay SEED MAX: a pseudo-random delay in seconds, from 0 to MAX.
delay()
{
	awk -v s="$1" -v d="$2" 'BEGIN { srand(s); printf "%.4f\n", rand() * d }'
}

# --- store helpers (store.sh, pull.sh, expiry.sh) --------------------------

# catalog_serial DIR: the serial of the store's catalog.
catalog_serial()
{
	sed -n 's/^serial //p' "$1/meta/catalog"
}

# flip_byte FILE OFFSET: changes one byte of FILE in place.
flip_byte()
{
	python3 - "$1" "$2" <<'PYEOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x01]))
PYEOF
}

# fingerprint DIR: the SHA-256 of every file of the store DIR but the lock
# (a writer creates it), and a long listing (modes, sizes, times to the
# nanosecond) without the lock, tmp/ and tmp/'s contents (a publish makes
# and removes its staging directory there, which changes tmp/'s time;
# unchanged checks that tmp/ is empty).
fingerprint()
{
	(
		cd "$1" || exit 1
		find . -path ./lock -prune -o -type f -print | LC_ALL=C sort |
		    xargs -r sha256sum
		ls -lR --time-style=full-iso . | awk '
			/^\.\/tmp(\/.*)?:$/ { skip = 1; next }
			/^\..*:$/ { skip = 0 }
			skip { next }
			/ lock$/ || / tmp$/ { next }
			{ print }'
	)
}

# snapshot DIR: remembers DIR's fingerprint for unchanged.
snapshot()
{
	fingerprint "$1" >"$TMP/fp.before"
}

# unchanged DIR: extra conditions of the next case: DIR has the
# fingerprint snapshot took, and its tmp/ is empty.
unchanged()
{
	fingerprint "$1" >"$TMP/fp.after"
	if ! cmp -s "$TMP/fp.before" "$TMP/fp.after"; then
		diag "the store changed:"
		diff "$TMP/fp.before" "$TMP/fp.after" | head -n 20 | diag
	fi
	also "the store is unchanged" cmp -s "$TMP/fp.before" "$TMP/fp.after"
	also "tmp/ is empty" dir_empty "$1/tmp"
}

# out_has TEXT: the last run's stdout holds the fixed string TEXT.
out_has()
{
	printf '%s\n' "$OUT" | grep -Fq -- "$1"
}

# objects DIR: the names of the store's objects (the 64 hex digits their
# path spells), sorted, one a line.
objects()
{
	find "$1/objects" -type f | sed 's|.*/objects/\(..\)/|\1|' | LC_ALL=C sort
}

# archive_hashes FILE: the distinct SHA-256s of the bundle files in the
# archive FILE (not .satchel/), sorted, one a line.
archive_hashes()
{
	python3 - "$1" <<'PYEOF'
import hashlib, io, subprocess, sys, tarfile
raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True,
                     stdout=subprocess.PIPE).stdout
t = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
s = set()
for ti in t:
    if ti.isfile() and not ti.name.startswith(".satchel/"):
        s.add(hashlib.sha256(t.extractfile(ti).read()).hexdigest())
print("\n".join(sorted(s)))
PYEOF
}

# --- running the programs -----------------------------------------------------

# run PROGRAM ARGS...: runs PROGRAM under timeout; sets RC, OUT, ERR,
# LAST_CMD, and SANITIZED=1 when stderr holds a sanitizer report.
run()
{
	printf '%s\n' "$*" >"$_LIB/run.cmd"
	echo "$TEST_TIMEOUT" >"$_LIB/run.limit"
	timeout -k 5 "$TEST_TIMEOUT" "$@" >"$_LIB/run.out" 2>"$_LIB/run.err"
	echo $? >"$_LIB/run.rc"
	reload_run
}

# in_sub CODE [ARG...]: evaluates the shell CODE (which calls run_* once)
# in a subshell, with the ARGs as "$@", for another directory, a ulimit or
# an environment; then sets RC, OUT, ERR... here as run does. If CODE
# fails before its run, RC is 255: never the results of an earlier command.
in_sub()
{
	rm -f "$_LIB/run.rc"
	(_code=$1; shift; eval "$_code")
	reload_run
}

# reload_run: sets RC, OUT, ERR, LAST_CMD and SANITIZED from the files
# the last run left.
reload_run()
{
	if [ ! -f "$_LIB/run.rc" ]; then
		: >"$_LIB/run.out"
		echo "(the command did not run)" >"$_LIB/run.err"
		echo "?" >"$_LIB/run.cmd"
		echo 255 >"$_LIB/run.rc"
	fi
	RC=$(cat "$_LIB/run.rc")
	OUT=$(cat "$_LIB/run.out")
	ERR=$(cat "$_LIB/run.err")
	LAST_CMD=$(cat "$_LIB/run.cmd")
	RUN_LIMIT=$(cat "$_LIB/run.limit" 2>/dev/null || echo "$TEST_TIMEOUT")
	SANITIZED=0
	if grep -Eq "$SANITIZER_RE" "$_LIB/run.err"; then
		SANITIZED=1
	fi
	return 0
}

run_satchel()
{
	run "$SATCHEL" "$@"
}

run_satcheld()
{
	run "$SATCHELD" "$@"
}

# _expect_rc CODE DESCRIPTION PATTERN...: the last run exited with CODE,
# printed no sanitizer report, and stderr (for CODE != 0) or stdout (for
# CODE 0) holds every PATTERN (as in like()).
_expect_rc()
{
	_want=$1
	_desc=$2
	shift 2
	_why=
	if [ "$RC" -ne "$_want" ]; then
		_why="${_why}exit status $RC, expected $_want
"
	fi
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		_why="${_why}timed out: killed after $RUN_LIMIT s
"
	fi
	if [ "$SANITIZED" -ne 0 ]; then
		_why="${_why}sanitizer report on stderr
"
	fi
	if [ "$_want" -eq 0 ]; then
		_text=$OUT
		_stream=stdout
	else
		_text=$ERR
		_stream=stderr
		if [ -z "$ERR" ]; then
			_why="${_why}no message on stderr
"
		fi
	fi
	for _pat in "$@"; do
		if ! _matches "$_text" "$_pat"; then
			_why="${_why}$_stream lacks: $_pat
"
		fi
	done
	if [ -n "$_why" ] || [ -n "$_PENDING_DIAG" ]; then
		_tap_line 1 "$_desc"
		diag "command: $LAST_CMD"
		printf '%s' "$_why" | diag
		_flush_pending
		if [ -s "$_LIB/run.out" ]; then
			diag "stdout:"
			head -n 15 "$_LIB/run.out" | diag
		fi
		if [ -s "$_LIB/run.err" ]; then
			diag "stderr:"
			head -n 40 "$_LIB/run.err" | diag
		fi
	else
		_tap_line 0 "$_desc"
	fi
	return 0
}

# expect_success DESCRIPTION [PATTERN-IN-STDOUT...]
expect_success()
{
	_expect_rc 0 "$@"
}

# expect_fail DESCRIPTION [PATTERN-IN-STDERR...]: exit status exactly 1.
expect_fail()
{
	_expect_rc 1 "$@"
}

# expect_usage DESCRIPTION [PATTERN-IN-STDERR...]: exit status exactly 2.
expect_usage()
{
	_expect_rc 2 "$@"
}

# --- small helpers ---------------------------------------------------------------

# need PROGRAM...: skips the whole test when a required tool is missing.
need()
{
	for _n in "$@"; do
		command -v "$_n" >/dev/null 2>&1 ||
			skip_all "$_n is not installed"
	done
}

# key_id PUBFILE: the key id a .pub file names: first 16 hex digits of
# the SHA-256 of the raw 32-byte key.
key_id()
{
	cut -d ' ' -f 2 "$1" | head -n 1 | base64 -d | sha256sum | cut -c 1-16
}

# archive_list FILE: the entry names of a bundle archive, in order.
archive_list()
{
	zstd -dc "$1" | tar tf -
}

# archive_entry FILE NAME: one entry's content on stdout.
archive_entry()
{
	zstd -dc "$1" | tar xOf - "$2"
}

# file_sum FILE: its SHA-256.
file_sum()
{
	sha256sum <"$1" | cut -d ' ' -f 1
}

# same_bytes FILE1 FILE2 DESCRIPTION: a case that passes when both files
# exist and are byte-identical.
same_bytes()
{
	if [ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		for _f in "$1" "$2"; do
			if [ -f "$_f" ]; then
				diag "$(file_sum "$_f")  $_f"
			else
				diag "missing: $_f"
			fi
		done
	fi
}

# dir_empty DIR: true when DIR holds nothing (dot files included).
dir_empty()
{
	[ -d "$1" ] && [ -z "$(ls -A "$1")" ]
}

# fresh_dir NAME: an empty directory $TMP/NAME, printed.
fresh_dir()
{
	rm -rf "${TMP:?}/$1"
	mkdir -p "$TMP/$1"
	printf '%s\n' "$TMP/$1"
}

# retar IN OUT PYTHON: rewrites the bundle archive IN into OUT. The
# PYTHON statements see `entries`, a list of [TarInfo, bytes-or-None] in
# archive order, and helpers get(path), data(path), put(path, bytes),
# manifest() and set_manifest(text); OUT is a pax tar compressed with zstd.
retar()
{
	rm -f "$2" "$2.tar"
	python3 - "$1" "$2.tar" "$3" <<'PYEOF' || { _retar_failed "$2"; return 1; }
import io, subprocess, sys, tarfile

src, dst, code = sys.argv[1:4]
raw = subprocess.run(["zstd", "-dc", src], check=True,
                     stdout=subprocess.PIPE).stdout
tin = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
entries = []
for ti in tin:
    b = tin.extractfile(ti).read() if ti.isfile() else None
    entries.append([ti, b])

def get(path):
    for e in entries:
        if e[0].name == path:
            return e
    raise KeyError(path)

def data(path):
    return get(path)[1]

def put(path, b):
    get(path)[1] = b

def manifest():
    return data(".satchel/MANIFEST").decode("utf-8")

def set_manifest(text):
    put(".satchel/MANIFEST", text.encode("utf-8"))

def entry(name, b=b"", type=tarfile.REGTYPE, mode=0o644, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.mode = mode
    ti.mtime = entries[0][0].mtime
    ti.linkname = linkname
    return [ti, b if type == tarfile.REGTYPE else None]

exec(code)

with open(dst, "wb") as f:
    tout = tarfile.open(fileobj=f, mode="w:", format=tarfile.PAX_FORMAT,
                        encoding="utf-8", errors="surrogateescape")
    for ti, b in entries:
        ti.pax_headers = {}
        if b is not None:
            ti.size = len(b)
            tout.addfile(ti, io.BytesIO(b))
        else:
            ti.size = 0
            tout.addfile(ti)
    tout.close()
PYEOF
	zstd -q -3 -f "$2.tar" -o "$2" || { _retar_failed "$2"; return 1; }
	rm -f "$2.tar"
}

# A crafted archive that could not be made fails the case that uses it,
# rather than letting "cannot open" pass for the expected rejection.
_retar_failed()
{
	_PENDING_DIAG="${_PENDING_DIAG}crafting $1 failed (see the python error above)
"
	rm -f "$1"
}

# count FILE...: the number of distinct lines of the FILEs.
count()
{
	LC_ALL=C sort -u "$@" | wc -l | tr -d ' '
}

# now_ns: the time, in nanoseconds since the epoch.
now_ns()
{
	date +%s%N
}

# cb_release REPO SERIAL LABEL [TEXT]: the next release of the example
# bundle calligraphy-basics in REPO: a paragraph TEXT ("A new paragraph.")
# added to lesson 02-holding-the-brush, bundle.conf's serial and label
# set, committed as "Release LABEL".
cb_release()
{
	echo "<p>${4:-A new paragraph.}</p>" \
	    >>"$1/lessons/02-holding-the-brush/index.html"
	set_conf "$1" serial "$2"
	set_conf "$1" label "$3"
	git_commit "$1" "Release $3"
}

# --- keys, policies, origins --------------------------------------------

# make_keys NAME...: a key pair $TMP/NAME.key (and .pub) for each NAME, one
# case each ("keygen NAME.key", which prints the key's id).
make_keys()
{
	for _k in "$@"; do
		run_satchel keygen "$TMP/$_k.key"
		expect_success "keygen $_k.key" '/^[0-9a-f]{16}$/'
	done
}

# make_policy POLICY CATALOG_PUB AUTHOR_PUB PATTERN...: a new trust policy
# POLICY under $TMP/root.key that trusts CATALOG_PUB to sign catalogs and
# AUTHOR_PUB to publish bundles named by the PATTERNs. Checks of the next
# case: its OUT and RC are those of `trust new`, and the two additions
# are also()s, so the caller's expect_success judges all three.
make_policy()
{
	_pol=$1
	_cat=$2
	_aut=$3
	shift 3
	run_satchel trust new --root-key "$TMP/root.key" -o "$_pol"
	also "add-catalog" "$SATCHEL" trust add-catalog \
	    --root-key "$TMP/root.key" "$_pol" "$_cat"
	also "add-publisher" "$SATCHEL" trust add-publisher \
	    --root-key "$TMP/root.key" "$_pol" "$_aut" "$@"
}

# make_origin STORE POLICY CATALOG_KEY ARCHIVE...: `store init` of an origin
# STORE trusting POLICY, signing catalogs with CATALOG_KEY, then each
# ARCHIVE published into it, in order. As make_policy: OUT and RC are those
# of `store init`, the publishes also()s of the caller's next case.
make_origin()
{
	_ost=$1
	_pol=$2
	_ck=$3
	shift 3
	run_satchel store init --trust "$_pol" --catalog-key "$_ck" "$_ost"
	for _a in "$@"; do
		also "publish $(basename "$_a")" \
		    "$SATCHEL" publish --store "$_ost" "$_a"
	done
}

# --- daemons, waiting, logs ----------------------------------------------

# wait_file FILE: waits up to 10 s for FILE to be non-empty.
wait_file()
{
	_i=0
	while [ "$_i" -lt 100 ]; do
		[ -s "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_port FILE [SECONDS]: waits up to SECONDS (10) for satcheld's port
# file FILE to name the sync port; sets PORT to it (empty on failure).
wait_port()
{
	_i=$((${2:-10} * 10))
	PORT=
	while [ "$_i" -gt 0 ]; do
		if [ -s "$1" ]; then
			PORT=$(sed -n 's/^sync \([0-9][0-9]*\)$/\1/p' "$1")
			[ -n "$PORT" ] && return 0
		fi
		sleep 0.1
		_i=$((_i - 1))
	done
	return 1
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.2 s until it
# succeeds (0) or SECONDS have passed (1).
wait_until()
{
	_n=$(($1 * 5))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

# start_satcheld PIDVAR DESCRIPTION ARGS...: starts satcheld ARGS on
# 127.0.0.1, port 0, with a port file of its own (bg_start: its PID in
# PIDVAR; under timeout SATCHELD_TIMEOUT, default 600 s), and waits up
# to 20 s for it to listen. A case: "DESCRIPTION
# (sync PORT)", or not ok with satcheld's log and a bail out, for every
# later case needs the daemon. Sets PORT, and DLOG to satcheld's stderr.
_SATCHELD_N=0
start_satcheld()
{
	_pv=$1
	_sdesc=$2
	shift 2
	_SATCHELD_N=$((_SATCHELD_N + 1))
	_pf=$_LIB/port.$_SATCHELD_N
	# A daemon serves many cases, longer together than one program's
	# TEST_TIMEOUT on a loaded machine: its own bound is longer.
	_st_saved=$TEST_TIMEOUT
	TEST_TIMEOUT=${SATCHELD_TIMEOUT:-600}
	bg_start "$_pv" "$SATCHELD" --sync-listen 127.0.0.1:0 \
	    --port-file "$_pf" "$@"
	TEST_TIMEOUT=$_st_saved
	DLOG=$BG_ERR
	if wait_port "$_pf" 20; then
		ok 0 "$_sdesc (sync $PORT)"
	else
		ok 1 "$_sdesc"
		diag <"$DLOG"
		bail_out "satcheld did not start ($_sdesc)"
	fi
}

# daemon_pid PID: the satcheld that bg_start's timeout PID runs (signals
# other than TERM go to it alone: timeout would pass them to its whole
# process group, a pull in progress included).
daemon_pid()
{
	pgrep -P "$1" satcheld | head -n 1
}

# log_has FILE ERE: FILE holds a line matching ERE.
log_has()
{
	grep -Eq -- "$2" "$1"
}

# sanitizer_free FILE...: none of the FILEs (a daemon's log, say) holds a
# sanitizer report; a FILE that does not exist holds none.
sanitizer_free()
{
	! grep -Eq "$SANITIZER_RE" "$@" 2>/dev/null
}

# no_sanitizer FILE: a case "satcheld: no sanitizer report" on the log
# FILE of a daemon that has ended; the report itself as diagnostics.
no_sanitizer()
{
	if sanitizer_free "$1"; then
		ok 0 "satcheld: no sanitizer report"
	else
		ok 1 "satcheld: no sanitizer report"
		grep -E -A 20 "$SANITIZER_RE" "$1" | head -n 40 | diag
	fi
}

# --- prerequisites -------------------------------------------------------------

[ -x "$SATCHEL" ] || bail_out "$SATCHEL is missing: build it first"
need git timeout sha256sum base64 cmp
