#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Python programs on Debian's own python3, traced with the bundled configs:
h5py (h5py_workload.py) traced with hdf5.yaml shows its H5D calls on its
file; a program that loads saved numpy arrays and then computes
(npy_workload.py), traced with posix, sys, memory and process, shows a
load phase of file reads and mappings, then a compute phase as long as the
program says it computed, with no file touched, then the cleanup."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (SOURCE, calls, check, finish_traced, generate, need_bpf,  # noqa: E402
                    skip, start_traced, tmpdir)

# h5py and numpy are Debian's, for Debian's interpreter, whatever python3 is first on PATH.
PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def config(name):
    return os.path.join(SOURCE, "configs", name + ".yaml")


def script(name):
    return [PYTHON, os.path.join(HERE, name)]


def h5py_calls(me, events):
    path = me["file"]
    xs = [e for e in calls(events) if e["cat"] == "HDF5" and e["pid"] == me["pid"]]
    on = {}
    for e in xs:
        if e["file"] == path:
            on[e["name"]] = on.get(e["name"], 0) + 1
    # h5py opens a dataset by name with H5Oopen.
    check(on.get("H5Fcreate") == 1 and on.get("H5Fopen") == 1 and on.get("H5Dcreate2") == 1 and
          on.get("H5Oopen") == 1, "h5py's file and dataset calls on %s: %s" % (path, on))
    w = [e for e in xs if e["name"] == "H5Dwrite"]
    r = [e for e in xs if e["name"] == "H5Dread"]
    check(len(w) == 1 and len(r) == 1 and w[0]["file"] == r[0]["file"] == path and
          w[0]["args"]["ret"] == r[0]["args"]["ret"] == 0 and w[0]["tid"] == me["tid"],
          "H5Dwrite %s, H5Dread %s" % (w, r))
    # The dataset id each call was given is the one H5Dcreate2 and H5Oopen returned.
    made = [e["args"]["ret"] for e in xs if e["name"] in ("H5Dcreate2", "H5Oopen")]
    check([w[0]["args"]["hid"], r[0]["args"]["hid"]] == made, "dataset ids %s, %s" %
          ([w[0]["args"]["hid"], r[0]["args"]["hid"]], made))
    check(w[0]["ts"] + w[0]["dur"] <= r[0]["ts"], "H5Dread before H5Dwrite ended")
    return len(xs)


F_DUPFD_CLOEXEC = 1030


def load_then_compute(me, events, weights, table):
    pid = me["pid"]
    xs = sorted((e for e in events if e["ph"] in ("X", "i") and e["pid"] == pid),
                key=lambda e: e["ts"])
    # File I/O: calls on a file the trace names, or on any descriptor past stdio.
    io = sorted((e for e in xs if e["cat"] in ("POSIX", "SYSCALL", "MEMORY") and
                 (e["file"] or e["args"].get("fd", -1) > 2)),
                key=lambda e: e["ts"] + e.get("dur", 0))
    check(io, "no file I/O at all")
    # Load: numpy reads the weights' header through the file, and the data
    # through a duplicate of its descriptor (fcntl F_DUPFD_CLOEXEC), which
    # the trace shows; the table is mapped from its descriptor.
    dup = [e for e in xs if e["cat"] == "POSIX" and e["name"] == "fcntl" and
           e["file"] == weights and e["args"]["cmd"] == F_DUPFD_CLOEXEC]
    check(len(dup) == 1, "the weights' descriptor duplicated: %s" % dup)
    fd, since = dup[0]["args"]["ret"], dup[0]["ts"]
    closed = min(e["ts"] for e in xs if e["cat"] == "SYSCALL" and e["name"] == "close" and
                 e["args"]["fd"] == fd and e["ts"] > since)
    reads = [e["args"]["ret"] for e in xs if e["cat"] == "SYSCALL" and e["name"] == "read" and
             e["args"]["ret"] > 0 and (e["file"] == weights or (
                 e["args"]["fd"] == fd and since < e["ts"] < closed))]
    check(sum(reads) >= os.path.getsize(weights) and max(reads) >= os.path.getsize(weights) // 2,
          "reads of %s: %s" % (weights, reads))
    maps = [e for e in io if e["cat"] == "MEMORY" and e["name"] == "mmap" and e["file"] == table]
    check(len(maps) == 1 and maps[0]["args"]["size"] == os.path.getsize(table),
          "mmap of %s: %s" % (table, maps))
    # Compute: the longest stretch without file I/O is at least as long as
    # the program computed; the arrays were read and mapped before it, and
    # after it come only the interpreter's cleanup: closes and unmaps.
    gaps = [(b["ts"] - (a["ts"] + a.get("dur", 0)), i + 1) for i, (a, b) in
            enumerate(zip(io, io[1:]))]
    gap, after = max(gaps)
    start = io[after - 1]["ts"] + io[after - 1].get("dur", 0)
    check(gap >= me["compute_us"], "the longest stretch without file I/O is %d us; the "
          "program computed for %d us" % (gap, me["compute_us"]))
    check(maps[0]["ts"] <= start and closed <= start, "array I/O after the compute phase began")
    check({e["name"] for e in io[after:]} <= {"close", "munmap"},
          "after computing: %s" % sorted({e["name"] for e in io[after:]}))
    exits = [e for e in xs if e["cat"] == "PROC" and e["name"] == "exit"]
    check(len(exits) == 1 and exits[0]["ts"] >= io[-1]["ts"], "exit %s" % exits)
    return len(xs)


def main():
    status = subprocess.run([PYTHON, "-c", "import h5py, numpy"], capture_output=True)
    if status.returncode:
        skip("%s cannot import h5py and numpy (install python3-h5py python3-numpy)" % PYTHON)
    need_bpf()
    work = tmpdir()
    weights, table = os.path.join(work, "weights.npy"), os.path.join(work, "table.npy")
    subprocess.run([PYTHON, "-c", "import numpy, sys; "
                    "numpy.save(sys.argv[1], numpy.eye(256) * 0.5); "
                    "numpy.save(sys.argv[2], numpy.ones((1024, 256)))", weights, table],
                   check=True)
    h5 = generate([config("hdf5")], os.path.join(work, "hdf5.bpf.o"))
    ml = generate([config(c) for c in ("posix", "sys", "memory", "process")],
                  os.path.join(work, "ml.bpf.o"))
    runs = [start_traced(os.path.join(work, "h5py"), h5, script("h5py_workload.py")),
            start_traced(os.path.join(work, "npy"), ml, script("npy_workload.py") + [work])]
    (h5me, h5ev), (mlme, mlev) = finish_traced(runs[0]), finish_traced(runs[1])
    n = h5py_calls(h5me, h5ev) + load_then_compute(mlme, mlev, weights, table)
    print("ok: %d events; computed %d us after the load" % (n, mlme["compute_us"]))


if __name__ == "__main__":
    main()
