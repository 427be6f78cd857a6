#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end, kernel tracepoints: the known workload (4 units in one
process and a forked child, each writing, preading at known offsets and
fsyncing its own file), started through a Python launcher that first runs
`true` in a child and then execs the workload in place.

Checked exactly:
- syscalls:sys_enter/exit_fsync paired by match: one fsync span per unit,
  ret 0, on the unit's thread;
- sys_enter/exit_openat and _pread64 as listed pairs with fields: the
  path opened becomes the fd's file (ret: fd), so the unit's 50 preads
  carry its fhash, with their offsets;
- ext4_sync_file_enter/exit (when the data is on ext4): one per unit, with
  the file's inode, nested one level inside that unit's fsync;
- sched_process_fork as point events with fields: every task the traced
  processes created, parent and child ids;
- sched_process_exec's __data_loc filename as an FH string;
- task_newtask -> sched_process_exit, a keyed pair joined on the pid field
  (at different offsets in the two events): one per thread and process
  created, ended in the task itself, with group_dead from the exit event.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, generate, metadata, need_bpf,  # noqa: E402
                    only_trace, run, skip, tmpdir)

READS = 50
OFFSETS = sorted(i * 8000 + 100 for i in range(READS))
CLONE_THREAD = 0x10000


def fs_type(path):
    best, kind = "", ""
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, kind = mnt, parts[2]
    return kind


def tracefs_ok():
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.path.isdir(os.path.join(d, "events", "syscalls")):
            return d
    if subprocess.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"],
                      capture_output=True).returncode == 0:
        return "/sys/kernel/tracing"
    return None


def main():
    need_bpf()
    tfs = tracefs_ok()
    if not tfs:
        skip("tracefs is not available")
    for ev in ("task/task_newtask", "sched/sched_process_exit", "sched/sched_process_fork"):
        if not os.path.isdir(os.path.join(tfs, "events", ev)):
            skip("this kernel has no %s tracepoint" % ev)
    work = tmpdir()
    data = os.path.join(work, "data")
    os.mkdir(data)
    ext4 = fs_type(data) == "ext4"
    if not ext4:
        print("note: %s is not on ext4: the ext4 pair is left out" % data)
    ext4_entry = """
      - name: ext4:ext4_sync_file_enter
        exit: ext4:ext4_sync_file_exit
        args: {ino: ino, datasync: datasync}""" if ext4 else ""
    cfg = os.path.join(work, "kern.yaml")
    with open(cfg, "w") as f:
        f.write("""module: kern
probes:
  - kind: tracepoint
    cat: KERNEL
    functions:
      - name: sched:sched_process_fork
        args: {parent: parent_pid, child: child_pid}
      - name: sched:sched_process_exec
        args: {path: filename, pid: pid}
      - name: syscalls:sys_enter_openat
        exit: syscalls:sys_exit_openat
        args: {dirfd: dfd, path: filename}
        ret: fd
      - name: syscalls:sys_enter_pread64
        exit: syscalls:sys_exit_pread64
        args: {fd: fd, size: count, offset: pos}
      - name: task:task_newtask
        exit: sched:sched_process_exit
        as: task_life
        key: [pid]
        args: {task: pid, flags: clone_flags, dead: group_dead}%s
    match: '^syscalls:sys_enter_fsync$'
""" % ext4_entry)
    obj = generate([cfg], os.path.join(work, "kern.bpf.o"))
    true = shutil.which("true")
    launcher = ("import os, subprocess, sys; subprocess.run([sys.argv[1]]); "
                "os.execv(sys.argv[2], sys.argv[2:])")
    status, out, err = run([RUN, "-o", work, obj, "--", sys.executable, "-c", launcher,
                            true, WORKLOAD, data])
    check(status == 7, "exit status %d is not the workload's 7: %s" % (status, err))
    units = [json.loads(line) for line in out.splitlines()]
    main_pid = next(u["pid"] for u in units if u["role"] == "main")
    child = next(u for u in units if u["role"] == "child")
    threads = [u for u in units if u["role"].startswith("thread")]
    events = only_trace(work)
    xs = calls(events)
    points = [e for e in events if e["ph"] == "i"]
    fh = metadata(events, "FH")
    check(all(e["cat"] == "KERNEL" for e in xs + points), "categories")

    # Process and thread creation, as points with their fields.
    execs = [e for e in points if e["name"] == "sched_process_exec"]
    by_name = {fh.get(e["args"].get("fhash")): e for e in execs}
    check(true in by_name, "no exec of %s among %s" % (true, sorted(filter(None, by_name))))
    check(WORKLOAD in by_name and by_name[WORKLOAD]["pid"] == main_pid and
          by_name[WORKLOAD]["args"]["pid"] == main_pid, "exec of the workload: %s" % execs)
    true_pid = by_name[true]["pid"]
    forks = [e for e in points if e["name"] == "sched_process_fork"]
    want = {(main_pid, true_pid), (main_pid, child["pid"])} | \
        {(main_pid, t["tid"]) for t in threads}
    got = {(e["args"]["parent"], e["args"]["child"]) for e in forks if e["pid"] == main_pid}
    # A sanitizer's leak check at exit runs in a task of its own.
    with open(WORKLOAD, "rb") as f:
        helpers = 1 if b"__asan_init" in f.read() else 0
    check(want <= got and len(got - want) <= helpers, "forks %s, want %s" %
          (sorted(got), sorted(want)))
    want = got
    check(all(e["pid"] == main_pid for e in forks), "forks by other processes: %s" % forks)

    # A keyed pair: begun by the creator, ended by the task itself.
    lives = [e for e in xs if e["name"] == "task_life"]
    tasks = {e["args"]["task"]: e for e in lives}
    check(len(lives) == len(tasks) == len(want), "task_life events: %s" % lives)
    check(set(tasks) == {c for _, c in want}, "task_life tasks %s" % sorted(tasks))
    for t in threads:
        e = tasks[t["tid"]]
        check(e["args"]["flags"] & CLONE_THREAD and e["args"]["dead"] == 0,
              "thread %d: %s" % (t["tid"], e))
    for pid in (child["pid"], true_pid):
        e = tasks[pid]
        check(not e["args"]["flags"] & CLONE_THREAD and e["args"]["dead"] == 1,
              "process %d: %s" % (pid, e))
    check(all(e["pid"] == main_pid and e["dur"] >= 0 for e in lives), "task_life creators")

    for u in units:
        mine = [e for e in xs if e["tid"] == u["tid"]]
        fsyncs = [e for e in mine if e["name"] == "fsync"]
        check(len(fsyncs) == 1 and fsyncs[0]["args"]["ret"] == 0 and
              fsyncs[0]["pid"] == u["pid"], "%s: fsync %s" % (u["role"], fsyncs))
        fhash = [h for h, n in fh.items() if n == u["file"]]
        check(len(fhash) == 1, "%s: FH for %s: %s" % (u["role"], u["file"], fhash))
        opens = [e for e in mine if e["name"] == "openat" and e["args"].get("fhash") == fhash[0]]
        check(len(opens) == 1 and opens[0]["args"]["dirfd"] == -100 and
              opens[0]["args"]["ret"] >= 3, "%s: openat %s" % (u["role"], opens))
        preads = [e for e in mine if e["name"] == "pread64" and
                  e["args"].get("fhash") == fhash[0]]
        check(sorted(e["args"]["offset"] for e in preads) == OFFSETS,
              "%s: pread64 offsets %s" % (u["role"], [e["args"]["offset"] for e in preads]))
        check(all(e["args"]["size"] == 512 and e["args"]["ret"] == 512 and
                  e["args"]["fd"] == opens[0]["args"]["ret"] for e in preads),
              "%s: pread64 args" % u["role"])
        if not ext4:
            continue
        syncs = [e for e in mine if e["name"] == "ext4_sync_file"]
        ino = os.stat(u["file"]).st_ino
        check(len(syncs) == 1 and syncs[0]["args"]["ino"] == ino and
              syncs[0]["args"]["ret"] == 0 and syncs[0]["args"]["datasync"] == 0,
              "%s: ext4_sync_file %s, inode %d" % (u["role"], syncs, ino))
        s, f = syncs[0], fsyncs[0]
        check(s["args"]["level"] == f["args"]["level"] + 1 and f["ts"] <= s["ts"] and
              s["ts"] + s["dur"] <= f["ts"] + f["dur"], "%s: nesting %s in %s" % (u["role"], s, f))
    end = [e for e in events if e["name"] == "end"]
    check(end[0]["args"]["num_events"] == len(xs) + len(points), "end record %s" % end)
    check(end[0]["args"]["dropped_events"] == 0, "events were dropped")
    print("ok: %d spans, %d points%s" % (len(xs), len(points), "" if ext4 else " (no ext4)"))


if __name__ == "__main__":
    main()
