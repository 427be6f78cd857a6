#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--all: the workload, started by the test once the runtime is live and
related to it in no way, is in the trace with its exact I/O, and so is a
process that was already running; the runtime itself is not. Only the libc
probes: every process on the machine is traced while this runs, and
system-call tracepoints would flood the ring with theirs."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_end, check_units, metadata,  # noqa: E402
                    noise_process, only_trace, start_runtime, stop_runtime, traced_setup)


def main():
    work, obj, out = traced_setup("out", configs=("posix",))
    pidfile = os.path.join(work, "run.pid")
    noise_file = os.path.join(work, "running.dat")
    noise = noise_process(noise_file)
    try:
        rt = start_runtime([RUN, "-q", "-o", out, "--all", "--pidfile", pidfile, obj], pidfile)
        p = subprocess.run([WORKLOAD, "--exec", os.path.join(work, "data")],
                           stdout=subprocess.PIPE, text=True, timeout=120)
        # The running process writes its file every few microseconds.
        time.sleep(0.2)
        status, err = stop_runtime(rt)
    finally:
        noise.kill()
        noise.wait()
    check(p.returncode == 7, "workload exit status %d" % p.returncode)
    check(status == 0, "runtime exit status %d: %s" % (status, err))
    units = [json.loads(line) for line in p.stdout.splitlines()]
    check(len(units) == 6, "workload: %s" % p.stdout)
    events = only_trace(out)
    check_units(events, units, syscalls=False)
    pids = {e["pid"] for e in calls(events)}
    check({u["pid"] for u in units} <= pids, "workload pids %s not all traced" %
          {u["pid"] for u in units})
    check(rt.pid not in pids, "the runtime traced itself")
    fh = metadata(events, "FH")
    check(noise_file in fh.values(), "the process running before the runtime is not traced")
    check_end(events)
    print("ok: %d events of %d processes" % (len(calls(events)), len(pids)))


if __name__ == "__main__":
    main()
