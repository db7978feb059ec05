#!/bin/sh
# The Satchel demo: installs what is missing (Debian 12), builds Satchel,
# then for every example bundle makes a git repository, builds a signed,
# reproducible bundle archive from it with a freshly generated demo key,
# and verifies it; publishes them into an origin store, carries them to a
# school store through a "USB drive" store, and checks the school's copy;
# then serves the school's web library at http://127.0.0.1:8080/ in the
# foreground until Ctrl-C (SATCHEL_DEMO_PORT picks another port;
# SATCHEL_DEMO_SERVE=0 stops before serving). Everything it makes lands in
# _demo/ (rerun at will).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. "$top/tests/packages.sh"

say() { printf '\n== %s\n' "$*"; }

install_packages $SATCHEL_BUILD_PACKAGES

say "building Satchel"
build="$top/_build/demo"
[ -x "$top/configure" ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && "$top/configure" >configure.out 2>&1) ||
		{ cat "$build/configure.out"; exit 1; }
fi
make -C "$build" -j"$(nproc 2>/dev/null || echo 2)" satchel satcheld >"$build/make.out" 2>&1 ||
	{ tail -40 "$build/make.out"; exit 1; }
satchel="$build/satchel"
"$satchel" --version

demo="$top/_demo"
rm -rf "$demo"
mkdir -p "$demo/repos" "$demo/bundles"
export GIT_AUTHOR_NAME="Satchel demo" GIT_AUTHOR_EMAIL="demo@satchel.invalid"
export GIT_COMMITTER_NAME="Satchel demo" GIT_COMMITTER_EMAIL="demo@satchel.invalid"

say "generating a demo signing key: $demo/demo.key"
keyid=$("$satchel" keygen --comment "Satchel demo key" "$demo/demo.key" 2>/dev/null)
echo "key id $keyid, public key $(cat "$demo/demo.key.pub")"

for src in "$top"/examples/bundles/*/; do
	name=$(basename "$src")
	repo="$demo/repos/$name"
	say "$name: git repository $repo"
	cp -R "$src" "$repo"
	git -C "$repo" -c init.defaultBranch=main init -q
	git -C "$repo" add -A
	git -C "$repo" commit -q -m "First release of $name"
	git -C "$repo" log --oneline | sed 's/^/   /'

	say "$name: satchel build --key demo.key --tag"
	(cd "$demo/bundles" && "$satchel" build -C "$repo" --key "$demo/demo.key" --tag)

	out=$(ls "$demo/bundles/$name"-*.satchel)
	say "$name: satchel verify --pubkey demo.key.pub"
	"$satchel" verify --pubkey "$demo/demo.key.pub" "$out"

	say "$name: rebuilt from a fresh clone, the bytes are identical"
	git clone -q "$repo" "$demo/repos/$name-clone"
	"$satchel" build -C "$demo/repos/$name-clone" --key "$demo/demo.key" -o "$demo/$name-rebuild.satchel" >/dev/null
	sha256sum "$out" "$demo/$name-rebuild.satchel" | sed 's/^/   /'
	cmp "$out" "$demo/$name-rebuild.satchel"
	rm -f "$demo/$name-rebuild.satchel"
done

say "an origin store: a trust policy, a catalog key, and the bundles published"
"$satchel" keygen "$demo/root.key" >/dev/null 2>&1
"$satchel" keygen "$demo/catalog.key" >/dev/null 2>&1
"$satchel" trust new --root-key "$demo/root.key" -o "$demo/policy"
"$satchel" trust add-catalog --root-key "$demo/root.key" "$demo/policy" "$demo/catalog.key.pub"
"$satchel" trust add-publisher --root-key "$demo/root.key" "$demo/policy" "$demo/demo.key.pub" '*'
"$satchel" store init --trust "$demo/policy" --catalog-key "$demo/catalog.key" "$demo/origin"
for f in "$demo"/bundles/*.satchel; do
	"$satchel" publish --store "$demo/origin" "$f"
done
"$satchel" ls "$demo/origin"

say "a USB drive prepared from the origin, then a school store updated from the drive"
"$satchel" pull "$demo/origin" --store "$demo/usb"
"$satchel" store init --trust "$demo/policy" "$demo/school"
"$satchel" pull "$demo/usb" --store "$demo/school"
"$satchel" fsck "$demo/school"
"$satchel" ls "$demo/school"

say "what was built (satchel inspect on each)"
for f in "$demo"/bundles/*.satchel; do
	"$satchel" inspect "$f" | sed -n '1,/^lessons/p' | grep -E '^(name|label|serial|title|title.zh|size|signers):'
	echo
done
say "done: bundles in $demo/bundles, repositories in $demo/repos, stores in $demo/{origin,usb,school}"
echo "Try: $satchel inspect $demo/bundles/calligraphy-basics-1.0.satchel"

[ "${SATCHEL_DEMO_SERVE:-1}" = 0 ] && exit 0
port=${SATCHEL_DEMO_PORT:-8080}
say "the school's web library: open http://127.0.0.1:$port/ (Ctrl-C stops it)"
echo "http://127.0.0.1:$port/"
# satcheld refuses root unless told which user to be: the demo's stores
# are the caller's, so it stays who it is.
user=
[ "$(id -u)" -eq 0 ] && user="--user root"
exec "$build/satcheld" --store "$demo/school" --sync-listen 127.0.0.1:0 \
    --http-listen "127.0.0.1:$port" $user
