#!/usr/bin/env bash
# The README's main command.  Sets up a Debian 12 machine (as root), builds
# teiten, writes synthetic captures of what five dark /24s see over three
# days across New Year in Japan time (daily cycle, per-sensor differences,
# a TCP 5168 scan campaign that starts half-way), replays them with five
# teiten-sensor processes into a local teiten-aggregator over TCP with
# timezone = Asia/Tokyo, ranks the closing quarter, renders the graphs
# (with a few analysts' notes) and the web page with teiten-graph, and
# prints the path of index.html.  Output goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash contrib/setup-debian.sh --demo
# As root the sensors drop to the teiten user, which an installed teiten
# gets from its sysusers file; a build tree has to create it.
if [ "$(id -u)" = 0 ] && ! getent passwd teiten >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin teiten
fi

build="build-demo"
out=$PWD/demo-out
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
rm -rf "$out"
mkdir -p "$out"
chmod 755 "$out" # the sensors write their spools after dropping root

step=3600
start=1703862000 # 2023-12-30 00:00 Asia/Tokyo: 2023Q4 ends a day later
port=47740
n=5
: >"$out/sensors.keys"
chmod 600 "$out/sensors.keys"
"$build"/contrib/teiten-gencap --sensors $n -o "$out/dark%d.pcap" \
	-c 600000 --days 3 -t $start --campaign 5168@0.5
# The fleet's sketch key: sensors hash addresses with it, so that the
# aggregator can merge their distinct sources.
"$build"/aggregator/teiten-aggregator keygen --fleet-sketch -o "$out/sketch.key"
for i in $(seq $n); do
	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	(umask 077 && echo "$key" >"$out/sensor$i.key")
	echo "sensor$i $key" >>"$out/sensors.keys"
done

"$build"/aggregator/teiten-aggregator -f -l 127.0.0.1:$port -d "$out/data" \
	-K "$out/sensors.keys" -n $step --grace 10 --timezone Asia/Tokyo \
	--sketch-key-file "$out/sketch.key" \
	2>"$out/aggregator.log" &
agg=$!
trap 'kill $agg 2>/dev/null || true' EXIT
# Until it listens (its log says so), or gives up.
for _ in $(seq 100); do
	grep -q listening "$out/aggregator.log" && break
	kill -0 $agg 2>/dev/null || break
	sleep 0.1
done
pids=""
for i in $(seq $n); do
	"$build"/sensor/teiten-sensor -r "$out/dark$i.pcap" -n $step \
		-a 127.0.0.1:$port -s "sensor$i" -K "$out/sensor$i.key" \
		--sketch-key-file "$out/sketch.key" \
		--spool "$out/spool$i" 2>"$out/sensor$i.log" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
last=$((start + 3 * 86400 - step))
# Until the RRDs hold the last interval and the records of any sensor that
# came late (after the others had made an interval final) have been
# applied by a catch-up (DATADIR/catchup gone); at most ten minutes.
for _ in $(seq 3000); do
	if [ "$(cat "$out/data/last_final" 2>/dev/null || echo 0)" -ge $last ] &&
	    [ ! -e "$out/data/catchup" ]; then
		break
	fi
	kill -0 $agg 2>/dev/null || break
	sleep 0.2
done
kill -TERM $agg
wait $agg || true
trap - EXIT
tail -n 2 "$out/aggregator.log"

cat >"$out/events" <<'EOF'
# WHEN (Japan time) KEY TEXT [URL...]: drawn on the graphs of that key
2023-12-31T12:00 tcp/5168 TCP 5168 scan campaign begins https://www.jpcert.or.jp/
2024-01-01 * New Year in Japan time
EOF
"$build"/graph/teiten-graph top -d "$out/data" --period 2023Q4 -n 10
"$build"/graph/teiten-graph top -d "$out/data" --period 2023Q4 -n 5 --by sources
"$build"/graph/teiten-graph png -d "$out/data" --events "$out/events" \
	--period 2023-12-30..2024-01-01 --key tcp/5168 -o "$out/tcp-5168.png"
# The analysts' settings, as teiten.conf's [graph] section holds them:
# the watched ports always have a page and appear on every report.
cat >"$out/graph.conf" <<EOF
[graph]
datadir = $out/data
events = $out/events
watch = tcp/5168 tcp/445 icmp/8
group = domestic sensor1 sensor2 sensor3
group = overseas sensor4 sensor5
EOF
"$build"/graph/teiten-graph site -c "$out/graph.conf" -o "$out/site"
echo
echo "$n sensors -> teiten-aggregator -> $(find "$out/data/rrd" -name '*.rrd' | wc -l) RRD files -> web page:"
echo "$out/site/index.html"
echo "the report on the quarter that ended on the second day: $out/site/report/2023Q4.html"
echo "each sensor's page, and the two groups side by side: $out/site/sensor/index.html, $out/site/groups.html"
echo "TCP 5168 over the three days, with the notes: $out/tcp-5168.png"
