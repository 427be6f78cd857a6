#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/percall.py at tiny sizes, so the benchmark does not rot: every
variant of both loops runs and gives positive figures, and each peer
either wrote events or has a row that says it is not installed (the test
command installs strace but not bpftrace or ltrace). The figures
themselves are the bench's business (bench/RESULTS.md), not a test's."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import BUILD, SOURCE, check, need_bpf, run  # noqa: E402


def main():
    need_bpf()
    status, out, err = run([sys.executable, os.path.join(SOURCE, "bench", "percall.py"), BUILD,
                            "--rounds", "1", "--libc-calls", "300", "--sys-calls", "3000", "--peer-calls", "50"],
                           timeout=550)
    check(status == 0, "percall.py failed (%d): %s" % (status, err))
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()
            if line.startswith("| ") and not line.startswith(("| loop", "| ---"))]
    base = ["none", "floor", "trace", "profile"]
    check([r[1] for r in rows] == base + ["bpftrace", "ltrace"] + base +
          ["floor-tp", "trace-tp", "bpftrace", "strace"], "rows: %s" % rows)
    check("trace-tp is " in out, "no line for the tracepoint path: " + out)
    for r in rows:
        if r[1] in ("bpftrace", "ltrace", "strace") and r[2] == "not installed":
            continue
        check(all(float(v) > 0 for v in (r[2], r[4])), "row %s" % r)
        check(r[1] not in ("bpftrace", "ltrace", "strace") or float(r[9]) > 0, "events %s" % r)
        check(r[1] != "floor" or (r[3], r[5]) == ("1.00", "1.00"), "floor ratios %s" % r)
    print("ok: bench/percall.py runs")


if __name__ == "__main__":
    main()
