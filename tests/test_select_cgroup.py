#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--cgroup: a cgroup v2 directory made for the test, with a child cgroup.
One workload starts in the directory itself, one in the child cgroup; both,
with their threads, forked child and exec'd grandchild, are in the trace
with their exact I/O. The same workload outside the cgroup, running at the
same time, is not. The cgroups are removed afterwards."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_descend, check_end,  # noqa: E402
                    check_units, metadata, need_bpf, only_trace, skip, start_runtime, stop_runtime,
                    traced_setup, workload_units)


def cgroup2_root():
    """Where cgroup v2 is mounted under /sys/fs/cgroup, or None."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, where, fstype = line.split()[:3]
            if fstype == "cgroup2" and (where + "/").startswith("/sys/fs/cgroup/"):
                return where
    return None


def in_cgroup(path):
    """For Popen: moves the child into @path before it execs."""
    def move():
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write("0")
    return move


def main():
    need_bpf()
    root = cgroup2_root()
    if not root:
        skip("cgroup v2 is not mounted under /sys/fs/cgroup")
    # meson's timeout sends SIGTERM: remove the cgroups then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    base = os.path.join(root, "dctest-%d" % os.getpid())
    sub = os.path.join(base, "sub")
    try:
        os.mkdir(base)
    except OSError as e:
        skip("cannot make a cgroup in %s: %s" % (root, e))
    procs = []
    try:
        os.mkdir(sub)
        work, obj, out = traced_setup("out")
        pidfile = os.path.join(work, "run.pid")
        rt = start_runtime([RUN, "-q", "-o", out, "--cgroup", base, "--pidfile", pidfile, obj],
                           pidfile)
        for name, where in (("top", base), ("below", sub), ("outside", None)):
            procs.append(subprocess.Popen([WORKLOAD, "--exec", os.path.join(work, name)],
                                          stdout=subprocess.PIPE, text=True,
                                          preexec_fn=in_cgroup(where) if where else None))
        units = [workload_units(p) for p in procs]
        status, err = stop_runtime(rt)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for d in (sub, base):
            if os.path.isdir(d):
                os.rmdir(d)
    check(not os.path.exists(base), "the test's cgroup is left")
    check(status == 0, "runtime exit status %d: %s" % (status, err))
    events = only_trace(out)
    check_units(events, units[0] + units[1])
    inside = {u["pid"] for u in units[0] + units[1]}
    pids = {e["pid"] for e in calls(events)}
    check(inside <= pids, "traced pids %s, want %s" % (pids, inside))
    # Nothing else: a sanitizer runtime's helpers descend from the workloads.
    check_descend(events, {procs[0].pid, procs[1].pid})
    outside = {u["pid"] for u in units[2]}
    check(not pids & outside, "the workload outside the cgroup is traced: %s" % (pids & outside))
    fh = set(metadata(events, "FH").values())
    check(not [u for u in units[2] if u["file"] in fh], "a file from outside is traced")
    check_end(events)
    print("ok: %d events of %d processes in %s" % (len(calls(events)), len(pids), base))


if __name__ == "__main__":
    main()
