#!/bin/sh
# Every header of common/, sensor/, aggregator/ and graph/ must compile alone, so
# that it includes what it uses (as darkstat's test_headers.sh checks), and
# twice in a row, which fails when a guardless header defines anything.  Fails naming each header that
# does not.  Usage: headers_test.sh SOURCE_ROOT CC [CC ARGS...]
set -u
root=$1
shift
[ $# -ge 1 ] || { echo "usage: $0 source-root cc [args...]" >&2; exit 2; }
cflags=$(pkg-config --cflags libpcap libevent librrd libsodium inih) || {
	echo "pkg-config failed" >&2
	exit 2
}
bad=0
n=0
for h in "$root"/common/*.h "$root"/sensor/*.h "$root"/aggregator/*.h \
    "$root"/graph/*.h; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # cflags is a list of words
	if ! out=$("$@" -std=gnu11 -Wall -Wextra -Werror -fsyntax-only \
	    -I"$root"/common -I"$root"/sensor -I"$root"/aggregator -I"$root"/graph $cflags \
	    -include "$h" -include "$h" -x c /dev/null 2>&1); then
		echo "FAIL: ${h#"$root"/} does not compile alone:"
		printf '%s\n' "$out" | head -n 20
		bad=$((bad + 1))
	fi
done
echo "$n headers, $bad failed"
[ "$bad" -eq 0 ]
