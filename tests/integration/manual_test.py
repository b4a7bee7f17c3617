"""The command lines and the manual pages agree.

For each program and each of its commands:
- `--help` exits 0, prints the usage and then one line per option on
  standard output and nothing on standard error; an unknown option
  prints the usage on standard error and exits 1;
- the long options that `--help` lists are exactly those the program
  accepts for that command.  Acceptance is found by running it: the
  candidates are the names in `--help`, in the manual page and in the
  getopt tables of the source (read here with a regular expression, not
  through the program), each given as `--name` followed by two unknown
  options, so that nothing runs past the option parsing.  getopt names an
  unknown option ("unrecognized option"), and a command that refuses
  another's option says it "does not apply";
- the long options in the manual page (`Fl \\-name`) are exactly those
  listed by the `--help` of the page's program and its commands.

Every page in man/ has the sections that apply to it, and `mandoc -Tlint`
reports nothing about it.  The only messages let through are about the
host and not the page: the teiten pages are not installed, so a
reference to one is "not found" by mandoc, which searches only the
installed manuals (this test checks instead that the page is in man/),
and an installed page missing from an outdated mandoc.db is found
anyway ("outdated mandoc.db lacks")."""

import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import teiten_testlib as T  # noqa: E402
from teiten_testlib import FAILURES, check  # noqa: E402

SRC = os.environ.get("TEITEN_SRCDIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
MAN = os.path.join(SRC, "man")
SENSOR = os.environ["TEITEN_SENSOR"]
AGG = os.environ["TEITEN_AGGREGATOR"]
GRAPH = os.environ["TEITEN_GRAPH"]

# (name, argv before the options, manual page, source of its getopt
# tables, whether its options can be tried: teiten-graph without a
# command only prints its usage)
COMMANDS = [
    ("teiten-sensor", [SENSOR], "teiten-sensor.8",
     ["sensor/options.c"], True),
    ("teiten-aggregator", [AGG], "teiten-aggregator.8",
     ["aggregator/options.c"], True),
    ("teiten-aggregator rebuild", [AGG, "rebuild"], "teiten-aggregator.8",
     ["aggregator/options.c"], True),
    ("teiten-aggregator keygen", [AGG, "keygen"], "teiten-aggregator.8",
     ["aggregator/keygen.c"], True),
    ("teiten-graph", [GRAPH], "teiten-graph.1", ["graph/main.c"], False),
    ("teiten-graph top", [GRAPH, "top"], "teiten-graph.1",
     ["graph/main.c"], True),
    ("teiten-graph png", [GRAPH, "png"], "teiten-graph.1",
     ["graph/main.c"], True),
    ("teiten-graph series", [GRAPH, "series"], "teiten-graph.1",
     ["graph/main.c"], True),
    ("teiten-graph site", [GRAPH, "site"], "teiten-graph.1",
     ["graph/main.c"], True),
]

# The sections each page must have, in this order among themselves.
PROGRAM_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                    "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
SECTIONS = {
    "teiten-sensor.8": PROGRAM_SECTIONS,
    "teiten-aggregator.8": PROGRAM_SECTIONS,
    "teiten-graph.1": PROGRAM_SECTIONS,
    "teiten.conf.5": ["NAME", "DESCRIPTION", "FILES", "EXAMPLES",
                      "SEE ALSO"],
    "teiten-protocol.7": ["NAME", "DESCRIPTION", "SEE ALSO"],
}

OPTION_LINE = re.compile(r"^  (-[A-Za-z0-9](, )?)?(    )?(--[a-z0-9-]+)?"
                         r"( \S+)?\s{2,}\S")
LONG_IN_LINE = re.compile(r"^  (?:-[A-Za-z0-9](?:, )?)?\s*--([a-z0-9-]+)")
SOURCE_OPTION = re.compile(r'\{\s*"([a-z0-9][a-z0-9-]*)"\s*,\s*'
                           r'(?:no|required|optional)_argument')
PROBE_UNKNOWN = "zz-no-such-option"


def run(argv, cwd):
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=60)


def help_options(name, argv, tmp):
    """The long options that `--help` lists, after checking its form."""
    p = run(argv + ["--help"], tmp)
    check(p.returncode == 0 and p.stderr == "" and
          p.stdout.startswith("usage:"),
          "%s --help: usage on standard output, exit 0 (exit %d, stderr "
          "%r)" % (name, p.returncode, p.stderr[:200]))
    lines = p.stdout.splitlines()
    if "options:" not in lines:
        check(False, "%s --help has an options: section" % name)
        return set()
    opts = lines[lines.index("options:") + 1:]
    bad = [line for line in opts if not OPTION_LINE.match(line)]
    check(opts and not bad, "%s --help: each option on one line with its "
          "description (not so: %r)" % (name, bad[:5]))
    found = set()
    for line in opts:
        m = LONG_IN_LINE.match(line)
        if m:
            found.add(m.group(1))
    return found


def check_usage_error(name, argv, tmp):
    p = run(argv + ["--" + PROBE_UNKNOWN], tmp)
    check(p.returncode == 1 and p.stdout == "" and
          "unrecognized option" in p.stderr and
          re.search(r"^ *usage:", p.stderr, re.M) is not None,
          "%s --%s: the usage on standard error, exit 1 (exit %d, stdout "
          "%r, stderr %r)" % (name, PROBE_UNKNOWN, p.returncode,
                              p.stdout[:100], p.stderr[:200]))


def accepts(argv, opt, tmp):
    """Whether the command takes --opt: run with --opt and two unknown
    options after it, the first of which an option with an argument
    takes as its argument, so that the run stops at the option parsing
    either way."""
    p = run(argv + ["--" + opt, "--%s-a" % PROBE_UNKNOWN,
                    "--%s-b" % PROBE_UNKNOWN], tmp)
    e = re.escape(opt)
    if re.search(r"unrecognized option '--%s'" % e, p.stderr):
        return False
    if re.search(r"option '--%s' is ambiguous" % e, p.stderr):
        return False
    if re.search(r"option --%s does not apply" % e, p.stderr):
        return False
    return True


def source_options(files):
    names = set()
    for f in files:
        with open(os.path.join(SRC, f)) as fh:
            names |= set(SOURCE_OPTION.findall(fh.read()))
    return names


def long_names_in_man(page):
    """Only `Fl \\-name` and `Fl -name` count, not `Fl ftvV`."""
    with open(os.path.join(MAN, page)) as f:
        text = f.read()
    names = set()
    for line in text.splitlines():
        if line.startswith("."):
            for m in re.findall(r"\bFl\s+\\?-((?:[a-z0-9]|\\?-)+)",
                                line):
                names.add(m.replace("\\-", "-"))
    return names


def diff(a, b):
    return "only in the first: %s; only in the second: %s" % (
        " ".join(sorted(a - b)) or "-", " ".join(sorted(b - a)) or "-")


def check_commands(tmp):
    page_help = {}
    source_accepted = {}
    for name, argv, page, sources, probe in COMMANDS:
        helped = help_options(name, argv, tmp)
        page_help.setdefault(page, set()).update(helped)
        if not probe:
            continue
        check_usage_error(name, argv, tmp)
        check(not accepts(argv, PROBE_UNKNOWN, tmp),
              "%s: an unknown option is told apart" % name)
        candidates = helped | long_names_in_man(page) | \
            source_options(sources)
        accepted = {o for o in candidates if accepts(argv, o, tmp)}
        check(accepted == helped, "%s: the options it accepts are those "
              "--help lists (%s)" % (name, diff(accepted, helped)))
        key = tuple(sources)
        source_accepted.setdefault(key, set()).update(accepted)
    for sources, accepted in source_accepted.items():
        table = source_options(sources)
        check(table <= accepted, "%s: every option in its getopt tables "
              "is accepted by a command (not: %s)" %
              (" ".join(sources), " ".join(sorted(table - accepted))))
    graph_all = set()
    for name, argv, page, sources, probe in COMMANDS:
        if name.startswith("teiten-graph "):
            graph_all |= help_options(name, argv, tmp)
    check(help_options("teiten-graph", [GRAPH], tmp) == graph_all,
          "teiten-graph --help lists the options of all its commands")
    for page, helped in page_help.items():
        documented = long_names_in_man(page)
        check(helped == documented, "%s: the long options in --help are "
              "those in the manual (%s)" %
              (page, diff(helped, documented)))


def check_usage_commands(tmp):
    """The commands the usage names are those tried above."""
    tried = {tuple(c[0].split()) for c in COMMANDS}
    for prog, path in (("teiten-aggregator", AGG),
                       ("teiten-graph", GRAPH)):
        out = run([path, "--help"], tmp).stdout
        named = set(re.findall(r"^(?:usage:)?\s+%s ([a-z]+)" % prog, out,
                               re.M))
        got = {c[1] for c in tried if c[0] == prog and len(c) > 1}
        check(named == got, "%s: the commands in its usage are tested "
              "(%s)" % (prog, diff(named, got)))


def sections(page):
    with open(os.path.join(MAN, page)) as f:
        return [line[4:].strip().strip('"') for line in f
                if line.startswith(".Sh ")]


def check_sections():
    pages = sorted(os.path.basename(p)
                   for p in glob.glob(os.path.join(MAN, "*.[1-9]")))
    check(sorted(SECTIONS) == pages, "every page in man/ is checked (%s)" %
          diff(set(SECTIONS), set(pages)))
    for page in pages:
        have = sections(page)
        want = SECTIONS.get(page, [])
        order = [s for s in have if s in want]
        check(order == want, "%s has the sections %s in order (has %s)" %
              (page, ", ".join(want), ", ".join(have)))


def check_lint():
    pages = sorted(glob.glob(os.path.join(MAN, "*.[1-9]")))
    for path in pages:
        p = subprocess.run(["mandoc", "-Tlint", path], capture_output=True,
                           text=True, timeout=60)
        left = []
        for line in (p.stdout + p.stderr).splitlines():
            m = re.search(r"STYLE: referenced manual not found: "
                          r"Xr (\S+) (\S+)", line)
            if m and m.group(1).startswith("teiten") and \
                    os.path.exists(os.path.join(MAN, "%s.%s" % m.groups())):
                continue
            if re.match(r"mandoc: outdated mandoc\.db lacks \S+ entry", line):
                continue
            left.append(line)
        check(not left, "mandoc -Tlint %s reports nothing (%s)" %
              (os.path.basename(path), "\n".join(left)))


def main():
    T.require("mandoc")
    with tempfile.TemporaryDirectory() as tmp:
        check_commands(tmp)
        check_usage_commands(tmp)
        check_sections()
        check_lint()
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
