#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mpirun under one runtime: datacrumbs-run OBJ -- mpirun -np 4 PROG traces
all four local ranks, each with its own exact I/O (see rank_workload.c)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import RUN, check, check_ranks, need_mpirun, only_trace, run, traced_setup  # noqa: E402

RANKS = 4


def main():
    prog, mpirun = need_mpirun("DC_MPI_RANK_WORKLOAD", "libopenmpi-dev")
    work, obj, data, out = traced_setup("data", "out")
    status, text, err = run([RUN, "-o", out, obj, "--", mpirun, "--allow-run-as-root",
                             "--oversubscribe", "-np", str(RANKS), prog, data], timeout=150)
    check(status == 0, "mpirun under datacrumbs-run failed (%d): %s" % (status, err))
    units = sorted((json.loads(line) for line in text.splitlines()), key=lambda u: u["rank"])
    check([u["rank"] for u in units] == list(range(RANKS)), "ranks reported: %s" % text)
    check(len({u["pid"] for u in units}) == RANKS, "ranks share a pid: %s" % text)
    events = only_trace(out)
    check_ranks(events, units)
    # The ranks descend from mpirun, which descends from the runtime's child.
    parent = {e["pid"]: e["args"]["value"] for e in events
              if e["name"] == "PR" and e["args"]["name"] == "ppid"}
    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1 and end[0]["args"]["dropped_events"] == 0, "end record %s" % end)
    for u in units:
        check(u["pid"] in parent, "rank %d (pid %d) has no ppid record" % (u["rank"], u["pid"]))
    print("ok: %d ranks, %d events" % (RANKS, len(events)))


if __name__ == "__main__":
    main()
