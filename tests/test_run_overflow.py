#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A ring buffer forced to overflow: with the runtime stopped, a workload
makes an exact number of calls through a 1 MiB ring, far more than it holds.
Every call must be either in the trace or counted as dropped, in the end
record and on the terminal alike."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (LOOP, RUN, calls, check, loop_config, member_events, need_bpf,  # noqa: E402
                    only_trace, stopped_backlog, summary_figures, tmpdir)

CALLS = 40000  # 96 ring bytes each (88 and a header): 3.7 times what 1 MiB holds


def main():
    need_bpf()
    work = tmpdir()
    obj = loop_config(work)
    out = os.path.join(work, "out")
    os.mkdir(out)
    p, made = stopped_backlog([RUN, "--ring-size", "1", "-o", out, obj, "--", LOOP, "-w", "-n",
                               str(CALLS)])
    try:
        os.kill(p.pid, signal.SIGCONT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 0, "run failed (%d): %s" % (p.returncode, err))
    check(made == CALLS, "the workload made %d calls, not %d" % (made, CALLS))
    events = only_trace(out)
    end = events[-1]
    check(end["name"] == "end", "the last record is not end: %s" % end)
    lseeks = [e for e in calls(events) if e["name"] == "lseek"]
    check(len(lseeks) == len(calls(events)), "calls other than lseek in the trace")
    dropped = end["args"]["dropped_events"]
    check(dropped > 0, "nothing was dropped: the ring did not overflow")
    check(len(lseeks) + dropped == CALLS,
          "%d written + %d dropped != %d calls made" % (len(lseeks), dropped, CALLS))
    check(end["args"]["emitted_events"] == CALLS,
          "emitted_events %d, want %d" % (end["args"]["emitted_events"], CALLS))
    check(end["args"]["num_events"] == len(lseeks),
          "num_events %d, the trace has %d" % (end["args"]["num_events"], len(lseeks)))
    # The ring held what fits in 1 MiB at the most.
    check(len(lseeks) <= (1 << 20) // 96, "more written than the ring holds: %d" % len(lseeks))
    got_events, got_dropped, nbytes, path = summary_figures(err)
    check((got_events, got_dropped) == (len(lseeks), dropped),
          "summary says %d events, %d dropped; the trace %d, %d" %
          (got_events, got_dropped, len(lseeks), dropped))
    check(nbytes == os.path.getsize(path), "summary bytes %d, file %d" %
          (nbytes, os.path.getsize(path)))
    check("%d events were dropped" % dropped in err, "no drop warning: %r" % err)
    # Read member by member too: the ids are consecutive, nothing is torn.
    got, members, tail = member_events(path)
    check(len(got) == len(events) and tail == b"", "member-wise read differs")
    print("ok: %d written + %d dropped = %d calls" % (len(lseeks), dropped, CALLS))


if __name__ == "__main__":
    main()
