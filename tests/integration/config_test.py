"""Keys and configuration checks, as an operator meets them.

(a) `teiten-aggregator keygen ID` writes a key file of mode 0600 (whatever
    the umask), refuses to replace one (or to follow a symbolic link)
    unless told, and prints "ID HEXKEY"; a key made with
    `head -c 32 /dev/urandom | xxd -p` (hex wrapped over two lines) is
    read too.  A sensor with each key file and an aggregator whose keys
    file is the printed lines exchange records: the archive holds every
    packet of the sensors' own --print output.
(b) `-t` on both daemons: a good configuration prints "configuration OK"
    and exits 0 without creating DATADIR or the spool; a broken one exits
    1 with one line per problem, each naming its file, address or name.
(c) Without -c, /etc/teiten/teiten.conf is read if it exists and its
    absence is no error (checked in a private mount namespace where an
    overlay puts a file there; /etc itself is never written); a -c file
    that is missing is an error.
(d) A start that fails (keys file missing, address in use) leaves no
    DATADIR behind, and a sensor whose key file is missing makes no
    spool."""

import os
import re
import socket
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agglib as A  # noqa: E402
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

T0 = 1700006400
HEXKEY = re.compile(r"^[0-9a-f]{64}$")


def run(args, cwd=None, umask=None):
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd,
                          preexec_fn=pre, timeout=60)


def keygen(args, cwd=None, umask=None):
    return run([A.aggregator_path(), "keygen"] + args, cwd, umask)


def lines(text):
    return [ln for ln in text.splitlines() if ln.strip()]


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def one_line_naming(p, words, what):
    """Exit 1 and one stderr line holding every word."""
    err = lines(p.stderr)
    check(p.returncode == 1 and len(err) == 1 and
          all(w in err[0] for w in words),
          "%s: exit 1 and one line naming %s (exit %d, %r)" %
          (what, words, p.returncode, p.stderr.strip()))


def check_keygen(tmp):
    """Returns {sensor: key file} and the keys file made of the lines."""
    path = os.path.join(tmp, "s1.key")
    # umask 0 would leave a plain open(2) at 0666: the file is 0600 anyway
    p = keygen(["s1", "-o", path], umask=0)
    out = lines(p.stdout)
    check(p.returncode == 0 and len(out) == 1, "keygen s1 exits 0 and prints "
          "one line (exit %d, %r)" % (p.returncode, p.stdout + p.stderr))
    sid, hexkey = (out[0].split() + ["", ""])[:2] if out else ("", "")
    check(sid == "s1" and HEXKEY.match(hexkey) is not None,
          "the line is \"s1 HEXKEY\" with 64 hex digits: %r" % out)
    check(mode(path) == 0o600 and stat.S_ISREG(os.lstat(path).st_mode),
          "the key file is a regular file of mode 600 under umask 0 (%o)" %
          mode(path))
    with open(path) as f:
        check(f.read() == hexkey + "\n",
              "the key file holds the printed key, one line")

    before = open(path).read()
    p = keygen(["s1", "-o", path])
    one_line_naming(p, [path, "--force"], "keygen over an existing file")
    check(open(path).read() == before and lines(p.stdout) == [],
          "the existing key file is unchanged and no line is printed")
    p = keygen(["--force", "s1", "-o", path])
    new = lines(p.stdout)
    check(p.returncode == 0 and len(new) == 1 and
          new[0].split()[1] != hexkey and mode(path) == 0o600 and
          open(path).read() == new[0].split()[1] + "\n",
          "keygen --force replaces it with a new key, mode 600")
    check(sorted(os.listdir(tmp)) == ["s1.key"],
          "no temporary file is left beside it: %r" % os.listdir(tmp))
    hexkey = new[0].split()[1]

    # A link planted at the path: neither followed nor replaced.
    target = os.path.join(tmp, "target")
    link = os.path.join(tmp, "link.key")
    os.symlink(target, link)
    p = keygen(["s9", "-o", link])
    one_line_naming(p, [link], "keygen onto a symbolic link")
    check(not os.path.exists(target) and os.path.islink(link),
          "the link's target was not created")
    os.unlink(link)

    p = keygen(["s2"], cwd=tmp)
    s2 = os.path.join(tmp, "s2.key")
    check(p.returncode == 0 and os.path.isfile(s2) and mode(s2) == 0o600,
          "without -o the key goes to ./ID.key (%r)" % p.stderr.strip())
    s2line = lines(p.stdout)[0] if lines(p.stdout) else ""
    for bad in ("bad id", "a/b", ""):
        p = keygen([bad, "-o", os.path.join(tmp, "bad.key")])
        check(p.returncode != 0 and
              not os.path.exists(os.path.join(tmp, "bad.key")),
              "keygen refuses sensor id %r and writes nothing" % bad)

    # The key everyone tries first: xxd wraps the 64 digits at 60.
    s3 = os.path.join(tmp, "s3.key")
    fd = os.open(s3, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    subprocess.run("head -c 32 /dev/urandom | xxd -p > '%s'" % s3,
                   shell=True, check=True)
    with open(s3) as f:
        xxd = f.read()
    check(len(xxd.splitlines()) == 2, "xxd -p wraps the key over two lines")
    s3line = "s3 " + "".join(xxd.split())

    keys = os.path.join(tmp, "sensors.keys")
    fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("# made by keygen and by xxd\ns1 %s\n%s\n%s\n" %
                  (hexkey, s2line, s3line)).encode())
    os.close(fd)
    return {"s1": path, "s2": s2, "s3": s3}, keys


def check_exchange(tmp, keyfiles, keysfile):
    """Every sensor sends with its key file; the archive gets its packets."""
    data = os.path.join(tmp, "data")
    agg = A.Aggregator(tmp, keysfile, data).start()
    want, ok = {}, {}
    try:
        for i, sid in enumerate(sorted(keyfiles)):
            cap = os.path.join(tmp, sid + ".pcap")
            A.gencap(cap, 500, 300, T0, 11 + i)
            want[sid] = sum(A.sensor_print(cap).values())
            p = A.run_sensor_to(agg, sid, keyfiles[sid], cap,
                                os.path.join(tmp, "spool-" + sid),
                                check=False)
            ok[sid] = p.returncode == 0
            check(ok[sid], "sensor %s with its key file sends every record "
                  "(%s)" % (sid, p.stderr.strip()[-300:]))
    finally:
        agg.stop()
    got = {}
    for _start, raw in A.read_archive(data)[0]:
        rec = A.decode_record(raw)
        got[rec["sensor"]] = got.get(rec["sensor"], 0) + \
            sum(rec["counts"].values())
    for sid in sorted(keyfiles):
        check(want[sid] > 0 and got.get(sid) == want[sid],
              "the archive holds sensor %s's %d packets of --print (%r)" %
              (sid, want[sid], got.get(sid)))


def write(path, text, perm=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, perm)
    return path


def agg_t(args):
    return run([A.aggregator_path(), "-t"] + args)


def sensor_t(args):
    return run([T.sensor_path(), "-t"] + args)


def ok_line(p, what):
    check(p.returncode == 0 and lines(p.stderr) == [] and
          "configuration OK" in p.stdout,
          "%s: exit 0, \"configuration OK\" (exit %d, %r)" %
          (what, p.returncode, (p.stdout + p.stderr).strip()))


def problems(p, expect, what):
    """Exit 1, one stderr line per problem, each expected word list in
    exactly one line and no other lines."""
    err = lines(p.stderr)
    found = [[ln for ln in err if all(w in ln for w in words)]
             for words in expect]
    check(p.returncode == 1 and len(err) == len(expect) and
          all(len(f) == 1 for f in found) and
          len({f[0] for f in found}) == len(expect) and
          "configuration OK" not in p.stdout,
          "%s: exit 1, %d lines, one per problem %r (exit %d, %r)" %
          (what, len(expect), expect, p.returncode, err))


def check_agg_t(tmp, keysfile):
    port = A.free_port()
    data = os.path.join(tmp, "agg-data")
    conf = write(os.path.join(tmp, "agg.conf"),
                 "[aggregator]\nlisten = 127.0.0.1:%d\ndatadir = %s\n"
                 "keys = %s\ninterval = 60\n" % (port, data, keysfile))
    ok_line(agg_t(["-c", conf]), "aggregator -t, good configuration")
    check(not os.path.exists(data), "-t does not create DATADIR")

    # Four things wrong at once, each its own line.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    bport = busy.getsockname()[1]
    nokeys = os.path.join(tmp, "absent.keys")
    deep = os.path.join(tmp, "no", "such", "data")
    p = agg_t(["-c", conf, "-K", nokeys, "-d", deep,
               "-l", "127.0.0.1:%d" % bport, "--timezone", "Nowhere/Town"])
    problems(p, [[nokeys], [deep, os.path.join(tmp, "no")],
                 ["127.0.0.1:%d" % bport], ["Nowhere/Town"]],
             "aggregator -t: keys, DATADIR, address, zone")
    busy.close()

    loose = write(os.path.join(tmp, "loose.keys"),
                  open(keysfile).read(), 0o644)
    bad = write(os.path.join(tmp, "bad.keys"), "# one sensor\ns1 00ff\n")
    plain = write(os.path.join(tmp, "plainfile"), "")
    for args, words, what in [
            (["-K", loose], [loose, "chmod 600"], "keys file mode 644"),
            (["-K", bad], [bad + ":2:", "s1"], "malformed keys file"),
            (["-d", plain], [plain, "not a directory"],
             "DATADIR a regular file")]:
        problems(agg_t(["-c", conf] + args), [words], "aggregator -t: " +
                 what)
    # DATADIR made with another interval length.
    os.mkdir(data)
    write(os.path.join(data, "step"), "300\n", 0o644)
    problems(agg_t(["-c", conf]), [[data, "-n 300"]],
             "aggregator -t: DATADIR of another interval")
    check(sorted(os.listdir(data)) == ["step"],
          "-t wrote nothing into DATADIR")
    ok_line(agg_t(["-c", conf, "-n", "300"]),
            "aggregator -t, DATADIR's own interval")
    # Configuration file mistakes stop at the file, one line naming it.
    missing = os.path.join(tmp, "absent.conf")
    one_line_naming(agg_t(["-c", missing]), [missing],
                    "aggregator -t -c missing file")
    badconf = write(os.path.join(tmp, "badagg.conf"),
                    "[aggregator]\ngrace = soon\n")
    one_line_naming(agg_t(["-c", badconf]), [badconf + ":2:", "grace"],
                    "aggregator -t, bad value in the file")


def check_sensor_t(tmp, keyfiles):
    spool = os.path.join(tmp, "sensor-spool")
    conf = write(os.path.join(tmp, "sensor.conf"),
                 "[sensor]\ninterface = lo\naggregator = 127.0.0.1:4774\n"
                 "sensor_id = s1\nkey_file = %s\nspool_dir = %s\n"
                 "filter = tcp\n" % (keyfiles["s1"], spool))
    ok_line(sensor_t(["-c", conf]), "sensor -t, good configuration")
    check(not os.path.exists(spool), "-t does not create the spool")

    loose = write(os.path.join(tmp, "loose.key"),
                  open(keyfiles["s1"]).read(), 0o604)
    deep = os.path.join(tmp, "none", "spool")
    expect = [["nosuchif0"], [loose, "chmod 600"],
              [deep, os.path.join(tmp, "none")], ["nonsense"]]
    args = ["-c", conf, "-i", "nosuchif0", "-K", loose, "--spool", deep,
            "--filter", "tcp port nonsense"]
    if os.geteuid() == 0:
        args += ["-u", "no-such-user-x"]
        expect.append(["no-such-user-x"])
    problems(sensor_t(args), expect, "sensor -t: interface, key, spool, "
             "filter%s" % (", user" if os.geteuid() == 0 else ""))
    short = write(os.path.join(tmp, "short.key"), "00ff\n")
    problems(sensor_t(["-c", conf, "-K", short]),
             [[short, "64 hex digits", "keygen"]],
             "sensor -t: a key file that is not a key says how to make one")
    notcap = write(os.path.join(tmp, "notcap"), "not a capture\n")
    problems(sensor_t(["-c", conf, "-r", notcap]), [[notcap]],
             "sensor -t: a file that is not a capture")
    missing = os.path.join(tmp, "absent.conf")
    one_line_naming(sensor_t(["-c", missing]), [missing],
                    "sensor -t -c missing file")


def in_etc_overlay(tmp, conf_text, argv):
    """Runs argv in a private mount namespace where an overlay over /etc
    holds /etc/teiten/teiten.conf with conf_text (None: no such file,
    an empty directory hiding any the host has).  The real /etc is not
    written: the overlay's upper layer is in tmp."""
    base = tempfile.mkdtemp(dir=tmp)
    upper = os.path.join(base, "upper")
    work = os.path.join(base, "work")
    os.makedirs(os.path.join(upper, "teiten"))
    os.mkdir(work)
    if conf_text is not None:
        write(os.path.join(upper, "teiten", "teiten.conf"), conf_text,
              0o644)
    elif os.path.exists("/etc/teiten"):
        # an opaque directory: the host's /etc/teiten is hidden
        os.setxattr(os.path.join(upper, "teiten"), "trusted.overlay.opaque",
                    b"y")
    script = ('mount -t overlay overlay -o lowerdir=/etc,upperdir="$1",'
              'workdir="$2" /etc && shift 2 && exec "$@"')
    return run(["unshare", "--mount", "--propagation", "private", "sh",
                "-c", script, "sh", upper, work] + argv)


def check_default_path(tmp, keysfile):
    if os.geteuid() != 0:
        print("NOTE: not root: the default path is checked only as absent")
        p = sensor_t(["-i", "lo", "--print"])
        check(p.returncode == 0 or os.path.exists("/etc/teiten/teiten.conf"),
              "no -c and no /etc/teiten/teiten.conf: not an error")
        return
    T.require("unshare")
    for prog, args in ((T.sensor_path(), ["-t", "-i", "lo", "--print"]),
                       (A.aggregator_path(), ["-t", "-K", keysfile, "-d",
                                              os.path.join(tmp, "d0"), "-l",
                                              "127.0.0.1:%d" %
                                              A.free_port()])):
        name = os.path.basename(prog)
        p = in_etc_overlay(tmp, None, [prog] + args)
        check(p.returncode == 0 and "configuration OK" in p.stdout and
              "/etc/teiten/teiten.conf" in p.stdout,
              "%s without -c and without /etc/teiten/teiten.conf: OK, "
              "saying no file was read (%r)" %
              (name, (p.stdout + p.stderr).strip()))
        # The default file is read: a mistake in it is reported as its own.
        bad = "[sensor]\ninterval = soon\n[aggregator]\ngrace = soon\n"
        p = in_etc_overlay(tmp, bad, [prog] + args)
        one_line_naming(p, ["/etc/teiten/teiten.conf:"], "%s reads "
                        "/etc/teiten/teiten.conf without -c" % name)
        good = "[sensor]\ninterval = 300\n[aggregator]\ninterval = 300\n"
        p = in_etc_overlay(tmp, good, [prog] + args)
        check(p.returncode == 0 and
              "(/etc/teiten/teiten.conf)" in p.stdout,
              "%s: -t names /etc/teiten/teiten.conf as the file read (%r)" %
              (name, (p.stdout + p.stderr).strip()))
        # -c wins: the default file is not read at all.
        other = write(os.path.join(tmp, "other.conf"), "[sensor]\n")
        p = in_etc_overlay(tmp, bad, [prog, "-c", other] + args)
        check(p.returncode == 0 and "(%s)" % other in p.stdout,
              "%s -c FILE reads FILE, not the default (%r)" %
              (name, (p.stdout + p.stderr).strip()))
    # The default file sets what it says: the interval of the print.
    cap = os.path.join(tmp, "d.pcap")
    A.gencap(cap, 200, 900, T0, 5)
    p = in_etc_overlay(tmp, "[sensor]\ninterval = 300\n",
                       [T.sensor_path(), "-r", cap, "--print"])
    starts = {k[0] for k in T.parse_print(p.stdout)} if p.returncode == 0 \
        else set()
    check(starts and all(s % 300 == 0 for s in starts) and
          any(s % 60 == 0 and s % 300 != 0 for s in
              {k[0] for k in A.sensor_print(cap)}),
          "the sensor counts in the default file's 300 s intervals")


def check_failed_start(tmp, keyfiles, keysfile):
    data = os.path.join(tmp, "never")
    nokeys = os.path.join(tmp, "absent.keys")
    p = run([A.aggregator_path(), "-f", "-d", data, "-K", nokeys, "-l",
             "127.0.0.1:%d" % A.free_port()])
    one_line_naming(p, [nokeys], "aggregator start with no keys file")
    check(not os.path.exists(data),
          "the failed start left no DATADIR behind")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    p = run([A.aggregator_path(), "-f", "-d", data, "-K", keysfile, "-l",
             "127.0.0.1:%d" % busy.getsockname()[1]])
    busy.close()
    one_line_naming(p, ["127.0.0.1:"], "aggregator start on an address in "
                    "use")
    check(not os.path.exists(data),
          "the start on an address in use left no DATADIR behind")
    spool = os.path.join(tmp, "never-spool")
    p = run([T.sensor_path(), "-i", "lo", "-a", "127.0.0.1:4774", "-s", "s1",
             "-K", os.path.join(tmp, "absent.key"), "--spool", spool])
    check(p.returncode == 1 and "absent.key" in p.stderr and
          not os.path.exists(spool),
          "sensor start with no key file: exit 1, no spool (%r)" %
          p.stderr.strip())


def main():
    T.require("xxd", "head")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the sensor writes its spool as its user
        kdir = os.path.join(tmp, "keys")
        os.mkdir(kdir)
        keyfiles, keysfile = check_keygen(kdir)
        check_exchange(tmp, keyfiles, keysfile)
        check_agg_t(tmp, keysfile)
        check_sensor_t(tmp, keyfiles)
        check_default_path(tmp, keysfile)
        check_failed_start(tmp, keyfiles, keysfile)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
