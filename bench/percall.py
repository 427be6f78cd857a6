#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-call overhead on a tight loop of getppid(), as a libc function
(uprobe + uretprobe) and as a system call (the raw sys_enter/sys_exit
tracepoints datacrumbs-run attaches by default):

    bench/percall.py [BUILD_DIR] [--rounds N] [--libc-calls N] [--sys-calls N]
                     [--peer-calls N]

(as root). Variants, run in the same rounds with their order rotated so load
and drift fall on each alike:
  none      no tracing;
  floor     the same attach points with programs that do nothing
            (bench/floor.c): the limit no tracer can go below;
  trace     datacrumbs-run, one event per call;
  profile   datacrumbs-run --profile, sums in the kernel;
  floor-tp, trace-tp
            the system call on its syscalls:sys_enter/exit_getppid
            tracepoints instead (datacrumbs-generate --syscall-tracepoints):
            programs run only for getppid, but each call fills a perf
            record; a line under the table gives trace-tp against floor-tp;
  bpftrace  bpftrace on the same attach points, keeping the entry time per
            thread and writing one line per call to a file on exit
            (bench/bpftrace_peer.py);
  strace    strace -f -qq -o FILE -e trace=getppid (system call loop only);
  ltrace    ltrace -o FILE -e getppid (libc loop only).
strace and ltrace stop the loop twice per call through ptrace, about a
thousand times the cost of a probe, so they run --peer-calls calls instead
of the loop's count; the figures stay per call. A peer that is not
installed gets a row that says so (bench/setup installs them). For the
peers, "events" is what they wrote against the getppid calls the loop made
(its warm-up and the few it makes to read its parent's figures included):
bpftrace drops what its output cannot keep up with.
For each: the median over rounds of wall ns/call, of the loop thread's CPU
ns/call (user + system: probe handling runs in the kernel on that thread,
and time spent waiting for a loaded machine is not counted), and of the
tracer's own CPU ns/call (datacrumbs-run writing what the loop made), with
the ratios of wall and thread CPU to the floor. Then, in rounds of their
own with the kernel's BPF statistics on (BPF_ENABLE_STATS, which adds two
clock reads to every program run and so stays out of the figures above),
the time the programs themselves take per call, on entry and on exit.
Prints a Markdown table."""
import atexit
import ctypes
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpftrace_peer  # noqa: E402
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
BOTH = ("libc", "sys")
# (name, loops it runs on, kind, its command for loop context c). Kinds:
# "base" runs the loop's count, "bpf" also in the BPF statistics rounds,
# "peer" is an installed tool of that name, "ptrace" one that runs
# --peer-calls calls.
VARIANTS = [
    ("none", BOTH, "base", lambda c: c.cmd),
    ("floor", BOTH, "bpf", lambda c: [c.floor, c.floor_obj, c.obj, "--"] + c.cmd),
    ("trace", BOTH, "bpf", lambda c: [c.run, "-q", "-o", c.out, c.obj, "--"] + c.cmd),
    ("profile", BOTH, "bpf", lambda c: [c.run, "-q", "--profile", "-o", c.out, c.obj, "--"] + c.cmd),
    ("floor-tp", ("sys",), "bpf",
     lambda c: [c.floor, "--tracepoints", c.floor_obj, c.obj, "--"] + c.cmd),
    ("trace-tp", ("sys",), "bpf", lambda c: [c.run, "-q", "-o", c.out, c.obj_tp, "--"] + c.cmd),
    ("bpftrace", BOTH, "peer", lambda c: bpftrace_peer.argv(c.tool, c.bt, c.log, c.cmd)),
    ("strace", ("sys",), "ptrace",
     lambda c: [c.tool, "-f", "-qq", "-o", c.log, "-e", "trace=getppid"] + c.cmd),
    ("ltrace", ("libc",), "ptrace", lambda c: [c.tool, "-o", c.log, "-e", "getppid"] + c.cmd),
]


class Loop:
    """What a variant's command is made of, for one loop."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def calls_made(n):
    """The getppid calls bench/callloop.c makes for a loop of @n: its warm-up,
    the loop, and four to read its parent's CPU and BPF time."""
    return n + n // 10 + 1 + 4


def events(variant, log):
    """The calls peer @variant wrote to @log."""
    if not os.path.exists(log):
        return 0
    if variant == "bpftrace":
        return sum(bpftrace_peer.events(log).values())
    with open(log) as f:
        return sum(1 for line in f if "getppid(" in line)


def options(argv):
    o = {"build": "build", "rounds": 7, "libc-calls": 200000, "sys-calls": 2000000,
         "peer-calls": 20000}
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


def measure(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
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
    atexit.register(shutil.rmtree, work, True)  # on sys.exit() from a failed run too
    out = os.path.join(work, "traces")
    os.mkdir(out)
    libc = bpftrace_peer.libc_path(b)
    tools = {v: shutil.which(v) for v, _, kind, _ in VARIANTS if kind in ("peer", "ptrace")}
    targets = []
    for key, name, cfg, calls, probe in (
            ("libc", "libc getppid (uprobe + uretprobe)", LIBC, o["libc-calls"],
             ("libc", "getppid", "uprobe")),
            ("sys", "getppid system call", SYS, o["sys-calls"],
             ("syscalls", "getppid", "syscall"))):
        yaml = os.path.join(work, key + ".yaml")
        obj = os.path.join(work, key + ".bpf.o")
        bt = os.path.join(work, key + ".bt")
        with open(yaml, "w") as f:
            f.write(cfg)
        with open(bt, "w") as f:
            f.write(bpftrace_peer.script(libc, [probe]))
        obj_tp = os.path.join(work, key + "-tp.bpf.o")
        subprocess.run([gen, "-q", "-o", obj, yaml], check=True)
        subprocess.run([gen, "-q", "--syscall-tracepoints", "-o", obj_tp, yaml], check=True)
        targets.append((key, name, Loop(obj=obj, obj_tp=obj_tp, bt=bt, out=out, run=run,
                                        floor=floor,
                                        floor_obj=floor_obj, log=os.path.join(work, "peer.log")),
                        calls))

    def variants(key, kinds=None):
        return [v for v in VARIANTS if key in v[1] and (kinds is None or v[2] in kinds)
                and (v[0] not in tools or tools[v[0]])]

    def once(key, c, calls, v, got):
        name, _, kind, argv = v
        n = o["peer-calls"] if kind == "ptrace" else calls
        c.cmd, c.tool = [loop, str(n)], tools.get(name)
        if os.path.exists(c.log):
            os.unlink(c.log)
        env = None
        if kind == "ptrace":
            # LeakSanitizer aborts a traced process, so a sanitized loop
            # (the test suite's build-san) runs without it under strace.
            env = dict(os.environ)
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        got.setdefault((key, name), []).append(measure(argv(c), env))
        if kind in ("peer", "ptrace"):
            got[(key, name)][-1].append(events(name, c.log) / calls_made(n))

    got, bpf = {}, {}
    for r in range(o["rounds"]):
        for key, _, c, calls in targets:
            vs = variants(key)
            for i in range(len(vs)):
                once(key, c, calls, vs[(i + r) % len(vs)], got)
        for t in os.listdir(out):
            os.unlink(os.path.join(out, t))
    stats = enable_bpf_stats()
    for r in range(o["rounds"] if stats is not None else 0):
        for key, _, c, calls in targets:
            vs = variants(key, ("bpf",))
            for i in range(len(vs)):
                once(key, c, calls, vs[(i + r) % len(vs)], bpf)
        for t in os.listdir(out):
            os.unlink(os.path.join(out, t))
    if stats is not None:
        os.close(stats)

    print("Machine: %s. Command: `bench/percall.py %s --rounds %d --libc-calls %d "
          "--sys-calls %d --peer-calls %d`; medians of %d interleaved rounds.\n" %
          (describe(), b, o["rounds"], o["libc-calls"], o["sys-calls"], o["peer-calls"],
           o["rounds"]))
    print("| loop | variant | wall ns/call | x floor | thread CPU ns/call | x floor "
          "| tracer CPU ns/call | BPF entry ns/call | BPF exit ns/call | events / calls |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    def median(key, v, k, runs=got):
        return statistics.median(m[k] for m in runs[(key, v)])

    for key, name, _, _ in targets:
        def med(v, k, runs=got):
            return median(key, v, k, runs)
        for v, loops, kind, _ in VARIANTS:
            if key not in loops:
                continue
            if (key, v) not in got:
                print("| %s | %s | not installed | - | - | - | - | - | - | - |" % (name, v))
                continue
            w, c, t = (med(v, k) for k in range(3))
            bs = ["%.0f" % med(v, 3 + k, bpf) if (key, v) in bpf else "-" for k in range(2)]
            ev = "%.3f" % med(v, 5) if kind in ("peer", "ptrace") else "-"
            print("| %s | %s | %.0f | %.2f | %.0f | %.2f | %.0f | %s | %s | %s |" %
                  (name, v, w, w / med("floor", 0), c, c / med("floor", 1), t, bs[0], bs[1], ev))
    if ("sys", "trace-tp") in got:
        print("\nOn the tracepoints, trace-tp is %.2fx floor-tp in wall time and %.2fx in "
              "thread CPU." % tuple(median("sys", "trace-tp", k) / median("sys", "floor-tp", k)
                                    for k in (0, 1)))


if __name__ == "__main__":
    main()
