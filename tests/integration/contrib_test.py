"""What contrib/ installs for operators.

(a) The systemd units, with their @bindir@/@sbindir@ pointing at this
    build's programs, pass `systemd-analyze verify` with nothing to say.
(b) contrib/teiten.conf.sample works as shipped, with only the paths and
    addresses a test must change (datadir, keys, spool, port, the key of
    the one sensor) replaced: a real aggregator reads its [aggregator]
    section, a sensor its [sensor] section (the capture from -r instead
    of the interface), the sensor's records arrive, and the RRDs hold the
    counts of the sensor's own --print output."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

SRC = os.environ["TEITEN_SRCDIR"]
T0 = 1700006400


def check_units(tmp):
    if shutil.which("systemd-analyze") is None:
        check(False, "systemd-analyze is installed (package systemd)")
        return
    sysd = os.path.join(SRC, "contrib", "systemd")
    paths = {"@sbindir@": os.path.dirname(T.sensor_path()),
             "@bindir@": os.path.dirname(os.environ["TEITEN_GRAPH"])}
    units = []
    for name in sorted(os.listdir(sysd)):
        if not re.search(r"\.(service|timer)(\.in)?$", name):
            continue
        with open(os.path.join(sysd, name)) as f:
            text = f.read()
        for k, v in paths.items():
            text = text.replace(k, v)
        # the aggregator is in aggregator/, not beside the sensor
        text = text.replace(os.path.join(paths["@sbindir@"],
                                         "teiten-aggregator"),
                            A.aggregator_path())
        out = os.path.join(tmp, name[:-3] if name.endswith(".in") else name)
        with open(out, "w") as f:
            f.write(text)
        units.append(out)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                       capture_output=True, text=True, cwd=tmp)
    check(len(units) == 4 and p.returncode == 0 and not p.stderr.strip(),
          "systemd-analyze verify: %d units, exit %d, %r" %
          (len(units), p.returncode, p.stderr.strip()[-300:]))


def sample_conf(tmp, port, key):
    with open(os.path.join(SRC, "contrib", "teiten.conf.sample")) as f:
        text = f.read()
    subst = {"datadir": os.path.join(tmp, "data"),
             "keys": os.path.join(tmp, "sensors.keys"),
             "spool_dir": os.path.join(tmp, "spool"),
             "key_file": key,
             "aggregator": "127.0.0.1:%d" % port,
             "listen": "127.0.0.1:%d" % port}
    for k, v in subst.items():
        text, n = re.subn(r"(?m)^%s = .*$" % k, "%s = %s" % (k, v), text)
        check(n == 1, "the sample sets %s once" % k)
    conf = os.path.join(tmp, "teiten.conf")
    with open(conf, "w") as f:
        f.write(text)
    return conf


def check_sample(tmp):
    os.chmod(tmp, 0o755)  # the sensor writes its spool as nobody
    with open(os.path.join(SRC, "contrib", "teiten.conf.sample")) as f:
        text = f.read()
    sid = re.search(r"(?m)^sensor_id = (\S+)", text).group(1)
    interval = int(re.search(r"(?m)^interval = (\d+)", text).group(1))
    monitors = re.findall(r"(?m)^monitor = (\S+)", text)
    keysfile, keys = A.make_keys(tmp, [sid])
    port = A.free_port()
    conf = sample_conf(tmp, port, keys[sid])
    cap = os.path.join(tmp, "s.pcap")
    # gencap writes to 203.0.113.0/24, the sample's first prefix
    A.gencap(cap, 3000, 600, T0, 7)
    counts = T.parse_print(T.run_sensor(
        ["-r", cap, "-n", str(interval), "-m", ",".join(monitors),
         "--print"]).stdout)
    check(sum(counts.values()) > 2000, "most of the capture is to the "
          "sample's monitored prefixes (%d packets)" % sum(counts.values()))
    logf = open(os.path.join(tmp, "aggregator.log"), "w")
    agg = subprocess.Popen([A.aggregator_path(), "-f", "-c", conf,
                            "--grace", "2"], stdout=logf, stderr=logf)
    logf.close()
    try:
        A.wait_listen(port, agg)
        p = subprocess.run([T.sensor_path(), "-c", conf, "-r", cap],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "the sensor, configured by the sample, "
              "replays to the aggregator (%s)" % p.stderr.strip()[-200:])
        starts = sorted({k[0] for k in counts})
        data = os.path.join(tmp, "data")
        ok = A.wait_path_final(data, starts[-1])
    finally:
        agg.terminate()
        agg.wait(20)
    check(ok, "the aggregator, configured by the sample, made interval %d "
          "final" % starts[-1])
    bad = []
    for (s, proto, key), n in sorted(counts.items())[:40]:
        rows = A.rrd_fetch(os.path.join(data, "rrd", proto, "%d.rrd" % key),
                           s, s + interval)
        if not A.close(rows.get(s + interval), float(n)):
            bad.append("%s/%d at %d: %r, expected %d" %
                       (proto, key, s, rows.get(s + interval), n))
    for b in bad[:5]:
        print("    " + b)
    check(not bad, "the RRDs hold the sensor's --print counts (one sensor: "
          "the average is the count)")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_units(tmp)
        os.chmod(tmp, 0o755)  # the sensor writes its spool as nobody
        os.mkdir(os.path.join(tmp, "run"))
        check_sample(os.path.join(tmp, "run"))
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
