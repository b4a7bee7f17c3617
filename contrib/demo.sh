#!/usr/bin/env bash
# The README's main command.  Sets up a Debian 12 machine (as root), builds
# teiten, writes a synthetic capture of what a dark /24 sees over six hours
# (a TCP 5168 scan campaign starts half-way), runs teiten-sensor over it in
# one-hour intervals and shows each interval's top ports and the totals.
# Output goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash contrib/setup-debian.sh

build=build-demo
out=demo-out
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
mkdir -p "$out"

"$build"/contrib/teiten-gencap -o "$out/dark.pcap" -c 600000 -d 21600 \
	-t 1700000000 --campaign 5168@0.5
"$build"/sensor/teiten-sensor -r "$out/dark.pcap" -n 3600 --print \
	>"$out/counts.tsv" 2>"$out/totals.txt"

echo "teiten-sensor -r $out/dark.pcap -n 3600 --print: top 5 keys per interval"
for start in $(cut -f1 "$out/counts.tsv" | uniq); do
	echo
	echo "$(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')"
	awk -F'\t' -v s="$start" '$1 == s' "$out/counts.tsv" |
		sort -t "$(printf '\t')" -k4,4nr | awk 'NR <= 5' |
		awk -F'\t' '{ printf "  %-6s %-6s %9d packets\n", $2, $3, $4 }'
done
echo
tail -n 1 "$out/totals.txt"
echo
echo "all keys: $out/counts.tsv; per-interval totals: $out/totals.txt"
