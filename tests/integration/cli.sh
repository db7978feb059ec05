#!/bin/sh
# cli.sh: the command lines of satchel and satcheld: help, version, and
# usage errors (exit status 2 with a hint), for every subcommand.
. "$(dirname "$0")/lib.sh"
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

CWD=$(fresh_dir cwd)
cd "$CWD" || bail_out "cannot enter $CWD"

VERSION=$(sed -n 's/^AC_INIT(\[satchel\], *\[\([^]]*\)\].*/\1/p' \
    "$SATCHEL_SRCDIR/configure.ac")
[ -n "$VERSION" ] || bail_out "cannot read the version from configure.ac"
REQUIRED="keygen init build sign verify inspect"

# --- satchel ----------------------------------------------------------------------

run_satchel --help
expect_success "satchel --help" '/^usage: satchel /'
for c in $REQUIRED; do
	like "$OUT" "/^  $c +[a-z]/" "satchel --help lists $c with a summary"
done
# Every command the help lists (the required ones and any newer ones).
COMMANDS=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p')

run_satchel -h
expect_success "satchel -h" '/^usage: satchel /'
run_satchel help
expect_success "satchel help" '/^usage: satchel /'

run_satchel --version
expect_success "satchel --version" "satchel $VERSION"
is "$OUT" "satchel $VERSION" "satchel --version prints exactly 'satchel $VERSION'"
run_satchel -V
expect_success "satchel -V" "satchel $VERSION"

run_satchel
also "stdout stays empty" test -z "$OUT"
expect_usage "satchel without a command: exit 2 with the usage on stderr" '/^usage: satchel /'

for c in $COMMANDS; do
	run_satchel "$c" --help
	expect_success "satchel $c --help" "/^usage: satchel $c( |\$)/" "Exit status"
	run_satchel "$c" -h
	expect_success "satchel $c -h" "/^usage: satchel $c( |\$)/"
	run_satchel help "$c"
	expect_success "satchel help $c" "/^usage: satchel $c( |\$)/"
	run_satchel "$c" --version
	expect_success "satchel $c --version" "satchel $VERSION"
	run_satchel "$c" --no-such-option
	also "nothing on stdout" test -z "$OUT"
	expect_usage "satchel $c with an unknown option: exit 2 with a hint" \
	    "no-such-option" "satchel $c --help"
done

run_satchel frobnicate
expect_usage "an unknown command: exit 2, named, with a hint" '"frobnicate"' "satchel --help"
run_satchel --frobnicate
expect_usage "an unknown top-level option: exit 2, named, with a hint" "frobnicate" "--help"

# Missing (or extra) arguments: exit 2, a message, and a hint.
run_satchel keygen
expect_usage "keygen without KEYFILE" "KEYFILE" "satchel keygen --help"
run_satchel keygen a b
also "no key written" test ! -e a
expect_usage "keygen with two KEYFILEs" "KEYFILE" "satchel keygen --help"
run_satchel init
expect_usage "init without DIR" "DIR" "satchel init --help"
run_satchel build stray-argument
expect_usage "build with a stray argument" "stray-argument" "satchel build --help"
run_satchel build --key
expect_usage "build --key without its KEYFILE" "key" "satchel build --help"
run_satchel sign x.satchel
expect_usage "sign without --key" "--key" "satchel sign --help"
run_satchel sign --key k
expect_usage "sign without FILE" "FILE" "satchel sign --help"
run_satchel verify
expect_usage "verify without FILE" "FILE" "satchel verify --help"
run_satchel inspect
expect_usage "inspect without FILE" "FILE" "satchel inspect --help"
run_satchel inspect a.satchel b.satchel
expect_usage "inspect with two FILEs" "FILE" "satchel inspect --help"
is "$(ls -A)" "" "no usage error wrote a file"

# --- satcheld ------------------------------------------------------------------------

run_satcheld --version
expect_success "satcheld --version" "/^satcheld $VERSION( |\$)/"
run_satcheld -V
expect_success "satcheld -V" "/^satcheld $VERSION( |\$)/"
run_satcheld --help
expect_success "satcheld --help" '/^usage: satcheld /'
run_satcheld --bogus
also "nothing on stdout" test -z "$OUT"
expect_usage "satcheld --bogus: exit 2 with the usage" "bogus" '/usage: satcheld /'
run_satcheld stray
expect_usage "satcheld with a stray argument: exit 2" '"stray"'

done_testing
