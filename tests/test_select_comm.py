#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--comm: a copy of the workload under a name of its own runs before the
runtime starts (found in /proc) and another starts once it is live (caught
at exec); both, with their threads, forked child and exec'd grandchild
(which runs as "exe"), are in the trace with their exact I/O. The same
workload under its usual name, running at the same time, is not. A
PMI_RANK that holds no rank leaves the trace's name without one."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_descend, check_end,  # noqa: E402
                    check_units, metadata, only_trace, start_runtime, stop_runtime, traced_setup,
                    workload_units)


def main():
    work, obj, out = traced_setup("out")
    # A name no other test's process has.
    name = "dcc%06x" % (os.getpid() & 0xffffff)
    prog = os.path.join(work, name)
    shutil.copy(WORKLOAD, prog)
    pidfile = os.path.join(work, "run.pid")
    r, w = os.pipe()
    early = subprocess.Popen([prog, "--wait", str(r), "--exec", os.path.join(work, "early")],
                             pass_fds=(r,), stdout=subprocess.PIPE, text=True)
    os.close(r)
    procs = [early]
    try:
        # The first rank variable set decides: one that holds no rank names none.
        env = dict(os.environ, PMI_RANK="one", SLURM_PROCID="3")
        env.pop("OMPI_COMM_WORLD_RANK", None)
        rt = start_runtime([RUN, "-o", out, "--comm", name, "--pidfile", pidfile, obj],
                           pidfile, env=env)
        os.write(w, b"g")
        late = subprocess.Popen([prog, "--exec", os.path.join(work, "late")],
                                stdout=subprocess.PIPE, text=True)
        other = subprocess.Popen([WORKLOAD, "--exec", os.path.join(work, "other")],
                                 stdout=subprocess.PIPE, text=True)
        procs += [late, other]
        units = {"early": workload_units(early), "late": workload_units(late), "other": workload_units(other)}
        status, err = stop_runtime(rt)
    finally:
        os.close(w)
        for p in procs:
            if p.poll() is None:
                p.kill()
    check(status == 0, "runtime exit status %d: %s" % (status, err))
    lines = err.strip().splitlines()
    check(len(lines) == 2 and lines[0] == "datacrumbs-run: warning: PMI_RANK=one is not a rank; "
          "the trace is named without one", "runtime messages: %r" % err)
    check(os.listdir(out) == ["posix+sys-%s-%d.pfw.gz" % (os.uname().nodename, rt.pid)],
          "trace files %s (named after the runtime, pid %d)" % (os.listdir(out), rt.pid))
    events = only_trace(out)
    check_units(events, units["early"] + units["late"])
    traced = {u["pid"] for u in units["early"] + units["late"]}
    pids = {e["pid"] for e in calls(events)}
    check(traced <= pids, "traced pids %s, want %s" % (pids, traced))
    # A sanitizer runtime may fork helpers of its own, descendants too.
    check_descend(events, {early.pid, late.pid})
    fh = set(metadata(events, "FH").values())
    check(not [u for u in units["other"] if u["file"] in fh], "the other workload is traced")
    check_end(events)
    print("ok: %d events of %d processes" % (len(calls(events)), len(pids)))


if __name__ == "__main__":
    main()
