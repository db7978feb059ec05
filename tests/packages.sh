# Sourced by examples/demo.sh and tests/run.sh: the Debian 12 packages
# Satchel needs, and one function that installs whichever are missing.
SATCHEL_BUILD_PACKAGES="gcc make autoconf automake libtool pkg-config git zstd
	libevent-dev libarchive-dev libgit2-dev libssl-dev libzstd-dev libjansson-dev
	zlib1g-dev libsystemd-dev"
SATCHEL_TEST_PACKAGES="libcmocka-dev python3 python3-cryptography openssl tar
	unzip chromium fonts-wqy-microhei"
# tests/integration/browser.sh also needs Node.js and npm (for the
# playwright-core that tests/run.sh installs with npm ci): Debian's, only
# when the machine has none, for a Node.js from elsewhere (NodeSource's
# "nodejs" comes with its own npm) would be replaced by Debian's 18.
command -v node >/dev/null 2>&1 ||
	SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES nodejs"
command -v npm >/dev/null 2>&1 ||
	SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES npm"
# The web library's tests: curl as the client, jing (RELAX NG) and
# xmllint for the OPDS feed.
SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES curl jing libxml2-utils"
# tests/integration/manpages.sh renders the man pages with groff -ww and
# lints them with mandoc.
SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES groff-base mandoc"
# tests/integration/package.sh builds the Debian package, lints it and
# checks its systemd unit; install.sh runs satcheld as nobody.
SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES dpkg-dev debhelper lintian
	systemd adduser"
# tests/integration/static.sh: nginx serves a store directory, and caches
# satcheld's /store/ as a reverse proxy.
SATCHEL_TEST_PACKAGES="$SATCHEL_TEST_PACKAGES nginx"

install_packages() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "== installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=sudo
		else
			echo "error: missing packages:$missing (run as root or install them)" >&2
			return 1
		fi
	else
		SUDO=
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "error: apt-get install$missing failed" >&2; return 1; }
}
