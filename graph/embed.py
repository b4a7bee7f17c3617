#!/usr/bin/env python3
"""Embed a file in C: embed.py INPUT OUTPUT NAME writes to OUTPUT

    static const char NAME[] = "...";

holding INPUT's bytes exactly, one string line per line of INPUT, so that
sizeof(NAME) - 1 is INPUT's length.  Printable ASCII other than the
backslash and the double quote is kept as it is; every other byte is a
three-digit octal escape, which (unlike \\x) ends where it should.  "?" is
escaped too, so no trigraph can form.
"""
import sys


def c_line(chunk):
    out = []
    for b in chunk:
        c = chr(b)
        if 0x20 <= b < 0x7F and c not in '\\"?':
            out.append(c)
        elif c == "\n":
            out.append("\\n")
        else:
            out.append("\\%03o" % b)
    return '    "' + "".join(out) + '"'


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: embed.py input output name")
    src, dst, name = sys.argv[1:]
    with open(src, "rb") as f:
        data = f.read()
    lines = data.splitlines(keepends=True)
    body = "\n".join(c_line(l) for l in lines) if lines else '    ""'
    with open(dst, "w", encoding="ascii") as f:
        f.write("/* Generated from %s by embed.py: do not edit. */\n"
                % src.rsplit("/", 1)[-1])
        f.write("static const char %s[] =\n%s;\n" % (name, body))


if __name__ == "__main__":
    main()
