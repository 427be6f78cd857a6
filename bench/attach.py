#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Start-up at scale: how long datacrumbs-run takes to attach about 100, 1,000
and all of the exported functions of libc, libhdf5 (with its high-level and
C++ APIs), libmpi (with libopen-pal and libopen-rte), libm and every system
call (the sets of bench/generate_scale.py), against bpftrace on the same
probes, and the DataCrumbs paper's 78.98 ms for 8,723 functions.

    sudo bench/attach.py [--runs N] [--sizes 100,1000,all] [--no-bpftrace]
                         [--per-probe-max N] [--bpftrace-runs N] [--bpftrace-timeout S] [BUILD_DIR]

For each run it reports the runtime's own attach time (what --verbose
prints, from the first link to the last), and the wall time from starting
the tool to the moment its command starts (the command prints the clock),
for datacrumbs (uprobe_multi links, and per-probe links up to
--per-probe-max) and, up to the same size, for bpftrace 0.17 (Debian's; apt-get install bpftrace), which gets
BPFTRACE_MAX_PROBES high enough for the set and a /pid == cpid/ filter.
Medians of --runs runs (bpftrace: --bpftrace-runs).
Attaching to libc puts breakpoints into every process that maps it, so the
machine's process count is printed too."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_scale  # noqa: E402
from machine import describe  # noqa: E402

PAPER_MS = 78.98
PAPER_FUNCS = 8723
TIMEOUT = 900


def run_tool(build):
    return os.path.join(build, "runtime", "datacrumbs-run")


def started_after(argv, env=None, timeout=TIMEOUT):
    """Runs @argv whose command prints the realtime clock when it starts;
    returns (seconds from launch to that moment, total seconds, stderr)."""
    t0 = time.time()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, timeout, "did not start its command within %d s" % timeout
    total = time.time() - t0
    m = re.search(r"^(\d+\.\d+)$", p.stdout, re.M)
    if p.returncode or not m:
        return None, total, p.stderr
    return float(m.group(1)) - t0, total, p.stderr


def datacrumbs(build, obj, work, extra=()):
    argv = [run_tool(build), "-v", *extra, "-o", work, obj, "--", "/bin/date", "+%s.%N"]
    start, total, err = started_after(argv)
    m = re.search(r"attached (\d+) probes in ([\d.]+) ms: (\d+) uprobes in ([\d.]+) ms "
                  r"\((\d+) [\w-]+ links\), (\d+) system calls in ([\d.]+) ms", err)
    if start is None or not m:
        return {"error": err.strip().splitlines()[-1] if err.strip() else "failed"}
    return {"start": start, "total": total, "attached": int(m.group(1)),
            "attach_ms": float(m.group(2)), "uprobe_ms": float(m.group(4)),
            "links": int(m.group(5)), "syscall_ms": float(m.group(7))}


def bpftrace_script(cfg_libs, syscalls, path):
    """Entry and return of every function and system call, timed per call
    and printed, as a user would write it by hand."""
    ups, rets = [], []
    for lib, names in cfg_libs.items():
        ups += ["uprobe:%s:%s" % (lib, n) for n in names]
        rets += ["uretprobe:%s:%s" % (lib, n) for n in names]
    ups += ["tracepoint:syscalls:sys_enter_%s" % s for s in syscalls]
    rets += ["tracepoint:syscalls:sys_exit_%s" % s for s in syscalls]
    with open(path, "w") as f:
        # Only the command, as datacrumbs follows only it: bpftrace's own
        # printing would otherwise trace itself without end.
        f.write(",\n".join(ups) + "\n/pid == cpid/ { @ts[tid] = nsecs; }\n")
        f.write(",\n".join(rets) + "\n/pid == cpid && @ts[tid]/ { printf(\"%d %d\\n\", tid, "
                "nsecs - @ts[tid]); delete(@ts[tid]); }\n")
    return 2 * len(ups)


def bpftrace(script, nprobes, timeout):
    env = dict(os.environ, BPFTRACE_MAX_PROBES=str(nprobes + 16))
    start, total, err = started_after(["bpftrace", "-c", "/bin/date +%s.%N", script], env,
                                      timeout)
    if start is None:
        lines = [ln for ln in err.strip().splitlines() if "ERROR" in ln or "error" in ln]
        return {"error": (lines or err.strip().splitlines() or ["failed"])[-1][:120]}
    return {"start": start, "total": total}


def selected(libs, syscalls, n):
    """The functions and system calls generate_scale.config() puts in a config of @n."""
    total = sum(len(v) for v in libs.values()) + 1
    take = {lib: names if n is None else names[:max(1, n * len(names) // total)]
            for lib, names in libs.items()}
    return take, syscalls if n is not None else None


def kernel_syscalls():
    out = []
    for d in sorted(os.listdir("/sys/kernel/tracing/events/syscalls")):
        if d.startswith("sys_enter_"):
            out.append(d[len("sys_enter_"):])
    return out


def median(rows, key):
    vals = [r[key] for r in rows if key in r]
    return statistics.median(vals) if vals else None


def machine():
    libc_maps = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/maps" % pid) as f:
                libc_maps += "libc.so.6" in f.read()
        except OSError:
            pass
    return "%s, %d processes mapping libc" % (describe(), libc_maps)


def fmt(v, unit="ms"):
    if v is None:
        return "–"
    return "%.1f %s" % (v * 1000, unit) if unit == "ms" else "%.2f s" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="100,1000,all")
    ap.add_argument("--no-bpftrace", action="store_true")
    ap.add_argument("--per-probe-max", type=int, default=100,
                    help="largest set run with per-probe links (datacrumbs --no-multi and "
                    "bpftrace); each such link waits a grace period under a kernel-wide "
                    "lock when it closes, stalling every tracer on the machine")
    ap.add_argument("--bpftrace-runs", type=int, default=1,
                    help="runs of bpftrace per set (it takes minutes at 1,000)")
    ap.add_argument("--bpftrace-timeout", type=int, default=600,
                    help="seconds bpftrace may take to start its command")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/attach.py: must run as root, to load BPF programs")
    have_bpftrace = not a.no_bpftrace and shutil.which("bpftrace")
    if not a.no_bpftrace and not have_bpftrace:
        print("note: bpftrace not found (apt-get install bpftrace); its column stays empty")
    libs = {}
    for lib in generate_scale.LIBS:
        path, names = generate_scale.functions(a.build, lib)
        if path:
            libs[path] = names
    syscalls = generate_scale.SYSCALLS
    gen = generate_scale.tool(a.build, "generate")
    work = tempfile.mkdtemp(prefix="dcbench-attach-")
    out = os.path.join(work, "out")
    os.mkdir(out)
    print("Machine: " + machine())
    rows = []
    for size in a.sizes.split(","):
        n = None if size == "all" else int(size)
        cfg = os.path.join(work, "scale-%s.yaml" % size)
        generate_scale.config(cfg, libs, syscalls, n)
        obj = os.path.join(work, "scale-%s.bpf.o" % size)
        p = subprocess.run([gen, "-o", obj, cfg], capture_output=True, text=True)
        if p.returncode:
            sys.exit("generate failed: " + p.stderr)
        probes = int(re.search(r"(\d+) probes", p.stdout).group(1))
        take, sc = selected(libs, syscalls, n)
        sc = sc[:max(1, n // 20)] if n is not None else kernel_syscalls()
        script = os.path.join(work, "scale-%s.bt" % size)
        bt_probes = bpftrace_script(take, sc, script)
        multi, single, bt = [], [], []
        for _ in range(a.runs):
            multi.append(datacrumbs(a.build, obj, out))
            if n is not None and n <= a.per_probe_max:
                single.append(datacrumbs(a.build, obj, out, ["--no-multi"]))
            if have_bpftrace and n is not None and n <= a.per_probe_max and \
                    len(bt) < a.bpftrace_runs:
                bt.append(bpftrace(script, bt_probes, a.bpftrace_timeout))
        rows.append((size, probes, multi, single, bt, bt_probes))
        shutil.rmtree(out)
        os.mkdir(out)
    print()
    print("| set | probes | attached | datacrumbs attach (its own) | of it uprobes / syscalls "
          "| uprobe_multi links | wall to command start | whole run | per-probe links: attach "
          "| bpftrace: wall to command start |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, probes, multi, single, bt, btn in rows:
        errs = [r["error"] for r in multi + single + bt if "error" in r]
        attach = median(multi, "attach_ms")
        print("| %s | %d | %s | %s | %s / %s | %s | %s | %s | %s | %s |" % (
            size, probes, median(multi, "attached") or "–",
            "%.1f ms" % attach if attach is not None else "–",
            "%.1f" % median(multi, "uprobe_ms") if attach is not None else "–",
            "%.1f ms" % median(multi, "syscall_ms") if attach is not None else "–",
            median(multi, "links") or "–", fmt(median(multi, "start")),
            fmt(median(multi, "total"), "s"),
            "%.1f ms" % median(single, "attach_ms") if median(single, "attach_ms") else "–",
            fmt(median(bt, "start")) if median(bt, "start") else
            (bt[0]["error"] if bt and "error" in bt[0] else "–")))
        for e in sorted(set(errs)):
            print("|   | note: %s |" % e)
    print("\nThe DataCrumbs paper: %d functions in %.2f ms." % (PAPER_FUNCS, PAPER_MS))


if __name__ == "__main__":
    main()
