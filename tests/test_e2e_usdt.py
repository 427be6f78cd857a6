#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end, USDT: a test program with sys/sdt.h probes (see
usdt_workload.c). Its 5 operations are op_start..op_done spans, paired by
match, each holding a step_start..step_done span listed with typed
arguments (int, a negative short, a 64-bit value) and a tick point (an
unsigned char); a last point passes a path, which becomes an FH string."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, calls, check, generate, metadata, need_bpf, only_trace,  # noqa: E402
                    run, skip, tmpdir)

ITER = 5


def main():
    need_bpf()
    prog = os.environ.get("DC_USDT_WORKLOAD")
    if not prog:
        skip("no sys/sdt.h at build time (install systemtap-sdt-dev)")
    work = tmpdir()
    cfg = os.path.join(work, "usdt.yaml")
    with open(cfg, "w") as f:
        f.write("""module: usdt
probes:
  - kind: usdt
    cat: APP
    binary: %s
    functions:
      - name: dcwork:step_start
        exit: dcwork:step_done
        args: {op: 0, k: 1, size: 2}
      - name: dcwork:tick
        args: {op: 0, byte: 1}
      - name: dcwork:file
        args: {path: 0}
    match: '^dcwork:op_'
""" % prog)
    obj = generate([cfg], os.path.join(work, "usdt.bpf.o"))
    marker = os.path.join(work, "named-by-usdt")
    status, out, err = run([RUN, "-o", work, obj, "--", prog, marker])
    check(status == 0, "exit status %d: %s" % (status, err))
    me = json.loads(out)
    events = only_trace(work)
    spans = calls(events)
    points = [e for e in events if e["ph"] == "i"]
    check(all((e["pid"], e["tid"], e["cat"]) == (me["pid"], me["tid"], "APP")
              for e in spans + points), "pid, tid or cat")
    ops = sorted((e for e in spans if e["name"] == "op"), key=lambda e: e["ts"])
    steps = sorted((e for e in spans if e["name"] == "step"), key=lambda e: e["ts"])
    ticks = sorted((e for e in points if e["name"] == "tick"), key=lambda e: e["ts"])
    check(len(ops) == len(steps) == len(ticks) == ITER,
          "%d op, %d step, %d tick" % (len(ops), len(steps), len(ticks)))
    for i in range(ITER):
        op, st, tk = ops[i], steps[i], ticks[i]
        size = 1000 * (i + 1) + (1 << 40)
        check(op["args"]["level"] == 0 and set(op["args"]) == {"hhash", "ret", "level"},
              "op %d: %s" % (i, op))
        check(st["args"]["op"] == i and st["args"]["k"] == -7 * i and
              st["args"]["size"] == size, "step %d args: %s" % (i, st["args"]))
        check(tk["args"]["op"] == i and tk["args"]["byte"] == 200 + i, "tick %d: %s" % (i, tk))
        for inner in (st, tk):
            check(inner["args"]["level"] == 1 and op["ts"] <= inner["ts"] and
                  inner["ts"] + inner.get("dur", 0) <= op["ts"] + op["dur"],
                  "%s %d is not inside op %d" % (inner["name"], i, i))
    files = [e for e in points if e["name"] == "file"]
    fh = metadata(events, "FH")
    check(len(files) == 1 and fh.get(files[0]["args"].get("fhash")) == marker,
          "file point %s, FH %s" % (files, fh))
    print("ok: %d spans, %d points" % (len(spans), len(points)))


if __name__ == "__main__":
    main()
