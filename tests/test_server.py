#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Server mode: datacrumbs-run --server traces only the processes that opt
in through the client library. A workload that preloads it is in the trace
with its threads, forked child and exec'd grandchild and their exact I/O;
the same workload at the same time without it is not; a program linked
with the library is traced from load, not while it has opted out with
datacrumbs_client_stop(), and again after datacrumbs_client_start(). The
server runs on a copy of the library, so no other test's server sees these
processes, nor this one theirs. The pidfile appears once the server is
live and goes with it."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_descend,  # noqa: E402
                    check_end, check_units, metadata, need_bpf, only_trace, start_runtime,
                    stop_runtime, traced_setup)

WRITES, WSIZE = 3, 1000  # client_prog.c


def main():
    need_bpf()
    client = os.environ.get("DC_CLIENT_LIB", "")
    prog = os.environ.get("DC_CLIENT_PROG", "")
    check(os.path.exists(client) and os.path.exists(prog), "no client library or program")
    work, obj, out, libdir = traced_setup("out", "lib")
    lib = shutil.copy(client, os.path.join(libdir, "libdatacrumbs-client.so"))
    pidfile = os.path.join(work, "server.pid")
    rt = start_runtime([RUN, "-q", "--server", "--client-lib", lib, "--pidfile", pidfile,
                        "-o", out, obj], pidfile)
    try:
        opted = subprocess.Popen([WORKLOAD, "--exec", os.path.join(work, "opted")],
                                 stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, LD_PRELOAD=lib))
        plain = subprocess.Popen([WORKLOAD, "--exec", os.path.join(work, "plain")],
                                 stdout=subprocess.PIPE, text=True)
        linked_dir = os.path.join(work, "linked")
        os.mkdir(linked_dir)
        # The copy, found before the build directory's library by RUNPATH.
        linked = subprocess.run([prog, linked_dir], stdout=subprocess.PIPE, text=True,
                                timeout=120, env=dict(os.environ, LD_LIBRARY_PATH=libdir))
        outs = [p.communicate(timeout=120)[0] for p in (opted, plain)]
    finally:
        status, err = stop_runtime(rt)
    check((opted.returncode, plain.returncode, linked.returncode) == (7, 7, 0),
          "exit statuses %s" % [opted.returncode, plain.returncode, linked.returncode])
    check(status == 0, "server exit status %d: %s" % (status, err))
    check(not os.path.exists(pidfile), "the pidfile outlived the server")
    check(os.listdir(out) == ["posix+sys-%s-%d.pfw.gz" % (os.uname().nodename, rt.pid)],
          "trace files %s (named after the server, pid %d)" % (os.listdir(out), rt.pid))
    units, others = ([json.loads(line) for line in o.splitlines()] for o in outs)
    check(len(units) == 6 and len(others) == 6, "workloads: %s" % outs)
    me = json.loads(linked.stdout)

    events = only_trace(out)
    check_units(events, units)
    xs = calls(events)
    fh = metadata(events, "FH")
    check(not [u for u in others if u["file"] in fh.values()], "a process that did not opt in "
          "is traced")
    for p in (1, 2, 3):
        path = os.path.join(linked_dir, "linked%d.dat" % p)
        hashes = [h for h, n in fh.items() if n == path]
        mine = [e for e in xs if hashes and e["args"].get("fhash") == hashes[0]]
        got = sorted((e["cat"], e["name"]) for e in mine)
        want = [] if p == 2 else sorted([("POSIX", "open"), ("SYSCALL", "openat"),
                                         ("POSIX", "close"), ("SYSCALL", "close")] +
                                        [("POSIX", "write"), ("SYSCALL", "write")] * WRITES)
        check(got == want, "linked phase %d: %s, want %s" % (p, got, want))
        check(all((e["pid"], e["tid"]) == (me["pid"], me["tid"]) and
                  (e["name"] != "write" or e["args"]["ret"] == WSIZE) for e in mine),
              "linked phase %d: pids or sizes" % p)
    pids = {e["pid"] for e in xs}
    check({u["pid"] for u in units} | {me["pid"]} <= pids, "traced pids %s" % pids)
    # Nothing else (a sanitizer runtime's helpers descend from what opted in).
    check_descend(events, {opted.pid, me["pid"]})
    check_end(events)
    print("ok: %d events of %d processes" % (len(xs), len(pids)))


if __name__ == "__main__":
    main()
