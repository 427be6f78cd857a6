#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end: system calls traced by number on the raw sys_enter/sys_exit
dispatcher (the default) and on their own syscalls:* tracepoints
(generate --syscall-tracepoints) give the same trace of the known workload.

Each object's manifest must say which way each call attaches, the workload's
units must check out exactly both ways (counts, sizes, offsets, pid/tid,
nesting under libc), and the system call events must be the same multiset.

The numbers generate adds for calls newer than the build's headers are
checked the same way: a command makes each call in the number range they
take (451 on), with arguments the kernel refuses, and the dispatcher must
name each as its own tracepoint does.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, SOURCE, WORKLOAD, calls, check, check_units, generate,  # noqa: E402
                    manifest, metadata, need_bpf, only_trace, run, tmpdir, write_text)

CONFIGS = [os.path.join(SOURCE, "configs", c + ".yaml") for c in ("posix", "sys")]


def traced(work, name, extra):
    obj = generate(CONFIGS, os.path.join(work, name + ".bpf.o"), extra)
    out = os.path.join(work, name)
    os.mkdir(out)
    status, text, err = run([RUN, "-q", "-o", out, obj, "--", WORKLOAD, os.path.join(out, "data")])
    check(status == 7, "%s: workload run failed (%d): %s" % (name, status, err))
    events = only_trace(out)
    units = [json.loads(line) for line in text.splitlines()]
    check_units(events, units)
    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1 and end[0]["args"]["dropped_events"] == 0, "%s: end %s" % (name, end))
    return obj, events, units


def syscall_shape(events, units, data):
    """The workload's system calls on its data files, without times, ids
    and the numbers of new descriptors (its threads race for those)."""
    fh = metadata(events, "FH")
    mine = {h for h, n in fh.items() if n.startswith(data)}
    tids = {u["tid"]: u["role"] for u in units}
    shape = collections.Counter()
    for e in calls(events):
        if e["cat"] != "SYSCALL" or e["args"].get("fhash") not in mine:
            continue
        a = e["args"]
        shape[(tids.get(e["tid"]), e["name"], a["level"], a.get("size"), a.get("offset"),
               a.get("ret") if "size" in a else None, os.path.basename(fh[a["fhash"]]))] += 1
    return shape


# Calls that came after Debian 12's headers (which end at 450), by name; the
# numbers are generate's to find.
NEWER = ("cachestat|fchmodat2|map_shadow_stack|futex_wake|futex_wait|futex_requeue|statmount|"
         "listmount|lsm_get_self_attr|lsm_set_self_attr|lsm_list_modules|mseal|setxattrat|"
         "getxattrat|listxattrat|removexattrat|open_tree_attr|file_getattr|file_setattr")
FIRST_NEWER, PAST_NEWER = 451, 470
CALL_EACH = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nbad = ctypes.c_long(-1)\n"
             "for nr in range(%d, %d):\n    libc.syscall(ctypes.c_long(nr), bad, bad, bad, bad, bad)\n"
             % (FIRST_NEWER, PAST_NEWER))


def newer_calls(work):
    """Names of the calls in [FIRST_NEWER, PAST_NEWER) both ways."""
    cfg = write_text(os.path.join(work, "newer.yaml"),
                     "module: newer\nprobes:\n  - kind: syscall\n    cat: SYSCALL\n"
                     "    match: '^(%s)$'\n" % NEWER)
    names = {}
    for way, extra in (("raw", ()), ("tp", ("--syscall-tracepoints",))):
        obj = generate([cfg], os.path.join(work, "newer-%s.bpf.o" % way), extra)
        out = os.path.join(work, "newer-" + way)
        os.mkdir(out)
        status, _, err = run([RUN, "-q", "-o", out, obj, "--", sys.executable, "-c", CALL_EACH])
        check(status == 0, "newer calls (%s): run failed (%d): %s" % (way, status, err))
        # In the order made: a number given to the wrong name shows as a swap.
        names[way] = [e["name"] for e in sorted(calls(only_trace(out)), key=lambda e: e["ts"])
                      if e["cat"] == "SYSCALL"]
        if way == "raw":
            probes = [p[8] for p in manifest(obj) if p[2] == "s"]
    nrs = [int(p.split("@")[1]) for p in probes if "@" in p]
    check(len(nrs) == len(probes) and all(FIRST_NEWER <= n < PAST_NEWER for n in nrs),
          "newer calls not all by number in [%d, %d): %s" % (FIRST_NEWER, PAST_NEWER, probes))
    want = collections.Counter(p.split("@")[0] for p in probes)
    check(collections.Counter(names["tp"]) == want, "tracepoints saw %s, not each of %s once" %
          (names["tp"], probes))
    check(names["raw"] == names["tp"], "by number %s, by tracepoint %s" %
          (names["raw"], names["tp"]))
    return len(probes)


def main():
    need_bpf()
    work = tmpdir()
    raw_obj, raw_ev, raw_units = traced(work, "raw", ())
    tp_obj, tp_ev, tp_units = traced(work, "tp", ("--syscall-tracepoints",))

    raw_sys = [p for p in manifest(raw_obj) if p[2] == "s"]
    tp_sys = [p for p in manifest(tp_obj) if p[2] == "s"]
    check(raw_sys and len(raw_sys) == len(tp_sys), "syscall probes: %d vs %d" %
          (len(raw_sys), len(tp_sys)))
    # Field 8 is NAME@NUMBER for the dispatcher, NAME for tracepoints.
    by_nr = [p[8] for p in raw_sys if "@" in p[8]]
    check(len(by_nr) == len(raw_sys), "calls left on tracepoints by default: %s" %
          [p[8] for p in raw_sys if "@" not in p[8]])
    check(len({n.split("@")[1] for n in by_nr}) == len(by_nr), "a number twice: %s" % by_nr)
    check(all("@" not in p[8] for p in tp_sys), "--syscall-tracepoints kept numbers")

    raw = syscall_shape(raw_ev, raw_units, os.path.join(work, "raw", "data"))
    tp = syscall_shape(tp_ev, tp_units, os.path.join(work, "tp", "data"))
    check(sum(raw.values()) > 0, "no system calls on the data files")
    check(raw == tp, "the two ways differ: only raw %s, only tracepoints %s" %
          (dict(raw - tp), dict(tp - raw)))
    # Nothing the configs do not name: the dispatcher sees every system call.
    names = set(s.split("@")[0] for s in by_nr)
    for ev in (raw_ev, tp_ev):
        seen = {e["name"] for e in calls(ev) if e["cat"] == "SYSCALL"}
        check(seen <= names, "system calls not configured: %s" % (seen - names))
    newer = newer_calls(work) if os.uname().machine in ("x86_64", "aarch64") else 0
    print("ok: %d system calls on the data files both ways, %d probes by number, "
          "%d calls newer than the headers named alike" % (sum(raw.values()), len(by_nr), newer))


if __name__ == "__main__":
    main()
