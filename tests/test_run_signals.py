#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-run stopped during heavy tracing. SIGTERM or SIGINT: a whole
trace ending with the end record and "]", whose counts match the terminal.
SIGKILL: a file readable member by member up to its last member. A second
SIGINT while the trace is finished: an exit at once, with a file that ends
on a whole member."""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (LOOP, RUN, calls, check, loop_config, member_events, need_bpf,  # noqa: E402
                    read_members, read_trace, stopped_backlog, summary_figures, tmpdir)

FOREVER = "1000000000"


def trace_path(out):
    names = [n for n in os.listdir(out) if n.endswith(".pfw.gz")]
    check(len(names) == 1, "expected one trace in %s: %s" % (out, names))
    return os.path.join(out, names[0])


def wait_trace(out, members, timeout=30):
    """Waits until the trace in @out holds @members whole gzip members."""
    end = time.time() + timeout
    while time.time() < end:
        names = [n for n in os.listdir(out) if n.endswith(".pfw.gz")]
        if names and len(read_members(os.path.join(out, names[0]))[0]) >= members:
            return os.path.join(out, names[0])
        time.sleep(0.2)
    check(False, "the trace never reached %d members" % members)


def gone(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def stop_mid_run(obj, work, sig):
    out = os.path.join(work, "stop-%d" % sig)
    os.mkdir(out)
    p = subprocess.Popen([RUN, "-o", out, obj, "--", LOOP, "-n", FOREVER],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The start record, then what the first second traced.
        path = wait_trace(out, 2)
        os.kill(p.pid, sig)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 128 + sig, "signal %d: exit %d, want %d: %s" %
          (sig, p.returncode, 128 + sig, err))
    events = read_trace(path)  # "[" first, "]" last, every line JSON
    end = events[-1]
    check(end["name"] == "end", "signal %d: the last record is not end: %s" % (sig, end))
    n = len(calls(events))
    check(n > 0 and end["args"]["num_events"] == n,
          "signal %d: num_events %d, the trace has %d" % (sig, end["args"]["num_events"], n))
    check(end["args"]["emitted_events"] == n + end["args"]["dropped_events"],
          "signal %d: emitted %d != %d written + %d dropped" %
          (sig, end["args"]["emitted_events"], n, end["args"]["dropped_events"]))
    figures = summary_figures(err)
    check(figures == (n, end["args"]["dropped_events"], os.path.getsize(path), path),
          "signal %d: summary %s, trace %d events %d bytes" % (sig, figures, n,
                                                             os.path.getsize(path)))
    pid = int(re.search(r"-(\d+)\.pfw\.gz$", path).group(1))
    check(gone(pid), "signal %d: the traced command %d outlived the run" % (sig, pid))
    return n


def sigkill_at_start(obj, work):
    """Killed before the first second: the start record is a member already."""
    out = os.path.join(work, "kill0")
    os.mkdir(out)
    p = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", LOOP, "-w"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        check(p.stdout.readline() == "ready\n", "the workload did not start")
        path = trace_path(out)
        # The writing thread may still be at it; the timer's flush is a second away.
        end = time.time() + 0.5
        while time.time() < end and not read_members(path)[0]:
            time.sleep(0.01)
        p.kill()
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdin.close()
    members, tail = read_members(path)
    check(len(members) == 1 and tail == b"", "%d members, %d bytes torn" %
          (len(members), len(tail)))
    lines = members[0].splitlines()
    check(len(lines) == 3 and lines[0] == "[", "the first member: %r" % members[0])
    check([json.loads(ln)["name"] for ln in lines[1:]] == ["start", "HH"],
          "the first member: %r" % members[0])


def sigkill(obj, work):
    out = os.path.join(work, "kill")
    os.mkdir(out)
    p = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", LOOP, "-n", FOREVER],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = None
    try:
        # Members go out when full and every second: wait for a few.
        path = wait_trace(out, 4)
        p.kill()
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        if path:
            os.kill(int(re.search(r"-(\d+)\.pfw\.gz$", path).group(1)), signal.SIGKILL)
    events, members, tail = member_events(path)
    check(len(members) >= 3, "only %d whole members" % len(members))
    check(not events or events[-1]["name"] != "end", "a killed run wrote its end record")
    n = len(calls(events))
    check(n > 0 and all(e["name"] == "lseek" for e in calls(events)),
          "%d calls, or calls other than lseek" % n)
    return n, len(members), len(tail)


def second_sigint(obj, work):
    """A backlog of a second of calls in a stopped runtime (up to 1.4 M
    records): the first SIGINT starts finishing it, the second comes while
    it is being written, which takes a quarter of the time it took to make."""
    out = os.path.join(work, "twice")
    os.mkdir(out)
    p, made = stopped_backlog([RUN, "-v", "--ring-size", "128", "-o", out, obj, "--", LOOP,
                               "-w", "-n", FOREVER, "-s", "1"])
    try:
        os.kill(p.pid, signal.SIGINT)
        os.kill(p.pid, signal.SIGCONT)
        lines = []
        for line in p.stderr:
            lines.append(line)
            if "finishing the trace" in line:
                break
        t0 = time.time()
        os.kill(p.pid, signal.SIGINT)
        p.wait(timeout=30)
        took = time.time() - t0
        # To its end: the traced command, which holds it too, must be gone.
        err = "".join(lines) + p.communicate(timeout=30)[1]
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 130, "exit %d, want 130: %s" % (p.returncode, err))
    # Generous: exiting waits for the kernel to let go of the probes and the ring.
    check(took < 15, "took %.1f s to stop after the second SIGINT" % took)
    check("stopped at once" in err, "no word of stopping at once: %r" % err)
    check(not re.search(r"^datacrumbs-run: \d+ events", err, re.M),
          "a summary after stopping at once: %r" % err)
    path = trace_path(out)
    events, members, tail = member_events(path)
    check(tail == b"", "the file ends in %d bytes of a torn member" % len(tail))
    check(not events or events[-1]["name"] != "end", "the end record was written")
    n = len(calls(events))
    check(n < made, "all %d calls were written: the second SIGINT came too late" % n)
    return n, len(members)


def main():
    need_bpf()
    work = tmpdir()
    obj = loop_config(work)
    for sig in (signal.SIGTERM, signal.SIGINT):
        n = stop_mid_run(obj, work, sig)
        print("ok: signal %d: %d events, then end and ]" % (sig, n))
    sigkill_at_start(obj, work)
    print("ok: SIGKILL at once: the start record is a whole member")
    n, m, tail = sigkill(obj, work)
    print("ok: SIGKILL: %d events in %d whole members (%d bytes of a torn one)" % (n, m, tail))
    n, m = second_sigint(obj, work)
    print("ok: second SIGINT: %d events in %d whole members, nothing torn" % (n, m))


if __name__ == "__main__":
    main()
