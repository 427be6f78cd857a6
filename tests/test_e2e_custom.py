#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end, a custom hook (hooks/write_hook.bpf.c) next to a generated
openat probe: the known workload's 5 units each write 100 x 4096 B and
fsync once; the hook's spans and points must say exactly that, on the right
threads, with the files the generated probe tracked."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, generate, metadata, need_bpf,  # noqa: E402
                    only_trace, run, tmpdir)

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    need_bpf()
    work = tmpdir()
    # The hook is named relative to the config, which lives elsewhere.
    os.mkdir(os.path.join(work, "hooks"))
    shutil.copy(os.path.join(HERE, "hooks", "write_hook.bpf.c"), os.path.join(work, "hooks"))
    cfg = os.path.join(work, "custom.yaml")
    with open(cfg, "w") as f:
        f.write("""module: custom
probes:
  - kind: custom
    cat: HOOK
    source: hooks/write_hook.bpf.c
    functions:
      - name: hooked_write
        args: [fd, size]
      - name: hooked_fsync
        args: [fd]
  - kind: syscall
    cat: SYSCALL
    functions: [openat]
""")
    obj = generate([cfg], os.path.join(work, "custom.bpf.o"))
    data = os.path.join(work, "data")
    os.mkdir(data)
    status, out, err = run([RUN, "-o", work, obj, "--", WORKLOAD, data])
    check(status == 7, "exit status %d: %s" % (status, err))
    units = [json.loads(line) for line in out.splitlines()]
    events = only_trace(work)
    fh = metadata(events, "FH")
    spans = calls(events)
    points = [e for e in events if e["ph"] == "i"]
    for u in units:
        fhash = [h for h, n in fh.items() if n == u["file"]]
        check(len(fhash) == 1, "%s: no FH for %s" % (u["role"], u["file"]))
        opens = [e for e in spans if e["name"] == "openat" and
                 e["args"].get("fhash") == fhash[0]]
        check(len(opens) == 1 and opens[0]["tid"] == u["tid"], "%s: openat %s" % (u["role"], opens))
        fd = opens[0]["args"]["ret"]
        writes = [e for e in spans if e["name"] == "hooked_write" and
                  e["args"].get("fhash") == fhash[0]]
        check(len(writes) == 100 and all(
            (e["cat"], e["pid"], e["tid"], e["args"]["fd"], e["args"]["size"], e["args"]["ret"]) ==
            ("HOOK", u["pid"], u["tid"], fd, 4096, 4096) for e in writes),
            "%s: %d hooked writes: %s" % (u["role"], len(writes), writes[:2]))
        syncs = [e for e in points if e["name"] == "hooked_fsync" and e["tid"] == u["tid"]]
        check(len(syncs) == 1 and syncs[0]["args"]["fd"] == fd and
              syncs[0]["args"].get("fhash") == fhash[0], "%s: fsync %s" % (u["role"], syncs))
    print("ok: %d spans, %d points" % (len(spans), len(points)))


if __name__ == "__main__":
    main()
