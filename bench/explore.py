#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How long datacrumbs-explore takes on libc and libhdf5, as a user runs it
(whole process, output to /dev/null), next to `nm -D --defined-only` on the
same file in the same run. Wall time suffers when the machine is shared; CPU
time (user + system of the process) much less so, and the ratio to nm not at
all. Prints a Markdown section for bench/RESULTS.md.

    python3 bench/explore.py [--explore build/explorer/datacrumbs-explore] [--runs 21]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TARGET_MS = 50.0


def once(argv):
    """Wall and CPU (user + system) time of one run, in ms."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1e3
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit("%s failed with %d" % (" ".join(argv), p.returncode))
    return wall, (ru.ru_utime + ru.ru_stime) * 1e3


def timed(argv, runs):
    """Medians of wall and CPU time in ms over @runs runs, after one warm-up."""
    once(argv)
    samples = [once(argv) for _ in range(runs)]
    return (statistics.median(w for w, c in samples), statistics.median(c for w, c in samples))


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "%s, %d CPUs, kernel %s" % (cpu, os.cpu_count(), platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--explore", default="build/explorer/datacrumbs-explore")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("targets", nargs="*", default=["libc.so.6", "hdf5"])
    a = ap.parse_args()

    rows, slow = [], []
    for target in a.targets:
        p = subprocess.run([a.explore, "--json", "-t", "function", target],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("skip %s: %s" % (target, p.stderr.strip()), file=sys.stderr)
            continue
        doc = json.loads(p.stdout)
        path = doc["target"]["path"]
        counts = doc["counts"]
        nm = timed(["nm", "-D", "--defined-only", path], a.runs)
        for label, extra in (("table", []), ("--json", ["--json"]),
                             ("--yaml (reads DWARF)", ["--yaml"])):
            wall, cpu = timed([a.explore, *extra, target], a.runs)
            rows.append((target, path, label, wall, cpu, wall / nm[0]))
            if label == "table" and cpu >= TARGET_MS:
                slow.append(target)
        rows.append((target, path, "`nm -D --defined-only`, for reference", nm[0], nm[1], 1.0))
        print("%s: %d names at %d addresses; function symbols: %d in .dynsym, %d in the "
              "debug file's .symtab (%s)" % (path, counts["function_names"], counts["function"],
                                             counts["symbols"]["dynsym"],
                                             counts["symbols"]["debug"],
                                             doc["target"]["debug_file"] or "no debug file"))

    print()
    print("Machine: %s (shared with other work; medians of %d runs)." % (machine(), a.runs))
    print("Command: `python3 bench/explore.py --explore %s --runs %d %s`" %
          (a.explore, a.runs, " ".join(a.targets)))
    print()
    print("| target | file | run | wall ms | CPU ms | wall / nm |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for target, path, label, wall, cpu, ratio in rows:
        print("| %s | %s | %s | %.1f | %.1f | %.2f |" % (target, os.path.basename(path), label,
                                                       wall, cpu, ratio))
    if slow:
        print("\nover the %.0f ms target (CPU time of the table run): %s" %
              (TARGET_MS, ", ".join(slow)))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
