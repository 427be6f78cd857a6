# SPDX-License-Identifier: MIT
"""The bpftrace peer of the benchmarks: a script that does what datacrumbs'
trace mode does on the same attach points, written as a bpftrace user would.
On entry it keeps the time and the arguments per thread; on exit it prints
one line per call (layer, function, pid, tid, start ns, duration ns, return
value and the arguments) to bpftrace's output file, and forgets the entry.
Only the command bpftrace starts (-c, `cpid`) is recorded, as datacrumbs
records only the processes it follows."""
import json
import os
import shutil
import subprocess

# Per function: the names of the arguments recorded, as uprobe registers and
# as the system call's tracepoint fields.
ARGS = {"write": [("arg0", "fd"), ("arg2", "count")],
        "read": [("arg0", "fd"), ("arg2", "count")],
        "getppid": []}


def found():
    """The path of bpftrace, or None with the reason it is missing."""
    path = shutil.which("bpftrace")
    return (path, None) if path else (None, "bpftrace is not installed (apt-get install bpftrace)")


def libc_path(build):
    """The path of the libc the system's programs use, as the explorer finds it."""
    p = subprocess.run([os.path.join(build, "explorer", "datacrumbs-explore"), "--json",
                        "--no-prototypes", "libc.so.6"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("datacrumbs-explore libc.so.6 failed: " + p.stderr.strip())
    return json.loads(p.stdout)["target"]["path"]


def script(libc, probes):
    """A bpftrace program for @probes, a list of (layer, function, kind) with
    kind "uprobe" (a function of @libc) or "syscall" (its tracepoints)."""
    out = []
    for layer, func, kind in probes:
        m = "@%s_%s" % ("u" if kind == "uprobe" else "s", func)
        if kind == "uprobe":
            enter, leave, ret = "uprobe:%s:%s" % (libc, func), "uretprobe:%s:%s" % (libc, func), "retval"
            args = [u for u, _ in ARGS[func]]
        else:
            enter, leave, ret = ("tracepoint:syscalls:sys_enter_" + func,
                                 "tracepoint:syscalls:sys_exit_" + func, "args->ret")
            args = ["args->" + t for _, t in ARGS[func]]
        keep = "".join(" %s_a%d[tid] = %s;" % (m, i, a) for i, a in enumerate(args))
        out.append("%s /pid == cpid/ { %s[tid] = nsecs;%s }" % (enter, m, keep))
        fmt = " %d" * len(args)
        vals = "".join(", %s_a%d[tid]" % (m, i) for i in range(len(args)))
        forget = "".join(" delete(%s_a%d[tid]);" % (m, i) for i in range(len(args)))
        out.append('%s /%s[tid]/ { printf("%s %s %%d %%d %%llu %%llu %%d%s\\n", pid, tid, %s[tid], '
                   'nsecs - %s[tid], %s%s); delete(%s[tid]);%s }' %
                   (leave, m, layer, func, fmt, m, m, ret, vals, m, forget))
    return "\n".join(out) + "\n"


def argv(bpftrace, script_path, output, command):
    """bpftrace running @command under @script_path, its lines into @output."""
    return [bpftrace, "-q", "-o", output, "-c", " ".join(command), script_path]


def events(output, layers=None):
    """The calls bpftrace wrote to @output, per (layer, function)."""
    got = {}
    if not os.path.exists(output):
        return got
    with open(output) as f:
        for line in f:
            w = line.split()
            if len(w) >= 7 and (layers is None or w[0] in layers):
                got[(w[0], w[1])] = got.get((w[0], w[1]), 0) + 1
    return got
