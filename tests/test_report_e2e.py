#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-report and datacrumbs-merge on real traces: the workload is
traced twice through generate and run; the report's figures are checked
against the workload's known I/O and against sums computed here from the
events, the merged trace against its inputs, and every trace against the
Chrome trace-event rules Perfetto applies."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (MERGE, REPORT, bytes_moved, calls, check, chrome_rules,  # noqa: E402
                    read_trace, report_json, run, tmpdir, trace_workload)

# Per unit of the workload (see workload.c): open, 100 writes of 4096 B,
# 50 preads of 512 B, fsync, close; POSIX calls and their system calls.
UNIT_CALLS = 2 * (1 + 100 + 50 + 1 + 1)
UNIT_BYTES = 2 * (100 * 4096 + 50 * 512)


def expected_functions(events):
    out = {}
    for e in calls(events):
        g = out.setdefault((e["cat"], e["name"]), [0, 0, 0, []])
        g[0] += 1
        g[1] += e["dur"]
        g[2] += bytes_moved(e["args"])
        g[3].append(e["dur"])
    return out


def expected_split(events):
    """Time of each layer in calls one level down, by brute force: a call's
    caller is the call one level up on its thread that contains it."""
    split = {}
    by_thread = {}
    for e in calls(events):
        by_thread.setdefault((e["args"]["hhash"], e["pid"], e["tid"]), []).append(e)
    for evs in by_thread.values():
        for c in evs:
            lv = c["args"]["level"]
            if lv == 0:
                continue
            up = [p for p in evs if p["args"]["level"] == lv - 1 and p["ts"] <= c["ts"] and
                  c["ts"] + c["dur"] <= p["ts"] + p["dur"] and p is not c]
            # Zero-length neighbours can touch; the caller is the one that started last.
            up.sort(key=lambda p: (p["ts"], -p["dur"]))
            check(up, "no caller for %s" % c)
            key = (up[-1]["cat"], c["cat"])
            split[key] = split.get(key, 0) + c["dur"]
    return split


def check_report(traces, units, events):
    doc, err = report_json(traces, "--by", "function", "-n", "0")
    check(err == "", "warnings on a real trace: " + err)
    want = expected_functions(events)
    got = {(g["layer"], g["name"]): g for g in doc["groups"]}
    check(set(got) == set(want), "functions %s, want %s" % (sorted(got), sorted(want)))
    for key, (count, total, nbytes, durs) in want.items():
        g = got[key]
        check((g["count"], g["total_us"], g["bytes"]) == (count, total, nbytes),
              "%s: %s, want count %d total %d bytes %d" % (key, g, count, total, nbytes))
        durs.sort()
        for p, name in ((0.5, "p50_us"), (0.99, "p99_us")):
            exact = durs[math.ceil(p * len(durs)) - 1]
            check(g[name] == exact if exact < 128 else abs(g[name] - exact) <= exact / 128,
                  "%s %s %d, exact %d" % (key, name, g[name], exact))
    nunits = sum(len(u) for u in units)
    check(got[("POSIX", "pread")]["count"] == 50 * nunits and
          got[("POSIX", "pread")]["bytes"] == 50 * 512 * nunits, "pread %s" % got[("POSIX", "pread")])

    doc, _ = report_json(traces, "--by", "file", "-n", "0")
    files = {g["name"]: g for g in doc["groups"]}
    for u in (u for run_units in units for u in run_units):
        g = files.get(u["file"])
        check(g and g["count"] == UNIT_CALLS and g["bytes"] == UNIT_BYTES,
              "%s: %s, want %d calls and %d bytes" % (u["file"], g, UNIT_CALLS, UNIT_BYTES))

    doc, _ = report_json(traces, "--by", "process", "-n", "0")
    pids = {g["pid"] for g in doc["groups"]}
    check({u["pid"] for run_units in units for u in run_units} <= pids, "processes %s" % pids)

    layers = {l["name"]: l for l in doc["layers"]}
    split = expected_split(events)
    for (up, down), t in split.items():
        check(layers[up]["calls"].get(down) == t, "%s -> %s: %s, want %d" %
              (up, down, layers[up]["calls"], t))
    check(sum(len(l["calls"]) for l in doc["layers"]) == len(split), "extra split entries")
    check(layers["POSIX"]["self_us"] == layers["POSIX"]["total_us"] - split[("POSIX", "SYSCALL")],
          "POSIX self time")
    check(doc["unattributed_us"] == 0, "unattributed time in a complete trace")
    check(doc["events"]["calls"] == len(calls(events)), "call count")
    return doc


def main():
    work = tmpdir()
    traces, units = trace_workload(work, runs=2)
    events = []
    for t in traces:
        ev = read_trace(t)
        chrome_rules(ev, t)
        events += ev
    check_report(traces, units, events)
    print("ok: report matches the workload and the events")

    merged = os.path.join(work, "merged.pfw.gz")
    status, out, err = run([MERGE, "-o", merged, *traces])
    check(status == 0 and err == "", "merge: %d %s" % (status, err))
    mev = read_trace(merged)
    chrome_rules(mev, merged)
    timed = [e for e in mev if e["ph"] != "M"]
    check(all(a["ts"] <= b["ts"] for a, b in zip(timed, timed[1:])), "merged trace not sorted")
    check(len(calls(mev)) == len(calls(events)), "merged calls %d, inputs %d" %
          (len(calls(mev)), len(calls(events))))
    hh = [e for e in mev if e["name"] == "HH"]
    check(len(hh) == 1, "host metadata not merged: %s" % hh)
    for by in ("function", "file", "process", "layer"):
        a, _ = report_json(traces, "--by", by, "-n", "0")
        b, _ = report_json([merged], "--by", by, "-n", "0")
        check(a["groups"] == b["groups"] and a["layers"] == b["layers"],
              "--by %s: the merged trace reports differently" % by)
    check_report([merged], units, mev)
    print("ok: merged trace valid, sorted, and reports the same")

    status, out, err = run([REPORT, *traces])
    check(status == 0 and "By function" in out and "Layers:" in out and "Latency histograms" in out,
          "text report: %s" % out)
    print(out)


if __name__ == "__main__":
    main()
