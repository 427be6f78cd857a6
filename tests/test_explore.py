#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The explorer on ELF files the suite builds: exact functions and offsets,
filters, YAML the generator takes, library names, and bad input."""
import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import EXPLORE, GENERATE, check, run, tmpdir  # noqa: E402

LIB = os.environ["DC_TESTLIB"]


def loads(path):
    """PT_LOAD segments as (vaddr, offset, filesz), from readelf."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[2], 16), int(f[1], 16), int(f[4], 16)))
    return segs


def expected_functions(path):
    """{(name, offset)} of defined functions in .dynsym and .symtab, by readelf."""
    segs = loads(path)
    out = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True).stdout
    want = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8 or f[3] not in ("FUNC", "IFUNC") or f[6] == "UND":
            continue
        value = int(f[1], 16)
        if value == 0:
            continue
        name = re.sub(r"@.*", "", f[7])
        off = [value - v + o for v, o, n in segs if v <= value < v + n]
        check(len(off) == 1, "readelf: %s maps to %s" % (name, off))
        want.add((name, off[0]))
    return want


def table(args):
    status, out, err = run([EXPLORE, *args])
    check(status == 0, "explore %s failed: %s" % (args, err))
    rows = set()
    for line in out.splitlines():
        if line.startswith("#") or line.startswith("FUNCTION"):
            continue
        f = line.split()
        rows.add((f[0], int(f[2], 16)))
    count = int(re.search(r"^# (\d+) functions$", out, re.M).group(1))
    check(count == len(out.splitlines()) - 3, "count line %d" % count)
    return rows, out


def test_exact(path):
    rows, out = table([path])
    want = expected_functions(path)
    check(rows == want, "%s: explorer and readelf differ:\n only explorer: %s\n only readelf: %s" %
          (path, sorted(rows - want), sorted(want - rows)))


def test_library():
    test_exact(LIB)
    rows, _ = table(["-m", "^dct_(read|write)$", LIB])
    check({r[0] for r in rows} == {"dct_read", "dct_write"}, "match: %s" % rows)
    rows, _ = table(["-m", "^dct_", "-x", "versioned|close", "-x", "^dct_local$", LIB])
    check({r[0] for r in rows} == {"dct_open", "dct_read", "dct_write", "dct_weak",
                                   "dct_calls_local", "dct_fast", "dct_ifunc", "dct_pick"},
          "exclude: %s" % sorted(rows))
    _, out = table(["-m", "^dct_ifunc$", LIB])
    check(re.search(r"^dct_ifunc .* ifunc", out, re.M), "IFUNC not flagged:\n" + out)
    _, out = table(["-m", "^dct_weak$", LIB])
    check(re.search(r"^dct_weak .* weak", out, re.M), "weak not flagged:\n" + out)
    _, out = table(["-m", "^dct_versioned$", LIB])
    check(re.search(r"^dct_versioned +@DCT_1\.0 ", out, re.M) and
          re.search(r"^dct_versioned +DCT_2\.0 ", out, re.M), "versions:\n" + out)


def test_yaml():
    work = tmpdir()
    status, out, err = run([EXPLORE, "--yaml", "-m", "^dct_", LIB])
    check(status == 0, "explore --yaml: " + err)
    cfg = os.path.join(work, "dct.yaml")
    with open(cfg, "w") as f:
        f.write(out)
    names = re.findall(r"^      - (\S+)$", out, re.M)
    check(names == sorted({"dct_calls_local", "dct_close", "dct_close_alias", "dct_fast",
                           "dct_local", "dct_open", "dct_pick", "dct_read", "dct_versioned",
                           "dct_versioned_v1", "dct_versioned_v2", "dct_weak", "dct_write"}),
          "yaml functions: %s" % names)
    status, out, err = run([GENERATE, "--check", "--list", cfg])
    check(status == 0, "generate rejects the explorer's YAML: " + err)
    # Aliases share an offset, so the generator keeps one probe for each.
    check("11 probes" in out, "generate --check: " + out)


def test_names():
    status, out, err = run([EXPLORE, "-m", "^write$", "c"])
    check(status == 0, "explore c: " + err)
    first = out.splitlines()[0]
    check(first.startswith("# /") and "libc.so.6" in first, "resolved path: " + first)
    check(os.path.realpath(first[2:]) == first[2:], "path not canonical: " + first)
    for name in ("libc.so.6", "libc", "libc.so"):
        status, out2, err = run([EXPLORE, "-m", "^write$", name])
        check(status == 0 and out2.splitlines()[0] == first, "%s resolves elsewhere: %s%s" %
              (name, out2[:80], err))


def one_line_error(args, what):
    status, out, err = run([EXPLORE, *args], timeout=10)
    check(status == 1, "%s: exit status %d" % (what, status))
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("datacrumbs-explore: "),
          "%s: error is not one line: %r" % (what, err))
    check(out == "", "%s: printed output: %r" % (what, out))
    return lines[0]


def test_bad_input():
    work = tmpdir()
    text = os.path.join(work, "text")
    with open(text, "w") as f:
        f.write("not an ELF file\n")
    check("not an ELF" in one_line_error([text], "text file"), "text file message")
    trunc = os.path.join(work, "trunc.so")
    with open(LIB, "rb") as f:
        head = f.read(200)
    with open(trunc, "wb") as f:
        f.write(head)
    one_line_error([trunc], "truncated ELF")
    elf32 = os.path.join(work, "elf32.so")
    with open(elf32, "wb") as f:
        f.write(head[:4] + b"\x01" + head[5:])
    check("64-bit" in one_line_error([elf32], "32-bit ELF"), "32-bit message")
    check("directory" in one_line_error([work], "directory"), "directory message")
    one_line_error(["/dev/zero"], "/dev/zero")
    fifo = os.path.join(work, "fifo")
    os.mkfifo(fifo)
    one_line_error([fifo], "FIFO")
    check("not found" in one_line_error(["libno-such-library-dc.so"], "missing library"),
          "missing library message")
    check("No such file" in one_line_error([os.path.join(work, "absent.so")], "missing path"),
          "missing path message")
    one_line_error(["-m", "(", LIB], "bad regex")
    if os.geteuid() == 0 and shutil.which("setpriv"):
        locked = os.path.join(work, "locked.so")
        shutil.copy(LIB, locked)
        os.chmod(locked, 0)
        os.chmod(work, 0o755)
        status, out, err = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                EXPLORE, locked], timeout=10)
        check(status == 1 and "Permission denied" in err and len(err.splitlines()) == 1,
              "unreadable file: %d %r" % (status, err))
    else:
        print("note: unreadable-file case needs root and setpriv; not run")


def main():
    test_library()
    test_exact(os.environ["DC_WORKLOAD"])
    test_yaml()
    test_names()
    test_bad_input()
    print("ok")


if __name__ == "__main__":
    main()
