#!/usr/bin/env bash
# The README's main command.  Sets up a Debian 12 machine (as root), builds
# teiten, writes synthetic captures of what three dark /24s see over six
# hours (a TCP 5168 scan campaign starts half-way), replays them with three
# teiten-sensor processes into a local teiten-aggregator over TCP, and
# prints the per-sensor hourly averages of the busiest ports as the
# aggregator wrote them to its RRD files.  Output goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash contrib/setup-debian.sh --demo

build=build-demo
out=$PWD/demo-out
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
rm -rf "$out"
mkdir -p "$out"
chmod 755 "$out" # the sensors write their spools after dropping root

step=3600
start=1700006400 # 2023-11-15 00:00 UTC
port=47740
: >"$out/sensors.keys"
chmod 600 "$out/sensors.keys"
for i in 1 2 3; do
	"$build"/contrib/teiten-gencap -o "$out/dark$i.pcap" -c 200000 \
		-d 21600 -t $start -S $i --campaign 5168@0.5
	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	(umask 077 && echo "$key" >"$out/sensor$i.key")
	echo "sensor$i $key" >>"$out/sensors.keys"
done

"$build"/aggregator/teiten-aggregator -f -l 127.0.0.1:$port -d "$out/data" \
	-K "$out/sensors.keys" -n $step --grace 2 2>"$out/aggregator.log" &
agg=$!
trap 'kill $agg 2>/dev/null || true' EXIT
sleep 0.5
for i in 1 2 3; do
	"$build"/sensor/teiten-sensor -r "$out/dark$i.pcap" -n $step \
		-a 127.0.0.1:$port -s sensor$i -K "$out/sensor$i.key" \
		--spool "$out/spool$i" 2>"$out/sensor$i.log" &
done
wait %2 %3 %4
last=$((start + 5 * step))
for _ in $(seq 100); do
	[ "$(cat "$out/data/last_final" 2>/dev/null || echo 0)" -ge $last ] && break
	sleep 0.2
done
kill -TERM $agg
wait $agg || true
trap - EXIT

echo "3 sensors -> teiten-aggregator -> $out/data/rrd ($(find "$out/data/rrd" -name '*.rrd' | wc -l) RRD files)"
echo "average packets per sensor per hour, read back with rrdtool fetch:"
echo
keys="tcp/23 tcp/445 tcp/22 tcp/80 tcp/3389 tcp/5168 udp/53 icmp/8"
printf '%-17s' "hour (UTC)"
for k in $keys; do printf '%10s' "$k"; done
echo
for t in $(seq $start $step $last); do
	printf '%-17s' "$(date -u -d "@$t" '+%Y-%m-%d %H:%M')"
	for k in $keys; do
		v=$(rrdtool fetch "$out/data/rrd/$k.rrd" AVERAGE -r $step \
			-s $((t - step)) -e $((t + step)) 2>/dev/null |
			awk -v t=$((t + step)) '$1 == t":" { print $2 }')
		case "$v" in
		"" | *nan*) printf '%10s' "-" ;;
		*) printf '%10.1f' "$v" ;;
		esac
	done
	echo
done
echo
tail -n 2 "$out/aggregator.log"
