#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Each config in bad-configs/ names its error in a "# expect:" first line;
the generator must print exactly "file:line:col: message", exit 1 and write
nothing. Comment lines shift nothing: locations count every line. @DIR@ in
a message stands for the bad-configs directory, wherever the tree is."""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, check, run, tmpdir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    work = tmpdir()
    cases = sorted(glob.glob(os.path.join(HERE, "bad-configs", "*.yaml")))
    check(len(cases) >= 10, "too few cases: %d" % len(cases))
    for path in cases:
        with open(path) as f:
            first = f.readline()
        check(first.startswith("# expect: "), "%s: no expect line" % path)
        line, col, msg = first[len("# expect: "):].rstrip("\n").split(":", 2)
        msg = msg.replace("@DIR@", os.path.dirname(path))
        # The expect line itself is line 1, so the body's lines are one lower.
        want = "datacrumbs-generate: %s:%d:%s:%s" % (path, int(line) + 1, col, msg)
        out = os.path.join(work, os.path.basename(path) + ".bpf.o")
        for extra in ([], ["--check"]):
            status, stdout, err = run([GENERATE, "-o", out, *extra, path])
            check(status == 1, "%s: exit status %d" % (path, status))
            check(err.splitlines() == [want], "%s:\n got  %r\n want %r" % (path, err, want))
            check(not os.listdir(work), "%s: left files behind: %s" % (path, os.listdir(work)))
    missing = os.path.join(work, "absent.yaml")
    status, _, err = run([GENERATE, missing])
    check(status == 1 and err == "datacrumbs-generate: %s: No such file or directory\n" % missing,
          "missing config: %r" % err)
    print("ok: %d configs" % len(cases))


if __name__ == "__main__":
    main()
