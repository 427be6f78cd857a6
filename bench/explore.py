#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How long datacrumbs-explore takes on libc and libhdf5, as a user runs it
(whole process, output to /dev/null), next to `nm -D --defined-only` on the
same file in the same run. Prints a Markdown section for bench/RESULTS.md.

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


def timed(argv, runs):
    """Median and minimum wall time in ms of @runs runs, after one warm-up."""
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), min(times)


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
        for label, extra in (("table", []), ("--json", ["--json"]), ("--yaml (DWARF)", ["--yaml"])):
            med, best = timed([a.explore, *extra, target], a.runs)
            rows.append((target, path, label, med, best))
            if label == "table" and med >= TARGET_MS:
                slow.append(target)
        med, best = timed(["nm", "-D", "--defined-only", path], a.runs)
        rows.append((target, path, "nm -D --defined-only (reference)", med, best))
        print("%s: %d functions at %d addresses, %d symbols in .dynsym, %d more from the "
              "debug file; debug file %s" % (path, counts["function_names"],
                                             counts["function"], counts["symbols"]["dynsym"],
                                             counts["symbols"]["debug"],
                                             doc["target"]["debug_file"] or "none"))

    print()
    print("Machine: %s (shared with other work; medians of %d runs)." % (machine(), a.runs))
    print("Command: `python3 bench/explore.py --explore %s --runs %d %s`" %
          (a.explore, a.runs, " ".join(a.targets)))
    print()
    print("| target | file | run | median ms | min ms |")
    print("| --- | --- | --- | ---: | ---: |")
    for target, path, label, med, best in rows:
        print("| %s | %s | %s | %.1f | %.1f |" % (target, os.path.basename(path), label, med, best))
    if slow:
        print("\nover the %.0f ms target: %s" % (TARGET_MS, ", ".join(slow)))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
