#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Profile mode end to end: the workload traced call by call and profiled
gives the same calls and bytes per process, thread, function and file, in
the trace and in the report; the counter events follow DFTracer's and
Perfetto's rules; intervals split I/O done in two phases; a full
aggregation map is counted; SIGTERM flushes what is left; and sums leave
the kernel's map once their interval has been written."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, bytes_moved, calls, check, chrome_rules,  # noqa: E402
                    generate, generate_posix_sys, metadata, only_trace, read_trace,
                    report_json, run, tmpdir, trace_workload)

INTERVAL_US = 100000


def counters(events):
    return [e for e in events if e["ph"] == "C"]


def ns(v):
    """A counter's time (us with three decimals) in whole ns."""
    return round(v * 1000)


def role_of(units):
    return {(u["pid"], u["tid"]): u["role"] for u in units}


def totals(events, units, run_dir):
    """{(role, cat, name, file): [count, bytes]} over X or C events. Files in
    @run_dir are named relative to it and ids in /proc paths are replaced, so
    runs compare (LeakSanitizer's helper process reads /proc/PID/task/...)."""
    fh, roles, out = metadata(events, "FH"), role_of(units), {}
    for e in events:
        if e["ph"] == "X":
            n, b, h = 1, bytes_moved(e["args"]), e["args"].get("fhash")
        elif e["ph"] == "C":
            n, b, h = e["args"]["count"], e["args"]["bytes"], e.get("fhash")
        else:
            continue
        check(h is None or h in fh, "no FH for %s" % e)
        name = fh.get(h)
        if name and name.startswith(run_dir + "/"):
            name = os.path.relpath(name, run_dir)
        elif name:
            name = re.sub(r"/(proc|task)/[0-9]+", r"/\1/N", name)
        key = (roles.get((e["pid"], e["tid"]), "other"), e["cat"], e["name"], name)
        t = out.setdefault(key, [0, 0])
        t[0] += n
        t[1] += b
    return out


def is_proc(name):
    return name is not None and name.startswith("/proc/")


def proc_bytes(totals, group):
    """Bytes of /proc files in @totals for the report's function @group."""
    return sum(t[1] for k, t in totals.items()
               if (k[1], k[2]) == (group["layer"], group["name"]) and is_proc(k[3]))


def end_record(events):
    ends = [e for e in events if e["name"] == "end"]
    check(len(ends) == 1 and events[-1] is ends[0], "end records: %s" % ends)
    return ends[0]["args"]


def check_counters(events, where, interval_us=INTERVAL_US):
    """The rules every counter of a profile trace keeps; returns the counters."""
    chrome_rules(events, where)
    cs = counters(events)
    check(cs and not calls(events), "%s: %d counters, %d calls" % (where, len(cs), len(calls(events))))
    hh = metadata(events, "HH")
    start = next(e for e in events if e["name"] == "start")
    seen = set()
    for e in cs:
        a = e["args"]
        check(set(a) == {"count", "time", "bytes", "min", "max"}, "%s: args %s" % (where, a))
        check(e["hhash"] in hh and "hhash" not in a, "%s: host hash %s" % (where, e))
        check(e["ts"] % interval_us == 0, "%s: ts %d is not on an interval" % (where, e["ts"]))
        check(start["ts"] - interval_us < e["ts"] <= end_ts(events), "%s: ts %s" % (where, e))
        check(a["count"] >= 1 and ns(a["min"]) * a["count"] <= ns(a["time"]) <=
              ns(a["max"]) * a["count"], "%s: min <= mean <= max fails: %s" % (where, a))
        # Each sum is written once: the runtime deletes what it wrote.
        key = (e["pid"], e["tid"], e["cat"], e["name"], e.get("fhash"), e["ts"])
        check(key not in seen, "%s: %s written twice" % (where, key))
        seen.add(key)
    end = end_record(events)
    check(end["num_events"] == len(cs), "%s: num_events %s for %d counters" %
          (where, end["num_events"], len(cs)))
    check(sum(e["args"]["count"] for e in cs) + end["dropped_profile_calls"] ==
          end["emitted_events"], "%s: counts %d + dropped %d != calls %d" %
          (where, sum(e["args"]["count"] for e in cs), end["dropped_profile_calls"],
           end["emitted_events"]))
    return cs


def end_ts(events):
    return next(e for e in events if e["name"] == "end")["ts"]


def test_same_as_trace(work):
    """Same workload, both modes: equal calls and bytes per thread, function
    and file; consistent times; the report agrees too."""
    # Directories of one length: the workload writes its file names to stdout.
    for d in "tp":
        os.mkdir(os.path.join(work, d))
    traced, tunits = trace_workload(os.path.join(work, "t"))
    profiled, punits = trace_workload(os.path.join(work, "p"), extra=["--profile=100ms"])
    tev, pev = read_trace(traced[0]), read_trace(profiled[0])
    check_counters(pev, "profile")
    check(end_record(pev)["dropped_profile_calls"] == 0, "calls dropped: %s" % end_record(pev))
    want = totals(tev, tunits[0], os.path.dirname(traced[0]))
    got = totals(pev, punits[0], os.path.dirname(profiled[0]))
    for k in sorted(set(want) | set(got), key=str):
        w, g = want.get(k, [0, None]), got.get(k, [0, None])
        # What /proc files hold (a sanitizer reads /proc/self/maps) changes between runs.
        if is_proc(k[3]):
            w, g = w[:1], g[:1]
        check(w == g, "%s: traced [calls, bytes] %s, profiled %s" % (k, w, g))
    child = ("child", "POSIX", "write", "data/child.dat")
    check(got.get(child) == [100, 100 * 4096], "child's writes: %s" % got.get(child))

    # Each libc call holds its system call, so per thread and file its total,
    # shortest and longest time are at least the system call's.
    fh = metadata(pev, "FH")
    run_sums = {}
    for e in counters(pev):
        k = (e["pid"], e["tid"], e["cat"], e["name"], fh.get(e.get("fhash")))
        s = run_sums.setdefault(k, [0, None, 0])
        s[0] += ns(e["args"]["time"])
        s[1] = ns(e["args"]["min"]) if s[1] is None else min(s[1], ns(e["args"]["min"]))
        s[2] = max(s[2], ns(e["args"]["max"]))
    for u in punits[0]:
        for libc, sysc in (("write", "write"), ("pread", "pread64"), ("fsync", "fsync")):
            lc = run_sums[(u["pid"], u["tid"], "POSIX", libc, u["file"])]
            sc = run_sums[(u["pid"], u["tid"], "SYSCALL", sysc, u["file"])]
            check(all(a >= b for a, b in zip(lc, sc)) and sc[1] > 0,
                  "%s %s: libc [total, min, max] ns %s below the system call's %s" %
                  (u["role"], libc, lc, sc))

    tdoc, _ = report_json(traced, "--by", "function", "-n", "0")
    pdoc, _ = report_json(profiled, "--by", "function", "-n", "0")
    tg = {(g["layer"], g["name"]): (g["count"], g["bytes"] - proc_bytes(want, g))
          for g in tdoc["groups"]}
    pg = {(g["layer"], g["name"]): (g["count"], g["bytes"] - proc_bytes(got, g))
          for g in pdoc["groups"]}
    check(tg == pg, "report per function: traced %s, profiled %s" % (tg, pg))
    check(all(g["profiled_count"] == g["count"] for g in pdoc["groups"]),
          "report: calls not from counters: %s" % pdoc["groups"])
    fdoc, _ = report_json(profiled, "--by", "file", "-n", "0")
    files = {g["name"]: g["count"] for g in fdoc["groups"]}
    for u in punits[0]:
        check(files.get(u["file"]) == 2 * (1 + 100 + 50 + 1 + 1),
              "report by file, %s: %s" % (u["file"], files.get(u["file"])))


# A point event, and a pair ended by the task created (keyed by its pid).
POINTS = """module: points
probes:
  - kind: tracepoint
    cat: TASK
    functions:
      - {name: "sched:sched_process_fork", args: {child: child_pid}}
      - {name: "task:task_newtask", exit: "sched:sched_process_exit", as: task_life,
         key: [pid], args: {task: pid}}
"""


def test_points_and_keyed_pairs(work):
    """Point events count as calls of no time; keyed pairs (ended by another
    task) count for the task that began them: as many as trace mode sees."""
    for ev in ("task/task_newtask", "sched/sched_process_exit", "sched/sched_process_fork"):
        if not os.path.isdir(os.path.join("/sys/kernel/tracing/events", ev)):
            print("note: no %s tracepoint here; points and keyed pairs not checked" % ev)
            return
    cfg = os.path.join(work, "points.yaml")
    with open(cfg, "w") as f:
        f.write(POINTS)
    obj = generate([cfg], os.path.join(work, "points.bpf.o"))
    got = {}
    for mode in ("trace", "profile"):
        # One name length for both, as the workload prints its paths.
        out = os.path.join(work, "k" + mode[0])
        os.mkdir(out)
        status, text, err = run([RUN, "-q", "-o", out] + (["--profile=100ms"] if
                                mode == "profile" else []) + [obj, "--", WORKLOAD,
                                os.path.join(out, "data")], timeout=120)
        check(status == 7, "%s run failed (%d): %s" % (mode, status, err))
        events = only_trace(out)
        roles = role_of([json.loads(line) for line in text.splitlines()])
        n = got.setdefault(mode, {})
        for e in events:
            if e["ph"] in "XiC":
                k = (roles.get((e["pid"], e["tid"]), "other"), e["name"])
                n[k] = n.get(k, 0) + (e["args"]["count"] if e["ph"] == "C" else 1)
        if mode == "profile":
            cs = check_counters(events, "points")
            forks = [e["args"] for e in cs if e["name"] == "sched_process_fork"]
            check(forks and all(a["time"] == a["min"] == a["max"] == 0 for a in forks),
                  "points took time: %s" % forks)
    check(got["trace"] == got["profile"] and got["trace"].get(("main", "task_life"), 0) >= 4,
          "calls by role and name: traced %s, profiled %s" % (got["trace"], got["profile"]))


PHASES = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
for i in range(10):
    os.write(fd, b"a" * 100)
time.sleep(float(sys.argv[2]))
for i in range(20):
    os.write(fd, b"b" * 300)
os.close(fd)
"""


def test_two_phases(work, obj):
    """I/O, a sleep three intervals long, I/O: two groups of intervals."""
    out = os.path.join(work, "phases")
    os.mkdir(out)
    path = os.path.join(out, "phases.dat")
    status, _, err = run([RUN, "-q", "--profile=100ms", "-o", out, obj, "--", sys.executable,
                          "-c", PHASES, path, "0.35"], timeout=120)
    check(status == 0, "phases run failed (%d): %s" % (status, err))
    events = only_trace(out)
    check_counters(events, "phases")
    fhash = [h for h, n in metadata(events, "FH").items() if n == path]
    check(len(fhash) == 1, "FH for %s: %s" % (path, fhash))
    for cat in ("POSIX", "SYSCALL"):
        ws = sorted((e["ts"], e["args"]["count"], e["args"]["bytes"]) for e in counters(events)
                    if e["name"] == "write" and e["cat"] == cat and e.get("fhash") == fhash[0])
        check(ws, "%s: no writes to %s" % (cat, path))
        # The phases split where the intervals with writes are furthest apart.
        gap = max(range(1, len(ws)), key=lambda i: ws[i][0] - ws[i - 1][0]) if len(ws) > 1 else 0
        first, second = ws[:gap], ws[gap:]
        check(sum(w[1] for w in first) == 10 and sum(w[2] for w in first) == 1000 and
              sum(w[1] for w in second) == 20 and sum(w[2] for w in second) == 6000,
              "%s: writes by interval %s, want 10 x 100 B, then 20 x 300 B" % (cat, ws))
        check(ws[gap][0] - ws[gap - 1][0] >= 2 * INTERVAL_US,
              "%s: phases %d us apart, slept 350 ms" % (cat, ws[gap][0] - ws[gap - 1][0]))


def test_full_map(work):
    """A map with room for 4 sums: what does not fit is counted, not lost."""
    os.mkdir(os.path.join(work, "full"))
    traces, _ = trace_workload(os.path.join(work, "full"), extra=["--profile", "--profile-map=4"])
    events = read_trace(traces[0])
    check_counters(events, "full map", interval_us=1000000)
    end = end_record(events)
    check(end["dropped_profile_calls"] > 0, "nothing dropped with 4 entries: %s" % end)


READY = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
for i in range(7):
    os.write(fd, b"x" * 123)
os.close(fd)
print("ready", flush=True)
time.sleep(60)
"""


def map_entries(pid, name):
    """The entries of the BPF map called @name that process @pid holds open."""
    fds = os.path.join("/proc/%d/fd" % pid)
    for fd in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        status, out, err = run(["bpftool", "-j", "map", "show", "id", info["map_id"].strip()])
        if status == 0 and '"name":"%s"' % name in out:
            status, out, err = run(["bpftool", "-j", "map", "dump", "id", info["map_id"].strip()])
            check(status == 0, "bpftool map dump: %s" % err)
            return out.count('"key"')
    return None


def test_drain_and_sigterm(work, obj):
    """While the command sleeps its sums leave the map; SIGTERM then writes
    a valid trace with every call. With --profile=1m the sums are mostly
    written by the final flush."""
    for interval, us in (("100ms", INTERVAL_US), ("1m", 60000000)):
        out = os.path.join(work, "term" + interval)
        os.mkdir(out)
        path = os.path.join(out, "x.dat")
        p = subprocess.Popen([RUN, "-q", "--profile=" + interval, "-o", out, obj, "--",
                              sys.executable, "-c", READY, path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            check(p.stdout.readline().strip() == "ready", "the command did not start")
            if interval == "100ms" and not shutil.which("bpftool"):
                print("note: bpftool is not installed; the map is not inspected")
            elif interval == "100ms":
                left = None
                for _ in range(50):
                    left = map_entries(p.pid, "dc_prof")
                    if left == 0:
                        break
                    time.sleep(0.1)
                check(left == 0, "%s sums still in the map while the command sleeps" % left)
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 128 + signal.SIGTERM, "exit %d after SIGTERM: %s" % (p.returncode, err))
        events = only_trace(out)
        check_counters(events, "sigterm " + interval, interval_us=us)
        fhash = [h for h, n in metadata(events, "FH").items() if n == path]
        check(len(fhash) == 1, "FH for %s: %s" % (path, fhash))
        for cat in ("POSIX", "SYSCALL"):
            ws = [e["args"] for e in counters(events) if e["name"] == "write" and
                  e["cat"] == cat and e.get("fhash") == fhash[0]]
            check(sum(a["count"] for a in ws) == 7 and sum(a["bytes"] for a in ws) == 7 * 123,
                  "%s %s: writes %s" % (interval, cat, ws))


def test_bad_interval(work, obj):
    for bad in ("0s", "1", "5x", "500us", "2h", "1.5s", "", "-1s", "99999999999999999999s"):
        status, _, err = run([RUN, "--profile=" + bad, "-o", work, obj, "--", "true"])
        lines = err.strip().splitlines()
        check(status == 1 and len(lines) == 1 and "from 1ms to 1h" in lines[0],
              "--profile=%s: exit %d, %r" % (bad, status, err))
    status, _, err = run([RUN, "--profile-map=0", "-o", work, obj, "--", "true"])
    check(status == 1 and "--profile-map" in err, "--profile-map=0: exit %d, %r" % (status, err))
    check(not [n for n in os.listdir(work) if n.endswith(".pfw.gz")], "a trace was left behind")


def main():
    work = tmpdir()
    obj = generate_posix_sys(work)
    test_bad_interval(work, obj)
    test_same_as_trace(work)
    test_two_phases(work, obj)
    test_points_and_keyed_pairs(work)
    test_full_map(work)
    test_drain_and_sigterm(work, obj)
    print("ok: profile mode")


if __name__ == "__main__":
    main()
