#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-merge on crafted traces: one valid, time-sorted trace with
consistent hashes, metadata once, one start/end pair with summed counts,
the same report as its inputs, and the same output however little memory
it sorts in."""
import gzip
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (MERGE, check, chrome_rules, read_trace, report_json, run,  # noqa: E402
                    tmpdir, write_pfw)

T0 = 1_700_000_000_000_000


def rank_trace(path, rank, host, hhash, files, n, seed):
    """A trace as one rank's runtime writes it: calls listed as they end, a
    start and end record, metadata for its host, process and files."""
    rnd = random.Random(seed)
    pid = 100 + rank
    lines = [{"id": 0, "name": "start", "cat": "dftracer", "pid": pid, "tid": pid, "ts": T0 + rank,
              "dur": 0, "ph": "M", "args": {"tool": "datacrumbs"}},
             {"id": 1, "name": "HH", "cat": "dftracer", "pid": pid, "tid": pid, "ph": "M",
              "args": {"name": host, "value": hhash}},
             {"id": 2, "name": "process_name", "cat": "dftracer", "pid": pid, "tid": pid, "ph": "M",
              "args": {"name": "app"}},
             {"id": 3, "name": "PR", "cat": "dftracer", "pid": pid, "tid": pid, "ph": "M",
              "args": {"name": "rank", "value": rank}}]
    for name, value in files:
        lines.append({"id": len(lines), "name": "FH", "cat": "dftracer", "pid": pid, "tid": pid,
                      "ph": "M", "args": {"name": name, "value": value}})
    t = T0 + 1000
    for i in range(n):
        name, value = files[i % len(files)]
        d = rnd.randrange(1, 50)
        inner = {"id": 0, "name": "write", "cat": "SYSCALL", "pid": pid, "tid": pid, "ts": t + 1,
                 "dur": d, "ph": "X", "args": {"hhash": hhash, "fhash": value, "fd": 3 + i % len(files),
                                               "size": 512, "ret": 512, "level": 1, "file": name}}
        outer = dict(inner, name="write", cat="POSIX", ts=t, dur=d + 2,
                     args=dict(inner["args"], level=0))
        lines += [inner, outer]
        if i % 10 == 0:
            lines.append({"name": "write", "cat": "POSIX", "pid": pid, "tid": pid, "ts": t, "ph": "C",
                          "args": {"count": 10, "time": 100, "size": 5120}})
        t += d + 3 + rnd.randrange(0, 5)
    for k, v in enumerate(lines):
        if "id" in v:
            v["id"] = k
    lines.append({"id": len(lines), "name": "end", "cat": "dftracer", "pid": pid, "tid": pid, "ts": t,
                  "dur": 0, "ph": "M", "args": {"num_events": 2 * n, "dropped_events": rank}})
    write_pfw(path, lines, per_member=50)


def check_merged(path, inputs):
    events = read_trace(path)
    chrome_rules(events, path)
    starts = [e for e in events if e["name"] == "start"]
    ends = [e for e in events if e["name"] == "end"]
    check(len(starts) == 1 and events[0] is starts[0], "start records: %s" % starts)
    check(len(ends) == 1 and events[-1] is ends[0], "end records: %s" % ends)
    ins = [read_trace(p) for p in inputs]
    in_ends = [e for ev in ins for e in ev if e["name"] == "end"]
    for key in ("num_events", "dropped_events"):
        check(ends[0]["args"][key] == sum(e["args"][key] for e in in_ends), "end %s not summed" % key)
    check(starts[0]["ts"] == min(e["ts"] for ev in ins for e in ev if e["name"] == "start"), "start ts")
    body = [e for e in events[1:-1]]
    ids = [e["id"] for e in events if "id" in e]
    check(ids == list(range(len(ids))), "ids are not 0..n-1 in order")
    timed = [e for e in body if e["ph"] != "M"]
    check(all(a["ts"] <= b["ts"] for a, b in zip(timed, timed[1:])), "events are not sorted by ts")
    check(all(e["ph"] == "M" for e in body[:len(body) - len(timed)]), "metadata is not first")
    n_in = sum(1 for ev in ins for e in ev if e["ph"] != "M")
    check(len(timed) == n_in, "%d events out, %d in" % (len(timed), n_in))
    check(ends[0]["args"]["merged_events"] == len(timed), "merged_events")
    lines = [json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True)
             for e in body if e["ph"] == "M"]
    check(len(lines) == len(set(lines)), "duplicate metadata lines")
    fh = {}
    for e in body:
        if e["name"] == "FH":
            check(e["args"]["value"] not in fh, "hash %s named twice" % e["args"]["value"])
            fh[e["args"]["value"]] = e["args"]["name"]
    names = set(fh.values())
    check(len(names) == len(fh), "a file has two hashes: %s" % fh)
    for e in timed:
        if e["ph"] == "X":
            check(fh.get(e["args"]["fhash"]) == e["args"]["file"],
                  "event of %s has fhash %s, which names %s" %
                  (e["args"]["file"], e["args"]["fhash"], fh.get(e["args"]["fhash"])))
    return events


def same_report(merged, inputs):
    for by in ("function", "file", "rank", "process", "layer"):
        a, _ = report_json(inputs, "--by", by, "-n", "0")
        b, _ = report_json([merged], "--by", by, "-n", "0")
        check(a["groups"] == b["groups"], "--by %s differs after merging" % by)
        check(a["layers"] == b["layers"] and a["wall_us"] == b["wall_us"],
              "layers or wall time differ after merging")
        check(a["events"]["calls"] == b["events"]["calls"] and
              a["events"]["counters"] == b["events"]["counters"], "event counts differ")


def main():
    work = tmpdir()
    inputs = []
    # Ranks 0 and 1 share a node; rank 2 is on another node whose trace uses
    # the hash of one of node1's files for a different file, and rank 1 names
    # a shared file like rank 0 does.
    spec = [(0, "node1", "00000000000000a1", [("/scratch/shared.h5", "1111111111111111"),
                                                ("/scratch/r0.dat", "2222222222222222")]),
            (1, "node1", "00000000000000a1", [("/scratch/shared.h5", "1111111111111111"),
                                                ("/scratch/r1.dat", "3333333333333333")]),
            (2, "node2", "00000000000000a2", [("/scratch/r2.dat", "2222222222222222"),
                                                ("/scratch/shared.h5", "1111111111111111")])]
    for rank, host, hh, files in spec:
        path = os.path.join(work, "rank%d.pfw.gz" % rank)
        rank_trace(path, rank, host, hh, files, 3000, rank)
        inputs.append(path)
    out = os.path.join(work, "merged.pfw.gz")
    status, text, err = run([MERGE, "-o", out, *inputs])
    check(status == 0 and err == "", "merge failed (%d): %s" % (status, err))
    events = check_merged(out, inputs)
    fh = {e["args"]["name"]: e["args"]["value"] for e in events if e["name"] == "FH"}
    check(fh["/scratch/r0.dat"] == "2222222222222222" and fh["/scratch/r2.dat"] != "2222222222222222",
          "the colliding hash was not renumbered in the later trace: %s" % fh)
    hh = [e for e in events if e["name"] == "HH"]
    check(sorted(e["args"]["name"] for e in hh) == ["node1", "node2"], "HH lines %s" % hh)
    same_report(out, inputs)
    print("ok: merged %d events from %d traces" % (len(events), len(inputs)))

    # Sorting in 1 MiB runs spills many runs and merges them in rounds; the
    # result must be the very same trace.
    big = []
    for rank in range(3, 6):
        path = os.path.join(work, "big%d.pfw.gz" % rank)
        rank_trace(path, rank, "node3", "00000000000000a3",
                   [("/scratch/big%d.dat" % rank, "%016x" % (0xb000 + rank))], 40000, rank)
        big.append(path)
    outs = []
    for mem in ("256", "1"):
        o = os.path.join(work, "big-%s.pfw.gz" % mem)
        status, text, err = run([MERGE, "--mem", mem, "-o", o, *big])
        check(status == 0, "merge --mem %s failed: %s" % (mem, err))
        with gzip.open(o, "rb") as f:
            outs.append(f.read())
    check(outs[0] == outs[1], "--mem 1 gives a different trace")
    check(len(outs[0]) > 17 * (1 << 20), "too little data to need several rounds of runs")
    check_merged(os.path.join(work, "big-1.pfw.gz"), big)
    print("ok: --mem 1 output identical (%d MiB uncompressed)" % (len(outs[0]) >> 20))

    # Lines of almost 1 MiB, the longest a reader takes, in a 1 MiB budget.
    long_trace = os.path.join(work, "long.pfw.gz")
    write_pfw(long_trace, [{"name": "w", "cat": "POSIX", "pid": 1, "tid": 1, "ts": T0 + 3 - i, "dur": 1,
                            "ph": "X", "args": {"note": "n" * 1_000_000}} for i in range(3)])
    o = os.path.join(work, "long-merged.pfw.gz")
    status, text, err = run([MERGE, "--mem", "1", "-o", o, long_trace])
    check(status == 0, "merge of long lines: " + err)
    got = [e for e in read_trace(o) if e["ph"] == "X"]
    check([e["ts"] for e in got] == [T0 + 1, T0 + 2, T0 + 3] and
          all(len(e["args"]["note"]) == 1_000_000 for e in got), "long lines not merged intact")

    # A truncated input: its complete lines are merged, with a warning.
    cut = os.path.join(work, "cut.pfw.gz")
    with open(inputs[0], "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 200])
    o = os.path.join(work, "cut-merged.pfw.gz")
    status, text, err = run([MERGE, "-o", o, cut, inputs[1]])
    check(status == 0 and "truncated" in err, "truncated input: %d %s" % (status, err))
    read_trace(o)

    # Errors: one line, no output left behind.
    status, text, err = run([MERGE, "-o", out, *inputs])
    check(status == 1 and "exists" in err and len(err.splitlines()) == 1, "existing output: %s" % err)
    status, text, err = run([MERGE, "--force", "-o", out, *inputs])
    check(status == 0, "--force: " + err)
    o = os.path.join(work, "never.pfw.gz")
    bad = os.path.join(work, "notes.txt")
    with open(bad, "w") as f:
        f.write("not a trace\n")
    for argv, words in (([inputs[0], os.path.join(work, "missing.pfw.gz")], "No such file"),
                        ([inputs[0], bad], "not a DFTracer trace")):
        status, text, err = run([MERGE, "-o", o, *argv])
        check(status == 1 and words in err and len(err.splitlines()) == 1 and
              err.startswith("datacrumbs-merge: "), "%s: %d %r" % (argv, status, err))
        check(not os.path.exists(o), "a failed merge left %s" % o)
    check(not [n for n in os.listdir(work) if n.startswith((".datacrumbs-merge", "never"))],
          "temporary files left: %s" % os.listdir(work))
    for argv, words in ((["-o", o], "no trace given"), ([inputs[0]], "no output given"),
                        (["--mem", "0", "-o", o, inputs[0]], "--mem")):
        status, text, err = run([MERGE, *argv])
        check(status == 2 and words in err and len(err.splitlines()) == 1, "%s: %d %r" % (argv, status, err))
    print("ok: errors")


if __name__ == "__main__":
    main()
