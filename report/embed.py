#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns a text file into a C header holding it as one string constant."""
import sys


def main():
    src, dst, name = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    out = ["/* Generated from %s by embed.py; do not edit. */" % src.split("/")[-1],
           "static const char %s[] =" % name]
    for line in text.splitlines(keepends=True):
        esc = "".join(c if c.isascii() and c.isprintable() and c not in '"\\?' else
                      "\\n" if c == "\n" else "\\%03o" % ord(c) if c.isascii() else
                      "".join("\\%03o" % b for b in c.encode("utf-8")) for c in line)
        out.append('\t"%s"' % esc)
    out[-1] += ";"
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
