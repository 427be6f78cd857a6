#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--pid: the workload is started first and blocks on a pipe; the runtime
then follows it by pid, and once every probe is live the workload is let go.
Its main thread, three threads, a forked child and an exec'd grandchild
must all be in the trace with their exact I/O, an unrelated process must
not, and the runtime must end by itself once they have all exited. The
runtime's environment sets a rank (SLURM_PROCID), which the trace's name
carries."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, WORKLOAD, calls, check, check_descend, check_end,  # noqa: E402
                    check_units, metadata, noise_process, read_trace, start_runtime, stop_runtime,
                    traced_setup)


def main():
    work, obj, out = traced_setup("out")
    data = os.path.join(work, "data")
    noise_file = os.path.join(work, "unrelated.dat")
    pidfile = os.path.join(work, "run.pid")
    r, w = os.pipe()
    target = subprocess.Popen([WORKLOAD, "--wait", str(r), "--exec", data], pass_fds=(r,),
                              stdout=subprocess.PIPE, text=True)
    os.close(r)
    noise = noise_process(noise_file)
    env = dict(os.environ, SLURM_PROCID="3")
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        env.pop(var, None)
    try:
        rt = start_runtime([RUN, "-o", out, "--pid", str(target.pid), "--pidfile", pidfile,
                            obj], pidfile, env=env)
        os.write(w, b"g")
        text, _ = target.communicate(timeout=120)
        check(target.returncode == 7, "workload exit status %d" % target.returncode)
        # No signal: with only --pid, the runtime ends when they have all exited.
        status, err = stop_runtime(rt, sig=None, timeout=60)
    finally:
        noise.kill()
        noise.wait()
        os.close(w)
        if target.poll() is None:
            target.kill()
    check(status == 0, "runtime exit status %d: %s" % (status, err))
    check(not os.path.exists(pidfile), "the pidfile outlived the runtime")
    lines = err.strip().splitlines()
    check(len(lines) == 1, "runtime messages: %r" % err)
    units = [json.loads(line) for line in text.splitlines()]
    check(sorted(u["role"] for u in units) ==
          ["child", "exec", "main", "thread0", "thread1", "thread2"], "workload: %s" % text)

    names = os.listdir(out)
    want = "posix+sys-%s-%d-rank3.pfw.gz" % (os.uname().nodename, target.pid)
    check(names == [want], "trace files %s, want [%s]" % (names, want))
    path = os.path.join(out, want)
    check(lines[0].endswith(path), "summary: %s" % lines[0])
    events = read_trace(path)
    check_units(events, units)
    pids = {u["pid"] for u in units}
    check(pids <= {e["pid"] for e in calls(events)}, "pids %s" % {e["pid"] for e in calls(events)})
    check_descend(events, {target.pid})
    check(noise_file not in metadata(events, "FH").values(), "the unrelated process is traced")
    # The exec'd unit runs as "exe" (/proc/self/exe): followed as a descendant.
    exe = next(u for u in units if u["role"] == "exec")
    pnames = [e["args"]["name"] for e in events
              if e["name"] == "process_name" and e["pid"] == exe["pid"]]
    check(pnames and pnames[-1] == "exe", "exec'd process names %s" % pnames)
    check_end(events)
    print("ok: %d events of %d processes, ended with them" % (len(calls(events)), len(pids)))


if __name__ == "__main__":
    main()
