#!/bin/sh
# manpages.sh: the manual pages in doc/ say what the programs do. For every
# satchel command and for satcheld, the options a page lists are exactly
# those `--help` lists (both ways, short and long); every key of satcheld's
# config table (daemon/conf.c) has an entry in satcheld.8; every command
# has its section in satchel.1; and each page renders without a warning.
. "$(dirname "$0")/lib.sh"
[ -x "$SATCHEL" ] || bail_out "$SATCHEL is missing: build it first"
[ -x "$SATCHELD" ] || bail_out "$SATCHELD is missing: build it first"

DOC=$SATCHEL_SRCDIR/doc
PAGES="satchel.1 satcheld.8 satchel-store.5 satchel-protocol.7"
for p in $PAGES; do
	[ -f "$DOC/$p" ] || bail_out "$DOC/$p is missing"
done
W=$(fresh_dir work)

# opt_tokens: reads option specs ("-c, --comment TEXT  what it does") and
# prints each leading -X or --long-name, one a line; a line stops at the
# first word that is not an option.
opt_tokens()
{
	awk '{
		for (i = 1; i <= NF; i++) {
			t = $i
			sub(/,$/, "", t)
			if (t ~ /^--[a-z][a-z0-9-]*$/ || t ~ /^-[A-Za-z0-9]$/)
				print t
			else
				break
		}
	}'
}

# help_opts: the options a --help text (stdin) lists: its lines that start
# with two to six spaces and a dash. Description lines are indented more.
help_opts()
{
	grep -E '^ {2,6}-' | opt_tokens | sort -u
}

# unroff: roff source to plain words: no font escapes, \- as -.
unroff()
{
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g'
}

# tags FILE START END: the .TP tags (the line after each .TP) from the
# line matching START up to the next line matching END, as plain text.
tags()
{
	awk -v start="$2" -v end="$3" '
		on && $0 ~ end { on = 0 }
		$0 ~ start { on = 1; prev = ""; next }
		on && prev == ".TP" { print }
		{ prev = $0 }
	' "$1" | unroff
}

# same_sets WHAT A B [NAME-A NAME-B]: one case, passing when the sorted
# lists in the files A (by default from --help) and B (the page) are
# equal and not empty; says what differs.
same_sets()
{
	_only_a=$(comm -23 "$2" "$3" | tr '\n' ' ')
	_only_b=$(comm -13 "$2" "$3" | tr '\n' ' ')
	if [ -z "$_only_a$_only_b" ] && [ -s "$2" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		[ -s "$2" ] || diag "nothing found in ${4:---help}"
		[ -z "$_only_a" ] || diag "only in ${4:---help}: $_only_a"
		[ -z "$_only_b" ] || diag "only in ${5:-the page}: $_only_b"
	fi
}

COMMON="--help
--version
-V
-h"

# --- satchel(1) ----------------------------------------------------------------

run_satchel --help
expect_success "satchel --help" '/^Commands:/'
COMMANDS=$(printf '%s\n' "$OUT" |
    sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p')
[ -n "$COMMANDS" ] || bail_out "no commands in satchel --help"

# The page's command sections, as "satchel NAME" subsection headings.
SECTIONS=$(unroff <"$DOC/satchel.1" | sed -n 's/^\.SS "*satchel \([a-z-]*\)"*$/\1/p')
for c in $COMMANDS; do
	like "$SECTIONS" "/^$c\$/" "satchel.1 has a section for satchel $c"
done
missing=
for s in $SECTIONS; do
	printf '%s\n' "$COMMANDS" | grep -qx -- "$s" || missing="$missing $s"
done
is "$missing" "" "every command section of satchel.1 is a command of satchel --help"

tags "$DOC/satchel.1" '^\.SH OPTIONS' '^\.S[HS]' | opt_tokens | sort -u \
    >"$W/global.man"
printf '%s\n' "$COMMON" | sort -u >"$W/common"
same_sets "satchel.1 OPTIONS lists -h, --help, -V, --version" \
    "$W/common" "$W/global.man"

for c in $COMMANDS; do
	run_satchel "$c" --help
	if [ "$RC" -ne 0 ] || [ "$SANITIZED" -ne 0 ]; then
		ok 1 "satchel $c --help"
		diag "exit $RC: $ERR"
		continue
	fi
	printf '%s\n' "$OUT" | help_opts >"$W/$c.help"
	# Every command takes the common ones; the page says so once, in
	# OPTIONS, not in each command's section.
	is "$(comm -13 "$W/$c.help" "$W/common")" "" \
	    "satchel $c --help lists -h, --help, -V, --version"
	comm -23 "$W/$c.help" "$W/common" >"$W/$c.help.own"
	tags "$DOC/satchel.1" "^\\.SS \"*satchel $c\"*\$" '^\.S[HS]' |
	    opt_tokens | sort -u >"$W/$c.man"
	if [ ! -s "$W/$c.help.own" ]; then
		# fsck, log: no options of their own; the page lists none.
		is "$(cat "$W/$c.man")" "" "satchel $c: no options of its own, none in satchel.1"
	else
		same_sets "satchel $c: satchel.1 lists the options of --help" \
		    "$W/$c.help.own" "$W/$c.man"
	fi
done

# The helps against the commands' own option tables (content-tools/),
# so that an option added to the code but to no --help is caught too
# (--help and --version come from CMD_COMMON_OPTIONS, checked above).
sed -n '/struct option[[:space:]]*opts\[\] = {/,/};/s/^[[:space:]]*{ *"\([a-z0-9-]*\)".*/--\1/p' \
    "$SATCHEL_SRCDIR"/content-tools/cmd-*.c | sort -u >"$W/satchel.table"
for c in $COMMANDS; do
	cat "$W/$c.help.own" 2>/dev/null
done | grep '^--' | sort -u >"$W/satchel.help.long"
same_sets "satchel: the commands' --help list every long option of their tables" \
    "$W/satchel.table" "$W/satchel.help.long" "the tables" "--help"

# --- satcheld(8) ------------------------------------------------------------------

run_satcheld --help
expect_success "satcheld --help" '/^usage: satcheld /'
printf '%s\n' "$OUT" | help_opts >"$W/satcheld.help"
tags "$DOC/satcheld.8" '^\.SH OPTIONS' '^\.SH' | opt_tokens | sort -u \
    >"$W/satcheld.man"
same_sets "satcheld: satcheld.8 OPTIONS lists the options of --help" \
    "$W/satcheld.help" "$W/satcheld.man"

# The help against the program's own option table (main.c), so that an
# option added to the code but not to the help is caught too.
sed -n '/main_opts\[\] = {/,/^};/s/^[[:space:]]*{ *"\([a-z0-9-]*\)".*/--\1/p' \
    "$SATCHEL_SRCDIR/daemon/main.c" | sort -u >"$W/satcheld.table"
grep '^--' "$W/satcheld.help" >"$W/satcheld.help.long"
same_sets "satcheld: --help lists every long option of main.c's table" \
    "$W/satcheld.table" "$W/satcheld.help.long" "main.c's table" "--help"

# Every key of the config table: an option of --help, and an entry of the
# page's CONFIGURATION FILE section; and that section names no other key.
KEYS=$(sed -n '/conf_keys\[\] = {/,/^};/s/^[[:space:]]*{ *"\([a-z0-9-]*\)".*/\1/p' \
    "$SATCHEL_SRCDIR/daemon/conf.c")
[ -n "$KEYS" ] || bail_out "no keys found in daemon/conf.c's table"
CONF_TAGS=$(tags "$DOC/satcheld.8" '^\.SH "*CONFIGURATION FILE' '^\.SH' |
    sed -n 's/^\.B  *\([a-z][a-z0-9-]*\)$/\1/p')
for k in $KEYS; do
	like "$(cat "$W/satcheld.help")" "/^--$k\$/" \
	    "config key $k is an option of satcheld --help"
	like "$CONF_TAGS" "/^$k\$/" "config key $k is described in satcheld.8"
done
stale=
for t in $CONF_TAGS; do
	printf '%s\n' "$KEYS" | grep -qx -- "$t" || stale="$stale $t"
done
is "$stale" "" "satcheld.8 describes no config key that conf.c lacks"

# --- every page ---------------------------------------------------------------

# The sections a reader looks for.
for p in $PAGES; do
	case $p in
	satchel.1)	want="NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS ENVIRONMENT FILES EXIT_STATUS EXAMPLES SEE_ALSO" ;;
	satcheld.8)	want="NAME SYNOPSIS DESCRIPTION OPTIONS CONFIGURATION_FILE SIGNALS FILES EXIT_STATUS EXAMPLES SEE_ALSO" ;;
	*)		want="NAME DESCRIPTION SEE_ALSO" ;;
	esac
	have=$(sed -n 's/^\.SH "*\([^"]*\)"*$/\1/p' "$DOC/$p" | tr ' ' _)
	missing=
	for s in $want; do
		printf '%s\n' "$have" | grep -qx -- "$s" || missing="$missing $s"
	done
	is "$missing" "" "$p has the sections $want"
done

# Installed by `make install`: every page in doc/ is in dist_man_MANS.
for p in "$DOC"/*.[1-9]; do
	b=${p##*/}
	like "$(cat "$SATCHEL_SRCDIR/doc/Makefile.inc")" "doc/$b" \
	    "doc/Makefile.inc installs $b"
done

# Rendering: groff with every warning on; mandoc's lint when installed.
for p in $PAGES; do
	if command -v groff >/dev/null 2>&1; then
		run groff -man -Tutf8 -ww -z "$DOC/$p"
		if [ "$RC" -eq 0 ] && [ -z "$ERR" ]; then
			ok 0 "$p renders with groff -ww without a warning"
		else
			ok 1 "$p renders with groff -ww without a warning"
			diag "exit $RC: $ERR"
		fi
	else
		skip "$p renders with groff -ww without a warning" "no groff"
	fi
	if command -v mandoc >/dev/null 2>&1; then
		run mandoc -T lint -W warning "$DOC/$p"
		if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
			ok 0 "$p passes mandoc -T lint"
		else
			ok 1 "$p passes mandoc -T lint"
			diag "exit $RC: $OUT $ERR"
		fi
	else
		skip "$p passes mandoc -T lint" "no mandoc"
	fi
done

done_testing
