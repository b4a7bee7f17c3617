"""The sensor's spool and the aggregator's keys, with real processes:
- aggregator unreachable, spool bounded: with drop-oldest the newest
  records stay, the oldest go, the loss is logged, and once the aggregator
  is back every kept record arrives and their spooldrops totals add up to
  exactly the number of records lost; with drop-new the oldest stay;
- a sensor missing from the keys file is refused until the file gains it
  and the aggregator gets SIGHUP;
- every reporting sensor gets a health RRD."""

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

T0 = 1700000000


def spooled(spool):
    return sorted(int(os.path.basename(p).split(".")[0])
                  for p in glob.glob(os.path.join(spool, "*.rec")))


def fill_spool(pcap, sid, key, spool, policy, port):
    """Replay towards a port where nobody listens; stop it after a while."""
    p = subprocess.Popen([T.sensor_path(), "-r", pcap, "-a",
                          "127.0.0.1:%d" % port, "-s", sid, "-K", key,
                          "--spool", spool, "--spool-max", "65536",
                          "--spool-full", policy],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=20)[1]
    return p.returncode, err


def test_spool(tmp, pcap, keysfile, keys, starts):
    port = A.free_port()
    spool = os.path.join(tmp, "spool-old")
    rc, err = fill_spool(pcap, "s1", keys["s1"], spool, "drop-oldest", port)
    kept = spooled(spool)
    lost = err.count("dropping the oldest record")
    size = sum(os.path.getsize(p) for p in
               glob.glob(os.path.join(spool, "*.rec")))
    check(rc == 1 and "stopped before every record" in err,
          "interrupted replay exits 1 and says records are left")
    check(size <= 65536 and lost > 0 and len(kept) + lost == len(starts),
          "drop-oldest: spool within 64 KiB, %d kept + %d logged lost = "
          "%d intervals" % (len(kept), lost, len(starts)))
    check(kept == starts[-len(kept):], "drop-oldest keeps the newest")

    spool_new = os.path.join(tmp, "spool-new")
    rc, err = fill_spool(pcap, "s2", keys["s2"], spool_new, "drop-new", port)
    kept_new = spooled(spool_new)
    dropped = sorted(set(starts) - set(kept_new))
    # A smaller record may still fit after a larger one was refused.
    check(dropped and kept_new[:10] == starts[:10] and
          all(d > starts[9] for d in dropped) and
          err.count("dropping the new record") == len(dropped),
          "drop-new keeps the oldest and logs each of the %d new records "
          "lost" % len(dropped))

    agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data"),
                       port=port).start()
    empty = os.path.join(tmp, "empty.pcap")
    A.gencap(empty, 1, 1, T0, 9)  # one packet in the first interval
    p = A.run_sensor_to(agg, "s1", keys["s1"], empty, spool)
    check(p.returncode == 0 and spooled(spool) == [],
          "with the aggregator back, the spool empties")
    agg.wait_final(starts[-1])
    recs = [r for r in A.archive_records(agg.datadir) if r[0] == "s1"]
    check(sum(r[3]["spooldrops"] for r in recs) == lost,
          "archived records carry exactly the %d spool drops" % lost)
    health = os.path.join(agg.datadir, "rrd", "sensor", "s1.rrd")
    rows = A.rrd_fetch(health, starts[0], starts[-1] + 60)
    check(os.path.exists(health) and any(v for v in rows.values()),
          "the sensor has a health RRD")
    return agg


def test_sighup(tmp, agg, keysfile, pcap):
    with open(keysfile) as f:
        before = f.read()
    key = os.urandom(32).hex()
    keyfile = os.path.join(tmp, "s9.key")
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    os.chmod(keyfile, 0o600)
    p = subprocess.Popen([T.sensor_path(), "-r", pcap, "-a", agg.addr, "-s",
                          "s9", "-K", keyfile, "--spool",
                          os.path.join(tmp, "spool-s9")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(2)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=20)
    check(p.returncode == 1 and "unknown sensor" in agg.text(),
          "a sensor not in the keys file is refused")
    with open(keysfile, "w") as f:
        f.write(before + "s9 %s\n" % key)
    agg.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    p = A.run_sensor_to(agg, "s9", keyfile, pcap,
                        os.path.join(tmp, "spool-s9"), check=False)
    check(p.returncode == 0 and "sensor keys loaded" in agg.text(),
          "after SIGHUP the new sensor's records are accepted")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        pcap = os.path.join(tmp, "s.pcap")
        A.gencap(pcap, 60000, 6000, T0, 5)
        starts = sorted({k[0] for k in A.sensor_print(pcap)})
        keysfile, keys = A.make_keys(tmp, ["s1", "s2"])
        agg = test_spool(tmp, pcap, keysfile, keys, starts)
        try:
            test_sighup(tmp, agg, keysfile, pcap)
        finally:
            agg.stop()
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
