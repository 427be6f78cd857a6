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
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (GENERATE, RUN, SOURCE, WORKLOAD, calls, check, fail, generate,  # noqa: E402
                    metadata, need_bpf, read_trace, run, tmpdir)

WRITES, WSIZE, READS, RSIZE = 100, 4096, 50, 512
OFFSETS = sorted(i * 8000 + 100 for i in range(READS))
# libc call -> the system call it makes, and how many of each per unit
EXPECT = {
    "open": ("openat", 1),
    "write": ("write", WRITES),
    "pread": ("pread64", READS),
    "fsync": ("fsync", 1),
    "close": ("close", 1),
}


def main():
    need_bpf()
    work = tmpdir()
    obj = generate([os.path.join(SOURCE, "configs/posix.yaml"),
                    os.path.join(SOURCE, "configs/sys.yaml")],
                   os.path.join(work, "posix.bpf.o"))
    data = os.path.join(work, "data")
    os.mkdir(data)
    noise_file = os.path.join(work, "unrelated.dat")
    noise = subprocess.Popen([sys.executable, "-c", """
import os, sys
while True:
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"x" * 4096)
    os.close(fd)
""", noise_file])
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
    parent = {e["pid"]: e["args"]["value"] for e in events
              if e["name"] == "PR" and e["args"]["name"] == "ppid"}
    pids = {e["pid"] for e in xs}
    check({u["pid"] for u in units} <= pids, "pids in trace %s" % pids)
    for pid in pids:
        chain = [pid]
        while chain[-1] in parent and len(chain) < 10:
            chain.append(parent[chain[-1]])
        check(chain[-1] == main_pid, "pid %d does not descend from the workload" % pid)
    check(noise_file not in fh.values(), "the unrelated process's file is in the trace")

    for e in xs:
        check(e["args"]["hhash"] == host_hash, "event without the host hash: %s" % e)
        check(e["cat"] in ("POSIX", "SYSCALL"), "category %s" % e["cat"])
        check(isinstance(e["dur"], int) and e["dur"] >= 0, "dur %s" % e)

    for u in units:
        fhash = [h for h, n in fh.items() if n == u["file"]]
        check(len(fhash) == 1, "%s: FH for %s: %s" % (u["role"], u["file"], fhash))
        mine = [e for e in xs if e["args"].get("fhash") == fhash[0]]
        check({(e["pid"], e["tid"]) for e in mine} == {(u["pid"], u["tid"])},
              "%s: pid/tid %s, workload says %d/%d" %
              (u["role"], {(e["pid"], e["tid"]) for e in mine}, u["pid"], u["tid"]))
        for libc, (sysc, count) in EXPECT.items():
            lc = [e for e in mine if e["cat"] == "POSIX" and e["name"] == libc]
            sc = [e for e in mine if e["cat"] == "SYSCALL" and e["name"] == sysc]
            check(len(lc) == count, "%s: %d POSIX %s, want %d" % (u["role"], len(lc), libc, count))
            check(len(sc) == count, "%s: %d SYSCALL %s, want %d" % (u["role"], len(sc), sysc, count))
            # Each libc call contains its system call, one level deeper.
            for c in lc:
                inner = [s for s in sc if s["tid"] == c["tid"] and
                         s["args"]["level"] == c["args"]["level"] + 1 and
                         c["ts"] <= s["ts"] and s["ts"] + s["dur"] <= c["ts"] + c["dur"]]
                check(len(inner) == 1, "%s: %s at %d contains %d %s calls" %
                      (u["role"], libc, c["ts"], len(inner), sysc))
        writes = [e for e in mine if e["name"] == "write"]
        check(all(e["args"]["size"] == WSIZE and e["args"]["ret"] == WSIZE and
                  e["args"]["fd"] >= 3 for e in writes), "%s: write sizes" % u["role"])
        for cat, name in (("POSIX", "pread"), ("SYSCALL", "pread64")):
            reads = [e for e in mine if e["cat"] == cat and e["name"] == name]
            check(sorted(e["args"]["offset"] for e in reads) == OFFSETS,
                  "%s: %s offsets %s" % (u["role"], name, sorted(e["args"]["offset"] for e in reads)))
            check(all(e["args"]["size"] == RSIZE and e["args"]["ret"] == RSIZE for e in reads),
                  "%s: %s sizes" % (u["role"], name))
        opens = [e for e in mine if e["cat"] == "POSIX" and e["name"] == "open"]
        check(opens[0]["args"]["ret"] == writes[0]["args"]["fd"], "%s: open's fd" % u["role"])
        check(all(e["args"]["level"] == 0 for e in mine if e["cat"] == "POSIX"),
              "%s: POSIX calls not at level 0" % u["role"])

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
