#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end: generate posix+sys, trace the known workload, check the trace.

The workload's main thread, three threads and a forked child each open a
file, write 100 x 4096 B, pread 50 x 512 B at known offsets, fsync and
close. An unrelated process does I/O at the same time and must not appear.
"""
import glob
import json
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_descend, check_units, metadata,  # noqa: E402
                    noise_process, read_trace, run, traced_setup)


def main():
    work, obj, data = traced_setup("data")
    noise_file = os.path.join(work, "unrelated.dat")
    noise = noise_process(noise_file)
    try:
        status, out, err = run([RUN, "-o", work, obj, "--", WORKLOAD, data])
    finally:
        noise.kill()
        noise.wait()
    check(status == 7, "exit status %d is not the workload's 7: %s" % (status, err))
    units = [json.loads(line) for line in out.splitlines()]
    check(sorted(u["role"] for u in units) ==
          ["child", "main", "thread0", "thread1", "thread2"], "workload report: %s" % out)
    main_pid = next(u["pid"] for u in units if u["role"] == "main")

    traces = glob.glob(os.path.join(work, "*.pfw.gz"))
    check(len(traces) == 1, "expected one trace, got %s" % traces)
    name = os.path.basename(traces[0])
    check(name == "posix+sys-%s-%d.pfw.gz" % (os.uname().nodename, main_pid),
          "trace file name %s" % name)
    check(stat.S_IMODE(os.stat(traces[0]).st_mode) == 0o600, "trace mode is not 0600")
    check(err.strip().endswith(traces[0]), "summary does not end with the path: " + err)
    events = read_trace(traces[0])
    fh = metadata(events, "FH")
    hh = metadata(events, "HH")
    check(list(hh.values()) == [os.uname().nodename], "HH metadata: %s" % hh)
    host_hash = next(iter(hh))
    xs = calls(events)
    check(xs, "no call events")
    ids = [e["id"] for e in events if "id" in e]
    check(len(ids) == len(set(ids)), "event ids repeat")

    # Nothing of the unrelated process: every pid is the workload or descends
    # from it (a sanitizer runtime may fork helpers of its own).
    pids = {e["pid"] for e in xs}
    check({u["pid"] for u in units} <= pids, "pids in trace %s" % pids)
    check_descend(events, {main_pid})
    check(noise_file not in fh.values(), "the unrelated process's file is in the trace")

    for e in xs:
        check(e["args"]["hhash"] == host_hash, "event without the host hash: %s" % e)
        check(e["cat"] in ("POSIX", "SYSCALL"), "category %s" % e["cat"])
        check(isinstance(e["dur"], int) and e["dur"] >= 0, "dur %s" % e)

    check_units(events, units)

    # Process metadata: names for both processes, the child's parent.
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    wl = os.path.basename(WORKLOAD)[:15]
    check(all(names.get(u["pid"]) == wl for u in units), "process names %s" % names)
    child = next(u for u in units if u["role"] == "child")
    ppid = [e for e in events if e["name"] == "PR" and e["pid"] == child["pid"] and
            e["args"]["name"] == "ppid"]
    check([e["args"]["value"] for e in ppid] == [main_pid], "child's ppid %s" % ppid)
    tnames = {e["tid"] for e in events if e["name"] == "thread_name"}
    check({u["tid"] for u in units} <= tnames, "thread names %s" % tnames)

    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1 and end[0]["args"]["num_events"] == len(xs), "end record %s" % end)
    check(end[0]["args"]["dropped_events"] == 0, "events were dropped")
    check(end[0]["args"]["emitted_events"] == len(xs), "emitted != written")
    print("ok: %d events, %d units" % (len(xs), len(units)))


if __name__ == "__main__":
    main()
