#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Traced programs that are hard on the drain: one that dies of SIGSEGV
(every call it made before the crash is in the trace, the run exits as the
command did, and the trace says how it ended), and one of 64 threads (each
thread's calls, all of them, under its own tid and thread_name)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (LOOP, RUN, calls, check, loop_config, need_bpf, only_trace, run,  # noqa: E402
                    tmpdir)

CRASH_CALLS = 5000
THREADS, PER_THREAD = 64, 2000


def crash(obj, work):
    out = os.path.join(work, "crash")
    os.mkdir(out)
    code, text, err = run([RUN, "-q", "-o", out, obj, "--", LOOP, "-n", str(CRASH_CALLS), "-k"],
                          timeout=120)
    check(code == 128 + 11, "exit %d, want %d (SIGSEGV): %s" % (code, 128 + 11, err))
    pid = json.loads(text)["pid"]
    events = only_trace(out)
    xs = [e for e in calls(events) if e["pid"] == pid]
    check(len(xs) == CRASH_CALLS and all(e["name"] == "lseek" for e in xs),
          "%d lseeks of %d before the crash" % (len(xs), CRASH_CALLS))
    ends = [e["args"] for e in events if e["ph"] == "M" and e["name"] == "PR" and
            e["pid"] == pid and e["args"]["name"].startswith("exit_")]
    check(ends == [{"name": "exit_signal", "value": 11}], "how it ended: %s" % ends)
    check(events[-1]["name"] == "end" and events[-1]["args"]["dropped_events"] == 0,
          "end record: %s" % events[-1])


def threads(obj, work):
    out = os.path.join(work, "threads")
    os.mkdir(out)
    code, text, err = run([RUN, "-q", "-o", out, obj, "--", LOOP, "-t", str(THREADS), "-n",
                           str(PER_THREAD)], timeout=120)
    check(code == 0, "run failed (%d): %s" % (code, err))
    pid = json.loads(text)["pid"]
    events = only_trace(out)
    per_tid = {}
    for e in calls(events):
        check(e["pid"] == pid and e["name"] == "lseek", "a call not of the loop: %s" % e)
        per_tid[e["tid"]] = per_tid.get(e["tid"], 0) + 1
    check(len(per_tid) == THREADS and pid in per_tid,
          "%d threads traced, want %d with the main one" % (len(per_tid), THREADS))
    check(set(per_tid.values()) == {PER_THREAD}, "calls per thread: %s" %
          sorted(set(per_tid.values())))
    named = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    check(named == set(per_tid), "threads named %d, traced %d" % (len(named), len(per_tid)))


def main():
    need_bpf()
    work = tmpdir()
    obj = loop_config(work)
    crash(obj, work)
    print("ok: SIGSEGV after %d calls, all of them traced" % CRASH_CALLS)
    threads(obj, work)
    print("ok: %d threads x %d calls" % (THREADS, PER_THREAD))


if __name__ == "__main__":
    main()
