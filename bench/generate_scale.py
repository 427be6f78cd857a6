#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-generate at scale: generate, compile and load times, object size
and program count for about 100, 1,000 and 9,000 functions taken from libc,
libhdf5 (with its high-level and C++ APIs), libmpi (with its libopen-pal and
libopen-rte), libm and every system call.

    bench/generate_scale.py [BUILD_DIR] [--sizes 100,1000,all] [--repeat 3]
                                            (as root, for the load figures)

Each figure is the median of --repeat runs. "cold" compiles with an empty
cache; "cached" is the same config again; "resolve" is --check (configs,
ELF symbols, tracefs, no compile). Load is the kernel loading every program
(generate --verify), DWARF stripped and, for comparison, kept. Prints a
Markdown table."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

LIBS = ["libc.so.6", ["hdf5_openmpi", "hdf5_serial", "hdf5"],
        ["hdf5_openmpi_hl", "hdf5_serial_hl", "hdf5_hl"],
        ["hdf5_openmpi_cpp", "hdf5_serial_cpp", "hdf5_cpp"], "libmpi.so.40",
        "libopen-pal.so.40", "libopen-rte.so.40", "libm.so.6"]
# The system calls of the smaller sets, in order; the largest has them all.
SYSCALLS = ["read", "write", "openat", "close", "pread64", "pwrite64", "lseek", "fsync",
            "newfstat", "mmap", "munmap", "readv", "writev", "ftruncate", "fdatasync",
            "unlinkat", "mkdirat", "newfstatat", "statx", "getdents64"]


def tool(build, name):
    sub = {"generate": "generator", "explore": "explorer"}[name]
    return os.path.join(build, sub, "datacrumbs-" + name)


def functions(build, lib):
    """Exported functions of @lib, one name per address, and its path; IFUNCs,
    functions that return twice and those that read their return address
    (which generate refuses) left out."""
    for name in lib if isinstance(lib, list) else [lib]:
        p = subprocess.run([tool(build, "explore"), "--json", "--no-prototypes", name],
                           capture_output=True, text=True)
        if p.returncode == 0:
            break
    else:
        return None, []
    doc = json.loads(p.stdout)
    names = [f["name"] for f in doc["functions"]
             if "dynsym" in f["tables"] and not f["ifunc"] and not f.get("returns_twice")
             and not f.get("reads_caller") and f["bind"] != "local"]
    return doc["target"]["path"], names


def config(path, libs, syscalls, n):
    """A config with about @n functions spread over the libraries in proportion."""
    total = sum(len(v) for v in libs.values()) + 1
    lines = ["module: scale", "probes:"]
    for lib, names in libs.items():
        take = names if n is None else names[:max(1, n * len(names) // total)]
        lines += ["  - kind: uprobe", "    cat: U", "    binary: " + lib,
                  "    functions: [%s]" % ", ".join(take)]
    lines += ["  - kind: syscall", "    cat: SYSCALL"]
    lines += ["    match: '.'"] if n is None else \
        ["    functions: [%s]" % ", ".join(syscalls[:max(1, n // 20)])]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def timed(argv, env):
    t = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    dt = time.monotonic() - t
    if p.returncode:
        sys.exit("%s failed: %s" % (" ".join(argv), p.stderr))
    return dt, p.stdout


def options():
    ap = argparse.ArgumentParser(prog="bench/generate_scale.py")
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--sizes", default="100,1000,all",
                    help="comma-separated function counts; all: every function found")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size, medians shown")
    o = ap.parse_args()
    try:
        o.sizes = [None if v == "all" else int(v) for v in o.sizes.split(",")]
    except ValueError:
        ap.error("--sizes takes numbers and 'all', not %r" % o.sizes)
    if o.repeat <= 0 or any(n is not None and n <= 0 for n in o.sizes):
        ap.error("--sizes and --repeat must be positive")
    return o


def main():
    o = options()
    build = o.build
    gen = tool(build, "generate")
    libs = {}
    for lib in LIBS:
        path, names = functions(build, lib)
        if path:
            libs[path] = names
    syscalls = SYSCALLS
    work = tempfile.mkdtemp(prefix="dcbench-")
    rows = []
    for n in o.sizes:
        cfg = os.path.join(work, "scale-%s.yaml" % n)
        config(cfg, libs, syscalls, n)
        obj = os.path.join(work, "scale.bpf.o")
        resolve, cold, warm, load, loadg = [], [], [], [], []
        for i in range(o.repeat):
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache-%s-%d" % (n, i)))
            resolve.append(timed([gen, "-q", "--check", cfg], env)[0])
            cold.append(timed([gen, "-q", "-o", obj, cfg], env)[0])
            warm.append(timed([gen, "-q", "-o", obj, cfg], env)[0])
            _, out = timed([gen, "-o", obj, "--verify", cfg], env)
            m = re.search(r"(\d+) probes, (\d+) capture classes", out)
            v = re.search(r"verified: (\d+) programs loaded by this kernel in (\d+) ms", out)
            load.append(int(v.group(2)) / 1000 if v else float("nan"))
            size = os.path.getsize(obj)
            genv = dict(env, DATACRUMBS_STRIP="/nonexistent")
            _, out = timed([gen, "-o", obj + ".g", "--no-cache", "--verify", cfg], genv)
            v2 = re.search(r"in (\d+) ms", out)
            loadg.append(int(v2.group(1)) / 1000 if v2 else float("nan"))
            size_g = os.path.getsize(obj + ".g")
        rows.append((int(m.group(1)), int(m.group(2)), int(v.group(1)) if v else 0,
                     statistics.median(resolve), statistics.median(cold),
                     statistics.median(warm), statistics.median(load), size,
                     statistics.median(loadg), size_g))
    print("| probes | classes | programs | resolve (s) | generate+compile, cold (s) | "
          "generate, cached (s) | load (s) | object | load with DWARF (s) | "
          "object with DWARF |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %d | %d | %d | %.3f | %.2f | %.3f | %.3f | %.0f KiB | %.3f | %.0f KiB |" %
              (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] / 1024, r[8], r[9] / 1024))


if __name__ == "__main__":
    main()
