#!/usr/bin/env bash
# Installs what teiten needs to build on Debian 12 (with --demo, also to
# run the demo; with --test, to run its tests).  Run as root.  Installs
# only what is missing.
set -euo pipefail

build_pkgs="gcc meson ninja-build pkg-config python3 libpcap-dev libevent-dev
libinih-dev libsodium-dev librrd-dev libsystemd-dev netbase tzdata"
test_pkgs="clang clang-format mandoc manpages-dev libclang-rt-14-dev libcmocka-dev tshark tcpdump tcpreplay
nmap hping3 iproute2 procps rrdtool rrdcached chromium systemd prometheus"

pkgs=$build_pkgs
case "${1:-}" in
"") ;;
--demo) pkgs="$pkgs rrdtool" ;;
--test) pkgs="$pkgs $test_pkgs" ;;
*)
	echo "usage: setup-debian.sh [--demo | --test]" >&2
	exit 1
	;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "setup-debian.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer is no.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
echo "setup-debian.sh: installing$missing"
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
