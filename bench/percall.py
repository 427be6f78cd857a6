#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-call overhead on a tight loop of getppid(), as a libc function
(uprobe + uretprobe) and as a system call (tracepoints):

    bench/percall.py [BUILD_DIR] [--rounds N] [--libc-calls N] [--sys-calls N]

(as root). Variants, run in the same rounds with their order rotated so load
and drift fall on each alike:
  none      no tracing;
  floor     the same attach points with programs that do nothing
            (bench/floor.c): the limit no tracer can go below;
  trace     datacrumbs-run, one event per call;
  profile   datacrumbs-run --profile, sums in the kernel.
For each: the median over rounds of wall ns/call, of the loop thread's CPU
ns/call (user + system: probe handling runs in the kernel on that thread,
and time spent waiting for a loaded machine is not counted), and of the
tracer's own CPU ns/call (datacrumbs-run writing what the loop made), with
the ratios of wall and thread CPU to the floor. Then, in rounds of their
own with the kernel's BPF statistics on (BPF_ENABLE_STATS, which adds two
clock reads to every program run and so stays out of the figures above),
the time the programs themselves take per call, on entry and on exit.
Prints a Markdown table."""
import ctypes
import os
import platform
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402

LIBC = """module: benchlibc
probes:
  - name: libc
    kind: uprobe
    cat: POSIX
    binary: libc.so.6
    functions: [getppid]
"""
SYS = """module: benchsys
probes:
  - name: syscalls
    kind: syscall
    cat: SYSCALL
    functions: [getppid]
"""
VARIANTS = ["none", "floor", "trace", "profile"]


def options(argv):
    o = {"build": "build", "rounds": 7, "libc-calls": 200000, "sys-calls": 2000000}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in o:
            o[a[2:]] = int(argv[i + 1])
            i += 2
        elif a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        elif not a.startswith("-"):
            o["build"] = a
            i += 1
        else:
            sys.exit("percall.py: unknown option %s (try --help)" % a)
    return o


def measure(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit("percall.py: %s failed (%d): %s" % (argv[0], p.returncode, p.stderr.strip()))
    return [float(v) for v in p.stdout.split()[-5:]]


def enable_bpf_stats():
    """An fd that keeps the kernel's BPF run-time statistics on until closed, or None."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 4)(0)  # union bpf_attr { .enable_stats.type = BPF_STATS_RUN_TIME }
    fd = libc.syscall(321 if platform.machine() == "x86_64" else 280, 32, attr, 16)
    return fd if fd >= 0 else None


def main():
    o = options(sys.argv[1:])
    if os.geteuid() != 0:
        sys.exit("percall.py: needs root to load BPF programs")  # tests skip before this
    b = o["build"]
    gen = os.path.join(b, "generator", "datacrumbs-generate")
    run = os.path.join(b, "runtime", "datacrumbs-run")
    loop = os.path.join(b, "bench", "dc-callloop")
    floor = os.path.join(b, "bench", "dc-floor")
    floor_obj = os.path.join(b, "bench", "floor.bpf.o")
    work = tempfile.mkdtemp(prefix="dc-percall-")
    targets = []
    for name, cfg, calls in (("libc getppid (uprobe + uretprobe)", LIBC, o["libc-calls"]),
                             ("getppid system call (tracepoints)", SYS, o["sys-calls"])):
        yaml = os.path.join(work, "%d.yaml" % len(targets))
        obj = yaml[:-5] + ".bpf.o"
        with open(yaml, "w") as f:
            f.write(cfg)
        subprocess.run([gen, "-q", "-o", obj, yaml], check=True)
        targets.append((name, obj, calls))
    out = os.path.join(work, "traces")
    os.mkdir(out)
    got, argvs = {}, {}
    for r in range(o["rounds"]):
        for name, obj, calls in targets:
            cmd = [loop, str(calls)]
            argv = {"none": cmd,
                    "floor": [floor, floor_obj, obj, "--"] + cmd,
                    "trace": [run, "-q", "-o", out, obj, "--"] + cmd,
                    "profile": [run, "-q", "--profile", "-o", out, obj, "--"] + cmd}
            for i in range(len(VARIANTS)):
                v = VARIANTS[(i + r) % len(VARIANTS)]
                got.setdefault((name, v), []).append(measure(argv[v]))
            argvs[name] = argv
        for t in os.listdir(out):
            os.unlink(os.path.join(out, t))
    stats = enable_bpf_stats()
    bpf = {}
    for r in range(o["rounds"] if stats is not None else 0):
        for name, _, _ in targets:
            for i in range(3):
                v = VARIANTS[1 + (i + r) % 3]
                bpf.setdefault((name, v), []).append(measure(argvs[name][v])[3:])
        for t in os.listdir(out):
            os.unlink(os.path.join(out, t))
    if stats is not None:
        os.close(stats)

    print("Machine: %s. Command: `bench/percall.py %s --rounds %d --libc-calls %d "
          "--sys-calls %d`; medians of %d interleaved rounds.\n" %
          (describe(), b, o["rounds"], o["libc-calls"], o["sys-calls"], o["rounds"]))
    print("| loop | variant | wall ns/call | x floor | thread CPU ns/call | x floor "
          "| tracer CPU ns/call | BPF entry ns/call | BPF exit ns/call |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, _, _ in targets:
        med = {v: [statistics.median(m[k] for m in got[(name, v)]) for k in range(3)]
               for v in VARIANTS}
        for v in VARIANTS:
            w, c, t = med[v][:3]
            b = ["%.0f" % statistics.median(m[k] for m in bpf[(name, v)])
                 if (name, v) in bpf else "-" for k in range(2)]
            print("| %s | %s | %.0f | %.2f | %.0f | %.2f | %.0f | %s | %s |" %
                  (name, v, w, w / med["floor"][0], c, c / med["floor"][1], t, b[0], b[1]))


if __name__ == "__main__":
    main()
