#!/bin/sh
# configure stops with a message that names the Debian package to install
# when a library is missing. Each missing library is simulated by a
# pkg-config search path that holds every .pc file but its own.
. "$(dirname "$0")/lib.sh"

configure=$SATCHEL_SRCDIR/configure
[ -x "$configure" ] || skip_all "no configure script (run ./autogen.sh)"
command -v pkg-config >/dev/null 2>&1 || skip_all "pkg-config is not installed"
# configure refuses a second, out-of-tree build of a tree configured in place.
[ -f "$SATCHEL_SRCDIR/config.status" ] &&
	skip_all "the source tree is configured in place; configure cannot run beside it"

pcdirs=$(pkg-config --variable pc_path pkg-config | tr ':' ' ')

# only_without PC: a directory of links to every .pc file except PC.pc
only_without()
{
	_d=$TMP/pc-without-$1
	mkdir -p "$_d"
	for _dir in $pcdirs; do
		[ -d "$_dir" ] || continue
		for _pc in "$_dir"/*.pc; do
			[ -e "$_pc" ] || continue
			_b=$(basename "$_pc")
			[ "$_b" = "$1.pc" ] && continue
			[ -e "$_d/$_b" ] || ln -s "$_pc" "$_d/$_b"
		done
	done
	echo "$_d"
}

for pair in libevent:libevent-dev libevent_openssl:libevent-dev \
    libssl:libssl-dev libarchive:libarchive-dev \
    libgit2:libgit2-dev libcrypto:libssl-dev libzstd:libzstd-dev \
    jansson:libjansson-dev zlib:zlib1g-dev; do
	pc=${pair%%:*}
	deb=${pair#*:}
	dir=$(only_without "$pc")
	mkdir -p "$TMP/build-$pc"
	in_sub 'cd "$1" && PKG_CONFIG_LIBDIR="$2" PKG_CONFIG_PATH= run "$3"' \
	    "$TMP/build-$pc" "$dir" "$configure"
	# configure exits 1 through AC_MSG_ERROR.
	expect_fail "configure without $pc.pc names $deb" \
	    "apt-get install $deb"
done

dir=$(only_without cmocka)
mkdir -p "$TMP/build-cmocka"
in_sub 'cd "$1" && PKG_CONFIG_LIBDIR="$2" PKG_CONFIG_PATH= run "$3"' \
    "$TMP/build-cmocka" "$dir" "$configure"
expect_success "configure without cmocka still succeeds (tests need it)"
like "$ERR" "libcmocka-dev" "and warns that unit tests need libcmocka-dev"

done_testing
