"""The daemons' metrics (metrics = ADDR:PORT), scraped by a real Prometheus:
- a sensor replays a generated capture towards an aggregator that is not
  up yet, so that it waits, serving its metrics, with every record in the
  spool; `promtool check metrics` passes on what it serves, and
  Prometheus's HTTP API returns its packets seen equal to tshark's count
  of the capture and its records waiting equal to the capture's intervals
  (read from the pcap record headers);
- the aggregator starts; `promtool check metrics` passes on its output,
  the sensor delivers and exits 0, and Prometheus returns
  teiten_records_total{outcome="stored"} and teiten_intervals_final_total
  equal to the intervals sent, and the newest final interval equal to the
  capture's last;
- a shared capture (if the folder is there) gives the same packet count
  as tshark through Prometheus;
- as root, a live sensor on lo, filtered to a UDP port the test holds,
  serves its metrics from its event loop: Prometheus returns the number
  of datagrams the test sent there;
- GET of another path is 404, another method 405;
- -t on both daemons names a metrics address that cannot be bound, and
  an address without a port is refused at once.
Skips (77) only when prometheus or promtool is not installed
(contrib/setup-debian.sh --test installs them)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import check  # noqa: E402

T0 = 1700000000
INTERVAL = 60
SHARED = "pcaphunt_ps-tcp_syn.pcap"


def get(url, method="GET"):
    """(status, body) of one request; errors as their status."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


def promtool_ok(text, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True)
    return check(p.returncode == 0 and p.stdout.strip() == "" and
                 p.stderr.strip() == "",
                 "promtool check metrics passes on the %s's output%s" %
                 (what, "" if p.returncode == 0 else
                  ": " + (p.stdout + p.stderr)[:500]))


def served(url, proc):
    """The text at url once it answers 200; proc must not exit."""
    def ready():
        if proc.poll() is not None:
            return "exited"
        status, body = get(url)
        return body if status == 200 else None
    body = T.wait_for(ready, 60, url)
    if body == "exited" or not body:
        T.fail("%s not served (process %s)" %
               (url, "exited" if proc.poll() is not None else "running"))
    return body


def intervals(pcap):
    """Interval starts the sensor reports: every one from the first
    packet's to the last's, read from the pcap record headers."""
    secs = T.pcap_seconds(pcap)
    first, last = min(secs) // INTERVAL, max(secs) // INTERVAL
    return [i * INTERVAL for i in range(first, last + 1)]


class Prometheus:
    def __init__(self, tmp, targets):
        self.port = A.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  scrape_timeout: 1s\nscrape_configs:\n")
            for job, addr in targets.items():
                f.write("  - job_name: %s\n    static_configs:\n"
                        "      - targets: ['%s']\n" % (job, addr))
        self.log = os.path.join(tmp, "prometheus.log")
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen(
                ["prometheus", "--config.file=" + conf,
                 "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                 "--web.listen-address=127.0.0.1:%d" % self.port],
                stdout=logf, stderr=logf)
        ok = T.wait_for(lambda: self.proc.poll() is not None or
                        get(self.url + "/-/ready")[0] == 200, 60,
                        "prometheus to be ready")
        if not ok or self.proc.poll() is not None:
            with open(self.log) as f:
                T.fail("prometheus did not start: " + f.read()[-2000:])

    def query(self, q):
        """{job: value} of an instant query, as floats."""
        status, body = get(self.url + "/api/v1/query?" +
                           urllib.parse.urlencode({"query": q}))
        if status != 200:
            return {}
        res = json.loads(body)["data"]["result"]
        return {r["metric"].get("job", ""): float(r["value"][1])
                for r in res}

    def wait_value(self, q, job, want, timeout=90):
        """Until the query returns want for job; the last value seen."""
        seen = [None]

        def pred():
            seen[0] = self.query(q).get(job)
            return seen[0] == want
        T.wait_for(pred, timeout, "%s == %s in prometheus" % (q, want))
        return seen[0]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_sensor(tmp, sid, pcap, key, agg_port, metrics_port):
    """A replay towards agg_port, serving metrics; it waits there until
    an aggregator listens."""
    return subprocess.Popen(
        [T.sensor_path(), "-r", pcap, "-a", "127.0.0.1:%d" % agg_port,
         "-s", sid, "-K", key, "--spool", os.path.join(tmp, "spool-" + sid),
         "-n", str(INTERVAL), "--metrics", "127.0.0.1:%d" % metrics_port],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def check_http(url):
    check(get(url.replace("/metrics", "/other"))[0] == 404,
          "GET of another path: 404")
    check(get(url, "POST")[0] == 405, "POST /metrics: 405")


def value(text, series):
    """The value of one series (name with its labels) in exposition
    text, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    return None


def test_check(tmp, keysfile, keys, pcap):
    """-t with the metrics address held by another socket, and a bad one."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    busy = "127.0.0.1:%d" % held.getsockname()[1]
    try:
        runs = {
            "aggregator": [A.aggregator_path(), "-t", "-l",
                           "127.0.0.1:%d" % A.free_port(), "-d",
                           os.path.join(tmp, "data-t"), "-K", keysfile],
            "sensor": [T.sensor_path(), "-t", "-r", pcap, "-a",
                       "127.0.0.1:4774", "-s", "s1", "-K", keys["s1"],
                       "--spool", os.path.join(tmp, "spool-t")],
        }
        for who, cmd in runs.items():
            p = subprocess.run(cmd + ["--metrics", busy],
                               capture_output=True, text=True)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 1 and len(lines) == 1 and
                  "metrics: cannot listen on %s" % busy in lines[0],
                  "%s -t names the metrics address in use (%r)" %
                  (who, p.stderr.strip()))
            p = subprocess.run(cmd + ["--metrics", "127.0.0.1"],
                               capture_output=True, text=True)
            check(p.returncode == 1 and "ADDR:PORT" in p.stderr,
                  "%s: --metrics without a port is refused (%r)" %
                  (who, p.stderr.strip()))
    finally:
        held.close()


LIVE_DATAGRAMS = 50


def start_live(metrics_port):
    """A live sensor on lo counting only datagrams to a UDP port this
    test holds (bound, so no ICMP answers them); None when not root."""
    if os.geteuid() != 0:
        print("NOTE: not root: the live sensor part is skipped")
        return None, None
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    p = subprocess.Popen(
        [T.sensor_path(), "-i", "lo", "--print", "--metrics",
         "127.0.0.1:%d" % metrics_port, "udp and dst port %d" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p, held


def test_live(prom, live, held, url):
    promtool_ok(served(url, live), "live sensor")
    port = held.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(LIVE_DATAGRAMS):
            s.sendto(b"teiten %d" % i, ("127.0.0.1", port))
    got = prom.wait_value("teiten_capture_packets_seen_total", "live",
                          LIVE_DATAGRAMS)
    check(got == LIVE_DATAGRAMS, "prometheus: the live sensor saw %s "
          "packets, the test sent %d" % (got, LIVE_DATAGRAMS))
    live.send_signal(signal.SIGTERM)
    err = live.communicate(timeout=60)[1]
    check(live.returncode == 0, "the live sensor stops on SIGTERM, exit "
          "0%s" % ("" if live.returncode == 0 else ": " + err[-500:]))
    held.close()


def test(tmp):
    pcap = os.path.join(tmp, "s1.pcap")
    A.gencap(pcap, 3000, 600, T0, 11)
    starts = intervals(pcap)
    npackets = len(T.tshark_frames(pcap))
    keysfile, keys = A.make_keys(tmp, ["s1", "s2"])
    test_check(tmp, keysfile, keys, pcap)
    agg_port, agg_mport, s1_mport = (A.free_port(), A.free_port(),
                                     A.free_port())
    s1 = start_sensor(tmp, "s1", pcap, keys["s1"], agg_port, s1_mport)
    targets = {"aggregator": "127.0.0.1:%d" % agg_mport,
               "sensor": "127.0.0.1:%d" % s1_mport}
    shared = T.pcaps_dir()
    s2 = None
    if shared and os.path.exists(os.path.join(shared, SHARED)):
        s2_mport = A.free_port()
        # Nothing ever listens there: it serves its metrics until stopped.
        s2 = start_sensor(tmp, "s2", os.path.join(shared, SHARED),
                          keys["s2"], A.free_port(), s2_mport)
        targets["shared"] = "127.0.0.1:%d" % s2_mport
    elif shared:
        print("NOTE: %s not in %s; the shared capture part is skipped" %
              (SHARED, shared))

    live_mport = A.free_port()
    live, held = start_live(live_mport)
    if live is not None:
        targets["live"] = "127.0.0.1:%d" % live_mport

    s1_url = "http://127.0.0.1:%d/metrics" % s1_mport
    text = served(s1_url, s1)
    promtool_ok(text, "sensor")
    check_http(s1_url)
    prom = Prometheus(tmp, targets)
    agg = None
    try:
        got = prom.wait_value("teiten_capture_packets_seen_total", "sensor",
                              npackets)
        check(got == npackets, "prometheus: the sensor saw %s packets, "
              "tshark counts %d" % (got, npackets))
        got = prom.wait_value("teiten_spool_records", "sensor", len(starts))
        check(got == len(starts), "prometheus: %s records wait in the "
              "sensor's spool, the capture has %d intervals" %
              (got, len(starts)))
        check(prom.query("teiten_sender_connected").get("sensor") == 0,
              "prometheus: the sensor is not connected")
        if s2 is not None:
            want = len(T.tshark_frames(os.path.join(shared, SHARED)))
            got = prom.wait_value("teiten_capture_packets_seen_total",
                                  "shared", want)
            check(got == want, "prometheus: the shared capture's sensor "
                  "saw %s packets, tshark counts %d" % (got, want))
            s2.send_signal(signal.SIGTERM)
            err = s2.communicate(timeout=60)[1]
            check(s2.returncode == 1 and "stopped before every record" in
                  err, "the waiting sensor stops on SIGTERM, its records "
                  "kept")

        if live is not None:
            test_live(prom, live, held,
                      "http://127.0.0.1:%d/metrics" % live_mport)

        agg = A.Aggregator(tmp, keysfile, os.path.join(tmp, "data"),
                           port=agg_port,
                           extra=["-n", str(INTERVAL), "--metrics",
                                  "127.0.0.1:%d" % agg_mport]).start()
        agg_url = "http://127.0.0.1:%d/metrics" % agg_mport
        promtool_ok(served(agg_url, agg.proc), "aggregator")
        check_http(agg_url)
        err = s1.communicate(timeout=180)[1]
        check(s1.returncode == 0, "the sensor delivers every record and "
              "exits 0%s" % ("" if s1.returncode == 0 else ": " + err[-500:]))

        got = prom.wait_value('teiten_records_total{outcome="stored"}',
                              "aggregator", len(starts))
        check(got == len(starts), "prometheus: the aggregator stored %s "
              "records, the sensor sent %d intervals" % (got, len(starts)))
        got = prom.wait_value("teiten_intervals_final_total", "aggregator",
                              len(starts))
        check(got == len(starts), "prometheus: %s intervals final" % got)
        got = prom.wait_value("teiten_last_final_interval_timestamp_seconds",
                              "aggregator", starts[-1])
        check(got == starts[-1], "prometheus: the newest final interval is "
              "%s, the capture's last is %d" % (got, starts[-1]))
        got = prom.wait_value('teiten_sensor_records_total'
                              '{sensor="s1",outcome="stored"}',
                              "aggregator", len(starts))
        check(got == len(starts), "prometheus: sensor s1's records stored: "
              "%s of %d" % (got, len(starts)))
        got = prom.wait_value('teiten_sensor_packets_total{sensor="s1"}',
                              "aggregator", npackets)
        check(got == npackets, "prometheus: sensor s1's packets at the "
              "aggregator: %s, tshark counts %d" % (got, npackets))
        # The sensor's, and the one agglib opens to see it listen.
        got = prom.wait_value('teiten_connections_total'
                              '{outcome="accepted"}', "aggregator", 2)
        check(got == 2, "prometheus: %s connections accepted: the "
              "sensor's and the test's probe" % got)

        text = served(agg_url, agg.proc)
        promtool_ok(text, "aggregator (after the records)")
        n = value(text, "teiten_archive_commit_seconds_count")
        inf = value(text, 'teiten_archive_commit_seconds_bucket{le="+Inf"}')
        check(n is not None and n >= 1 and inf == n,
              "archive commits timed: %s, +Inf bucket %s" % (n, inf))
        check(value(text, "teiten_rrd_queue_intervals") is not None,
              "the RRD writer's backlog is served")
    finally:
        prom.stop()
        for p in (s1, s2, live):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if agg is not None:
            rc = agg.stop()
            check(rc == 0, "the aggregator stops cleanly (exit %s)" % rc)
            if T.FAILURES:
                print(agg.text()[-3000:])


def main():
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            print("SKIP: %s is not installed (Debian package prometheus; "
                  "contrib/setup-debian.sh --test installs it)" % tool)
            return T.SKIP
    T.require("tshark")
    T.run_in_tmp("teiten-metrics-", test)


if __name__ == "__main__":
    sys.exit(main())
