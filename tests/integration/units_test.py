"""The systemd units of contrib/systemd, as far as a container without a
running systemd can try them.

(a) Hardening: `systemd-analyze security --offline=true` rates each
    service 3.0 or lower ("Overall exposure level"), and each says why
    the exposure left is needed.  What the units promise is read from the
    unit files themselves: the sensor runs as teiten with CAP_NET_RAW
    alone, ambient and bounding; the aggregator takes its datadir from the
    configuration (no -d); each is Type=notify with a watchdog.
(b) Readiness: a daemon started with NOTIFY_SOCKET (a Unix datagram
    socket this test binds) sends READY=1 once it can do its job (the
    aggregator accepts a connection at that moment), WATCHDOG=1 every half
    of WATCHDOG_USEC when that is set and never when it is not, and
    STOPPING=1 on SIGTERM; every message comes from the daemon's own pid.
(c) The sensor as the unit starts it: the unit's User=, its
    AmbientCapabilities= and CapabilityBoundingSet= and NoNewPrivileges=
    turned into a setpriv(1) command line, the user made from
    teiten.sysusers when missing (and removed again), and
    contrib/teiten.conf.sample, with "user = teiten" left as shipped and
    only the interface and paths replaced, captures on a veth in a network
    namespace: after READY=1, datagrams sent from the other namespace to
    the sample's monitored prefix are printed with exactly the counts
    sent; the interface is promiscuous (so CAP_NET_ADMIN is not needed for
    that); while it captures the sensor runs as teiten with no capability
    left at all; its spool is made, its own.

Needs root, systemd-analyze, systemd-sysusers, setpriv and iproute2."""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import live_test as L  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

SRC = os.environ["TEITEN_SRCDIR"]
SYSD = os.path.join(SRC, "contrib", "systemd")
SERVICES = ("teiten-sensor", "teiten-aggregator", "teiten-site")
THRESHOLD = 3.0
MONITORED = "203.0.113.0/24"
# Datagrams sent to the sample's monitored prefix: port -> how many.
SENT = {161: 7, 5060: 4, 53: 1}


def unit_text(name):
    with open(os.path.join(SYSD, name + ".service.in")) as f:
        return f.read()


def unit_values(text, key):
    """Every value of key= in the unit, in order (a bare "key=" too)."""
    return re.findall(r"(?m)^%s=(.*)$" % re.escape(key), text)


def unit_value(text, key):
    v = unit_values(text, key)
    return v[-1].strip() if v else None


def install_units(tmp):
    """The units with @sbindir@ and @bindir@ pointing at this build."""
    paths = {"@sbindir@/teiten-sensor": T.sensor_path(),
             "@sbindir@/teiten-aggregator": A.aggregator_path(),
             "@bindir@/teiten-graph": os.environ["TEITEN_GRAPH"]}
    out = {}
    for name in SERVICES:
        text = unit_text(name)
        for k, v in paths.items():
            text = text.replace(k, v)
        check(re.search(r"@[a-z]+@", text) is None,
              "%s: every @...@ is replaced" % name)
        out[name] = os.path.join(tmp, name + ".service")
        with open(out[name], "w") as f:
            f.write(text)
    return out


def check_security(tmp):
    units = install_units(tmp)
    for name, path in units.items():
        p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                            "--no-pager", path],
                           capture_output=True, text=True, cwd=tmp)
        m = re.search(r"Overall exposure level for %s\.service: "
                      r"(\d+\.\d+)" % re.escape(name), p.stdout)
        if not check(m is not None, "%s: systemd-analyze security rates "
                     "it" % name):
            print(p.stdout[-1000:] + p.stderr[-1000:])
            continue
        score = float(m.group(1))
        check(score <= THRESHOLD, "%s: exposure %.1f, at most %.1f" %
              (name, score, THRESHOLD))
        exposed = [ln for ln in p.stdout.splitlines() if "\u2717" in ln]
        print("    %s: %d settings left exposed" % (name, len(exposed)))
        text = unit_text(name)
        check("# Exposure kept, and why" in text,
              "%s: a comment says why the exposure left is needed" % name)
        check(unit_value(text, "Type") == ("oneshot" if name == "teiten-site"
                                           else "notify"),
              "%s: Type=%s" % (name, unit_value(text, "Type")))
        check(unit_value(text, "NoNewPrivileges") == "yes",
              "%s: NoNewPrivileges=yes" % name)
        check(unit_value(text, "User") == "teiten",
              "%s: User=teiten" % name)
        if name != "teiten-site":
            check(unit_value(text, "WatchdogSec") not in (None, "0"),
                  "%s: WatchdogSec=%s" % (name,
                                          unit_value(text, "WatchdogSec")))
    s = unit_text("teiten-sensor")
    check(unit_value(s, "AmbientCapabilities") == "CAP_NET_RAW" and
          unit_value(s, "CapabilityBoundingSet") == "CAP_NET_RAW",
          "the sensor gets CAP_NET_RAW and nothing else")
    a = unit_text("teiten-aggregator")
    start = unit_value(a, "ExecStart") or ""
    check(" -d" not in start and "--datadir" not in start,
          "the aggregator's datadir is the configuration's: %s" % start)
    check(unit_value(a, "StateDirectory") == "teiten",
          "the aggregator may write /var/lib/teiten, the sample's datadir")


class Notify:
    """A NOTIFY_SOCKET: a Unix datagram socket with the senders' pids."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)  # the sensor writes to it as teiten
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    def recv(self, timeout):
        """(time, pid, text) of the next message, or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            data, anc, _, _ = self.sock.recvmsg(
                4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, kind, d in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = int.from_bytes(d[:4], sys.byteorder)
        return time.monotonic(), pid, data.decode()

    def until(self, word, timeout, seen):
        """Collects messages into seen until one has the line word."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                break
            seen.append(m)
            if word in m[2].split("\n"):
                return m
        return None

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def run_aggregator(tmp, keysfile, port, notify, watchdog_usec):
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    env.pop("WATCHDOG_USEC", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    log = open(os.path.join(tmp, "aggregator.log"), "a")
    p = subprocess.Popen([A.aggregator_path(), "-f", "-d",
                          os.path.join(tmp, "data"), "-K", keysfile, "-l",
                          "127.0.0.1:%d" % port], env=env, stdout=log,
                         stderr=log)
    log.close()
    return p


def check_readiness(tmp):
    keysfile, _ = A.make_keys(tmp, ["s1"])
    for usec in (None, 2000000):
        notify = Notify(os.path.join(tmp, "notify.sock"))
        port = A.free_port()
        p = run_aggregator(tmp, keysfile, port, notify, usec)
        seen = []
        try:
            ready = notify.until("READY=1", 60, seen)
            check(ready is not None, "aggregator (WATCHDOG_USEC %s): "
                  "READY=1 arrives" % usec)
            if ready is None:
                continue
            check(ready[1] == p.pid, "READY=1 comes from the aggregator's "
                  "pid (%s, %d)" % (ready[1], p.pid))
            try:
                socket.create_connection(("127.0.0.1", port), 5).close()
                listening = True
            except OSError:
                listening = False
            check(listening, "when READY=1 arrives, the aggregator accepts "
                  "connections")
            check(any(ln.startswith("STATUS=listening on")
                      for m in seen for ln in m[2].split("\n")),
                  "a STATUS= line says where it listens")
            if usec:
                dogs = []
                while len(dogs) < 5:
                    m = notify.until("WATCHDOG=1", usec / 1e6 * 2, seen)
                    if m is None:
                        break
                    dogs.append(m)
                check(len(dogs) == 5 and all(m[1] == p.pid for m in dogs),
                      "WATCHDOG=1 keeps coming from the aggregator's pid "
                      "(%d seen)" % len(dogs))
                # The first is sent at once; then every half period.
                gaps = [b[0] - a[0] for a, b in zip(dogs[1:], dogs[2:])]
                half = usec / 2e6
                check(gaps and all(0.9 * half <= g < 2 * half for g in gaps),
                      "WATCHDOG=1 every half of WATCHDOG_USEC (%.1f s): %s" %
                      (half, ", ".join("%.2f" % g for g in gaps)))
            p.send_signal(signal.SIGTERM)
            stop = notify.until("STOPPING=1", 30, seen)
            check(stop is not None and stop[1] == p.pid,
                  "STOPPING=1 arrives after SIGTERM")
            check(p.wait(60) == 0, "the aggregator exits 0")
            if not usec:
                check(not any("WATCHDOG=1" in m[2] for m in seen),
                      "no WATCHDOG=1 without WATCHDOG_USEC")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            notify.close()


def sensor_sample_conf(tmp, iface, spool, key):
    with open(os.path.join(SRC, "contrib", "teiten.conf.sample")) as f:
        text = f.read()
    check(re.search(r"(?m)^user = teiten$", text) is not None,
          "the sample configuration says user = teiten")
    check(re.search(r"(?m)^monitor = %s$" % re.escape(MONITORED), text)
          is not None, "the sample monitors %s" % MONITORED)
    subst = {"interface": iface, "spool_dir": spool, "key_file": key,
             "aggregator": "127.0.0.1:%d" % A.free_port()}
    for k, v in subst.items():
        text, n = re.subn(r"(?m)^%s = .*$" % k, "%s = %s" % (k, v), text)
        check(n == 1, "the sample sets %s once" % k)
    conf = os.path.join(tmp, "teiten.conf")
    with open(conf, "w") as f:
        f.write(text)
    os.chmod(conf, 0o644)
    return conf


def setpriv_argv(text):
    """setpriv(1) doing what the unit's settings do."""
    user = unit_value(text, "User")
    group = unit_value(text, "Group")
    amb = unit_value(text, "AmbientCapabilities").split()
    bound = unit_value(text, "CapabilityBoundingSet").split()
    caps = ",".join("+" + c[len("CAP_"):].lower() for c in amb)
    argv = ["setpriv", "--reuid", user, "--regid", group, "--init-groups",
            "--inh-caps", caps, "--ambient-caps", caps, "--bounding-set",
            ",".join(["-all"] + ["+" + c[len("CAP_"):].lower()
                                 for c in bound])]
    if unit_value(text, "NoNewPrivileges") == "yes":
        argv.append("--no-new-privs")
    return argv


def check_install_files(tmp):
    """teiten.sysusers and teiten.tmpfiles applied to an empty root: the
    user, and the spools' folder the sensor unit may write, owned by it."""
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc"))
    for tool, name in (("systemd-sysusers", "teiten.sysusers"),
                       ("systemd-tmpfiles", "teiten.tmpfiles")):
        with open(os.path.join(SYSD, name)) as f:
            p = subprocess.run([tool, "--root=" + root] +
                               (["--create"] if "tmpfiles" in tool else []) +
                               ["-"], stdin=f, capture_output=True,
                               text=True)
        check(p.returncode == 0, "%s %s: exit %d %s" % (
            tool, name, p.returncode, p.stderr.strip()[-200:]))
    users = {}
    with open(os.path.join(root, "etc", "passwd")) as f:
        for line in f:
            v = line.rstrip("\n").split(":")
            users[v[0]] = v
    u = users.get("teiten")
    check(u is not None and 0 < int(u[2]) < 1000 and
          u[5] == "/var/lib/teiten" and u[6].endswith("nologin"),
          "teiten.sysusers makes teiten a system user without a shell: %s" %
          u)
    spools = "/var/spool/teiten-sensor"
    try:
        st = os.stat(root + spools)
    except OSError as e:
        st = None
        print(e)
    check(st is not None and u is not None and st.st_uid == int(u[2]) and
          st.st_gid == int(u[3]) and st.st_mode & 0o777 == 0o755,
          "teiten.tmpfiles makes %s, teiten's" % spools)
    text = unit_text("teiten-sensor")
    check(unit_values(text, "ReadWritePaths") == [spools],
          "the sensor unit may write %s and nothing else" % spools)
    with open(os.path.join(SRC, "contrib", "teiten.conf.sample")) as f:
        m = re.search(r"(?m)^spool_dir = (.*)$", f.read())
    check(m is not None and m.group(1).startswith(spools + "/"),
          "the sample's spool is in %s" % spools)


def make_user():
    """The teiten user, from the sysusers file if missing: True if made."""
    try:
        pwd.getpwnam("teiten")
        return False
    except KeyError:
        pass
    subprocess.run(["systemd-sysusers",
                    os.path.join(SYSD, "teiten.sysusers")], check=True)
    pw = pwd.getpwnam("teiten")
    check(pw.pw_uid != 0 and pw.pw_uid < 1000,
          "teiten.sysusers makes teiten a system user (uid %d)" % pw.pw_uid)
    return True


def proc_status(pid):
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.split()
    return st


def check_sensor_unit(tmp, net):
    text = unit_text("teiten-sensor")
    pw = pwd.getpwnam(unit_value(text, "User"))
    net.setup()
    ips = ["ip", "-n", net.scan_ns]
    L.run(ips + ["route", "add", MONITORED, "via", L.FAKE_HOP, "dev",
                 net.scan_if])
    # The spools' folder as teiten.tmpfiles makes it, and a key readable
    # by the group, as the sample says.
    base = os.path.join(tmp, "spool")
    os.mkdir(base, 0o755)
    os.chown(base, pw.pw_uid, pw.pw_gid)
    spool = os.path.join(base, "tokyo-3")
    _, keys = A.make_keys(tmp, ["tokyo-3"])
    os.chown(keys["tokyo-3"], 0, pw.pw_gid)
    os.chmod(keys["tokyo-3"], 0o640)
    conf = sensor_sample_conf(tmp, net.dark_if, spool, keys["tokyo-3"])
    as_unit = net.dark(setpriv_argv(text) + [T.sensor_path(), "-c", conf])
    p = L.run(as_unit + ["-t"], check=False)
    check(p.returncode == 0, "-t as the unit starts it: the sample is good "
          "(%s)" % (p.stdout + p.stderr).strip())
    p = L.run(as_unit + ["-t", "-u", "nobody"], check=False)
    check(p.returncode == 1 and "cannot switch to user nobody" in p.stderr,
          "-t as teiten with another user: refused (%s)" % p.stderr.strip())
    notify = Notify(os.path.join(tmp, "sensor-notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.path,
               WATCHDOG_USEC="2000000")
    argv = as_unit + ["--print"]
    print("+ " + " ".join(argv), flush=True)
    umask = int(unit_value(text, "UMask"), 8)
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, umask=umask)
    seen = []
    try:
        ready = notify.until("READY=1", 60, seen)
        check(ready is not None and ready[1] == p.pid,
              "the sensor, as the unit starts it, sends READY=1")
        if ready is None:
            p.kill()
            out, err = p.communicate(30)
            print(err)
            return
        st = proc_status(p.pid)
        check(all(int(u) == pw.pw_uid for u in st["Uid"]) and
              all(int(g) == pw.pw_gid for g in st["Gid"]),
              "the sensor runs as teiten: Uid %s Gid %s" %
              (st["Uid"], st["Gid"]))
        check(all(int(st[k][0], 16) == 0 for k in
                  ("CapInh", "CapPrm", "CapEff", "CapAmb")),
              "no capability is left once it is ready: %s" %
              {k: st[k][0] for k in ("CapPrm", "CapEff", "CapAmb")})
        link = L.run(["ip", "-n", net.dark_ns, "-d", "link", "show",
                      net.dark_if]).stdout
        m = re.search(r"promiscuity (\d+)", link)
        check(m is not None and int(m.group(1)) > 0,
              "the interface is promiscuous without CAP_NET_ADMIN")
        dog = notify.until("WATCHDOG=1", 10, seen)
        check(dog is not None and dog[1] == p.pid,
              "the sensor sends WATCHDOG=1")
        prog = ("import socket\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "for port, n in %r.items():\n"
                "    for i in range(n):\n"
                "        s.sendto(b'x', ('203.0.113.%%d' %% (i + 1), port))\n"
                % SENT)
        L.run(net.scan([sys.executable, "-c", prog]))
        # The ring hands over a block at the capture timeout; the sensor
        # waits for it after SIGTERM before it closes the interval.
        p.send_signal(signal.SIGTERM)
        stop = notify.until("STOPPING=1", 30, seen)
        check(stop is not None, "the sensor sends STOPPING=1 on SIGTERM")
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        notify.close()
    print(err.rstrip())
    check(p.returncode == 0, "the sensor exits 0 after SIGTERM")
    check("started as user teiten: no switch needed" in err,
          "the sensor says it did not need to switch users")
    got = {}
    for (_, proto, key), n in T.parse_print(out).items():
        got[(proto, key)] = got.get((proto, key), 0) + n
    want = {("udp", port): n for port, n in SENT.items()}
    check(got == want, "the sensor counted what was sent: %s, want %s" %
          (sorted(got.items()), sorted(want.items())))
    st = os.stat(spool)
    check(st.st_uid == pw.pw_uid and st.st_mode & 0o777 == 0o700 and
          len(os.listdir(spool)) > 0,
          "its spool is made, teiten's alone (mode %o), and holds the "
          "interval" % (st.st_mode & 0o777))


def main():
    if os.geteuid() != 0:
        check(False, "the units test runs as root")
        return 1
    for tool in ("systemd-analyze", "systemd-sysusers", "setpriv", "ip"):
        check(shutil.which(tool) is not None, "%s is installed" % tool)
    if FAILURES:
        return 1
    made = False
    net = L.Net()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        try:
            check_security(tmp)
            check_readiness(tmp)
            check_install_files(tmp)
            made = make_user()
            check_sensor_unit(tmp, net)
        except L.Skip as e:
            check(False, "network namespaces: %s" % e)
        finally:
            net.cleanup()
            if made:
                subprocess.run(["userdel", "teiten"], check=False)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
