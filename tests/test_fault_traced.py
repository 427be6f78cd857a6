#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Faults on the traced side (docs/reliability.md): nothing is lost or made up.

- A traced program that dies of SIGSEGV: every write before the crash is in
  the trace, the file's open too, no close; the runtime exits 128+11.
- 64 threads alive at once: every thread's writes, under its own tid; the
  trace is 0600 even under umask 0.
- Threads opening and closing files in turn, so that descriptor numbers pass
  from one to another: every write is on its own file.
- Two runtimes at once, their workloads writing at the same time behind
  one gate: each trace holds its own process only, with exact counts.
- The traced library replaced on disk (renamed over, as a package upgrade
  does) mid-run: the process that mapped the old file is traced to the
  end, a process started after maps the new file and is not (probes are
  bound to the file that was there at attach), the runtime keeps going and
  the trace is whole.
"""
import json
import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, SOURCE, calls, check, generate, metadata, need_bpf,  # noqa: E402
                    only_trace, run, skip, tmpdir, write_text)

FAULT = os.environ.get("DC_FAULT_WORKLOAD", "")
WSIZE = 64


def units_of(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def end_record(events):
    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1, "end records: %s" % end)
    return end[0]["args"]


def check_units(events, units, writes, closed=True):
    """Each unit's file got exactly @writes writes of WSIZE, from its pid and tid only."""
    by_name = {}
    for h, n in metadata(events, "FH").items():
        by_name.setdefault(n, []).append(h)
    by_hash = {}
    for e in calls(events):
        by_hash.setdefault(e["args"].get("fhash"), []).append(e)
    for u in units:
        fhash = by_name.get(u["file"], [])
        check(len(fhash) == 1, "%s: FH for %s: %s" % (u["role"], u["file"], fhash))
        mine = by_hash.get(fhash[0], [])
        check({(e["pid"], e["tid"]) for e in mine} == {(u["pid"], u["tid"])},
              "%s: pid/tid %s, want %d/%d" % (u["role"], {(e["pid"], e["tid"]) for e in mine},
                                              u["pid"], u["tid"]))
        for cat, names in (("POSIX", ("open", "write", "close")),
                           ("SYSCALL", ("openat", "write", "close"))):
            got = {n: [e for e in mine if e["cat"] == cat and e["name"] == n] for n in names}
            want = {names[0]: 1, "write": writes, "close": 1 if closed else 0}
            check({n: len(v) for n, v in got.items()} == want,
                  "%s: %s calls %s, want %s" % (u["role"], cat,
                                                {n: len(v) for n, v in got.items()}, want))
            check(all(e["args"]["size"] == WSIZE and e["args"]["ret"] == WSIZE
                      for e in got["write"]), "%s: %s write sizes" % (u["role"], cat))


def segv(work, obj):
    out = os.path.join(work, "segv")
    os.mkdir(out)
    status, text, err = run([RUN, "-q", "-o", out, obj, "--", FAULT, "segv", out, "50"],
                            timeout=120)
    check(status == 128 + 11, "exit status %d, want 139 (SIGSEGV): %s" % (status, err))
    units = units_of(text)
    check([u["role"] for u in units] == ["segv"], "workload said %r" % text)
    events = only_trace(out)
    check_units(events, units, 50, closed=False)
    check(end_record(events)["dropped_events"] == 0, "events dropped")
    print("ok: segv: 50 writes before the crash, all in the trace")


def threads(work, obj):
    out = os.path.join(work, "threads")
    os.mkdir(out)
    # With no umask to help, the trace is still the owner's alone.
    old = os.umask(0)
    try:
        status, text, err = run([RUN, "-q", "-o", out, obj, "--", FAULT, "threads", out, "64",
                                 "20"], timeout=120)
    finally:
        os.umask(old)
    check(status == 0, "exit status %d: %s" % (status, err))
    units = units_of(text)
    check(sorted(u["role"] for u in units) == sorted("t%d" % i for i in range(64)),
          "workload said %r" % text)
    check(len({u["tid"] for u in units}) == 64, "tids repeat: %s" % units)
    pid = units[0]["pid"]
    check(all(u["pid"] == pid for u in units), "threads of more than one process")
    traces = [n for n in os.listdir(out) if n.endswith(".pfw.gz")]
    check(len(traces) == 1 and
          stat.S_IMODE(os.stat(os.path.join(out, traces[0])).st_mode) == 0o600,
          "trace %s is not 0600 under umask 0" % traces)
    events = only_trace(out)
    check_units(events, units, 20)
    files = {h for h, n in metadata(events, "FH").items() if n.startswith(out + "/")}
    tids = {e["tid"] for e in calls(events) if e["args"].get("fhash") in files}
    check(tids == {u["tid"] for u in units}, "tids on the threads' files: %d" % len(tids))
    check(end_record(events)["dropped_events"] == 0, "events dropped")
    print("ok: 64 threads, 20 writes each, 64 distinct tids")


def reused_descriptors(work, obj):
    """Threads that open, write and close in turn hand descriptor numbers to
    each other: a close's end must not take the file of the open that got
    its number next."""
    out = os.path.join(work, "reuse")
    os.mkdir(out)
    nthreads, rounds, count = 16, 100, 4
    status, text, err = run([RUN, "-q", "-o", out, obj, "--", FAULT, "threads", out,
                             str(nthreads), str(count), str(rounds)], timeout=120)
    check(status == 0, "exit status %d: %s" % (status, err))
    units = units_of(text)
    check(sorted(u["role"] for u in units) ==
          sorted("t%d.%d" % (i, r) for i in range(nthreads) for r in range(rounds)),
          "workload said %d units" % len(units))
    events = only_trace(out)
    check(end_record(events)["dropped_events"] == 0, "events dropped")
    tids = {u["tid"] for u in units}
    holders = {}
    for e in calls(events):
        if e["cat"] == "SYSCALL" and e["name"] == "openat" and e["tid"] in tids:
            holders.setdefault(e["args"]["ret"], set()).add(e["tid"])
    # Numbers were handed from thread to thread, which is what the case is about.
    shared = [fd for fd, who in holders.items() if len(who) > 1]
    check(shared, "no descriptor number went to two threads: %s" % holders)
    check_units(events, units, count)
    print("ok: %d threads, %d files each, %d descriptor numbers held by more than one "
          "thread, every write on its file" % (nthreads, rounds, len(shared)))


def two_runtimes(work, obj):
    gate = os.path.join(work, "gate")
    procs = []
    for name, count in (("a", 100), ("b", 150)):
        out = os.path.join(work, "two-" + name)
        os.mkdir(out)
        p = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", FAULT, "gate", out, str(count),
                              gate], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append((name, count, out, p))
    for name, _, _, p in procs:
        line = p.stdout.readline()
        check(line == "ready\n", "runtime %s: workload said %r (%s)" %
              (name, line, p.stderr.read() if line == "" else ""))
    # Both are traced and waiting: let them write at the same time.
    write_text(gate, "")
    seen = {}
    for name, count, out, p in procs:
        text, err = p.communicate(timeout=120)
        check(p.returncode == 0, "runtime %s: exit status %d: %s" % (name, p.returncode, err))
        units = units_of(text)
        check([u["role"] for u in units] == ["gate"], "runtime %s: %r" % (name, text))
        events = only_trace(out)
        check_units(events, units, count)
        pids = {e["pid"] for e in calls(events)}
        check(pids == {units[0]["pid"]}, "runtime %s traced pids %s, want only %d" %
              (name, pids, units[0]["pid"]))
        fh = set(metadata(events, "FH").values())
        seen[name] = (units[0], fh)
        check(end_record(events)["dropped_events"] == 0, "runtime %s dropped events" % name)
    check(seen["a"][0]["file"] not in seen["b"][1] and seen["b"][0]["file"] not in seen["a"][1],
          "a file of one runtime's workload is in the other's trace")
    print("ok: two runtimes, 100 and 150 writes, no cross-talk")


def replaced_library(work):
    lib = os.path.join(work, "libfault.so")
    shutil.copyfile(os.environ["DC_FAULT_LIB1"], lib)
    cfg = write_text(os.path.join(work, "lib.yaml"),
                     "module: lib\nprobes:\n  - kind: uprobe\n    cat: LIB\n"
                     "    binary: %s\n    functions: [dcf_call]\n" % lib)
    obj = generate([cfg], os.path.join(work, "lib.bpf.o"))
    out = os.path.join(work, "lib")
    os.mkdir(out)
    p = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", FAULT, "lib", out, lib, "40"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    first = p.stdout.readline()
    check(first.startswith("{"), "workload said %r (%s)" %
          (first, p.stderr.read() if first == "" else ""))
    # A different build of the library takes its name, the old file unlinked.
    shutil.copyfile(os.environ["DC_FAULT_LIB2"], lib + ".new")
    os.rename(lib + ".new", lib)
    text, err = p.communicate("go\n", timeout=120)
    check(p.returncode == 0, "exit status %d: %s" % (p.returncode, err))
    units = units_of(first + text)
    check([u["role"] for u in units] == ["lib", "lib-child"], "workload said %r" % text)
    events = only_trace(out)
    got = {}
    for e in calls(events):
        check(e["name"] == "dcf_call" and e["cat"] == "LIB", "unexpected event %s" % e)
        got[e["pid"]] = got.get(e["pid"], 0) + 1
    check(got == {units[0]["pid"]: 80},
          "dcf_call calls per pid %s, want 80 from %d (the old mapping) and none from the "
          "child %d (the new file)" % (got, units[0]["pid"], units[1]["pid"]))
    check(end_record(events)["dropped_events"] == 0, "events dropped")
    print("ok: library replaced mid-run: 80 calls through the old mapping, none through the new")


def main():
    need_bpf()
    if not FAULT:
        skip("dc-fault-workload was not built")
    work = tmpdir()
    obj = generate([os.path.join(SOURCE, "configs/posix.yaml"),
                    os.path.join(SOURCE, "configs/sys.yaml")], os.path.join(work, "io.bpf.o"))
    segv(work, obj)
    threads(work, obj)
    reused_descriptors(work, obj)
    two_runtimes(work, obj)
    replaced_library(work)


if __name__ == "__main__":
    main()
