#!/usr/bin/env bash
# Synthetic captures for a fleet of sensors over some days, the scenario
# the graphs are made for: N sensors on their own dark /24s, D days from a
# UTC midnight with the daily cycle, and a TCP 5168 scan campaign starting
# half-way and ramping up.  Writes OUTDIR/sensor1.pcap ... sensorN.pcap.
#
# usage: contrib/gen-fleet.sh [-n sensors] [-D days] [-c packets-per-day]
#                             [-S seed] [-t start] [-C port@fraction]
#                             OUTDIR [teiten-gencap options...]
#
# -c counts packets per sensor per day on average (each sensor's own rate
# is 0.7 to 1.3 times that), so more days mean bigger files, not sparser
# ones.  teiten-gencap comes from $TEITEN_GENCAP, else build/ or
# build-demo/ of this tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

sensors=3 days=2 perday=1000000 seed=1 start=1699920000 campaign=5168@0.5
while getopts :n:D:c:S:t:C: opt; do
	case $opt in
	n) sensors=$OPTARG ;;
	D) days=$OPTARG ;;
	c) perday=$OPTARG ;;
	S) seed=$OPTARG ;;
	t) start=$OPTARG ;;
	C) campaign=$OPTARG ;;
	:) echo "gen-fleet.sh: option -$OPTARG needs a value" >&2
	   exit 2 ;;
	*) echo "gen-fleet.sh: unknown option -$OPTARG (usage: gen-fleet.sh" \
		"[-n sensors] [-D days] [-c packets-per-day] [-S seed]" \
		"[-t start] [-C port@fraction] OUTDIR [gencap options])" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
	echo "gen-fleet.sh: no output directory (try: gen-fleet.sh out/)" >&2
	exit 2
fi
out=$1
shift
case "$days$perday" in
*[!0-9]* | "")
	echo "gen-fleet.sh: -D and -c take whole numbers" >&2
	exit 2 ;;
esac

gencap=${TEITEN_GENCAP:-}
for b in build build-demo; do
	[ -n "$gencap" ] && break
	[ -x "$root/$b/contrib/teiten-gencap" ] &&
		gencap=$root/$b/contrib/teiten-gencap
done
if [ -z "$gencap" ]; then
	echo "gen-fleet.sh: no teiten-gencap: build first, or set TEITEN_GENCAP" >&2
	exit 1
fi

mkdir -p "$out"
exec "$gencap" --sensors "$sensors" --days "$days" \
	-c $((perday * days)) -S "$seed" -t "$start" --campaign "$campaign" \
	-o "$out/sensor%d.pcap" "$@"
