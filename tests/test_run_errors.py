#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-run on bad input: one line naming the problem, a non-zero exit,
and no trace file left behind."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, RUN, SOURCE, check, generate, run, skip, tmpdir  # noqa: E402


def expect_error(argv, what, needle, status=1, cwd=None):
    code, out, err = run(argv, timeout=60, cwd=cwd)
    check(code == status, "%s: exit status %d, want %d (%r)" % (what, code, status, err))
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("datacrumbs-run: ") and needle in lines[0],
          "%s: want one line with %r, got %r" % (what, needle, err))


def main():
    work = tmpdir()
    os.chmod(work, 0o755)
    out = os.path.join(work, "out")
    os.mkdir(out)
    obj = generate([os.path.join(SOURCE, "configs/sys.yaml")], os.path.join(work, "sys.bpf.o"))
    text = os.path.join(work, "text.bpf.o")
    with open(text, "w") as f:
        f.write("hello\n")

    expect_error([RUN, "-o", out, os.path.join(work, "absent.bpf.o"), "--", "true"],
                 "missing object", "No such file or directory")
    expect_error([RUN, "-o", out, text, "--", "true"], "text object", "not an ELF object")
    expect_error([RUN, "-o", out, "/bin/true", "--", "true"], "plain ELF", "no datacrumbs manifest")
    expect_error([RUN, "-o", out, obj, "--", "dc-no-such-command"], "missing command",
                 "dc-no-such-command: command not found", status=127)
    expect_error([RUN, "-o", os.path.join(work, "absent"), obj, "--", "true"], "missing dir",
                 "No such file or directory")
    expect_error([RUN, "--ring-size", "3", "-o", out, obj, "--", "true"], "ring size",
                 "power of two")
    expect_error([RUN, "-o", out, obj], "no command", "no command given")
    with open("/proc/sys/kernel/pid_max") as f:
        absent_pid = f.read().strip()  # pids stay below pid_max
    expect_error([RUN, "-o", out, "--pid", absent_pid, obj], "absent pid",
                 "--pid %s: no such process" % absent_pid)
    expect_error([RUN, "-o", out, "--pid", "12ab", obj], "bad pid", "not a process id")
    expect_error([RUN, "-o", out, "--cgroup", "/sys/fs/cgroup/dc-no-such-cgroup", obj],
                 "missing cgroup", "dc-no-such-cgroup: No such file or directory")
    expect_error([RUN, "-o", out, "--cgroup", work, obj], "not a cgroup",
                 "not a cgroup v2 directory")
    expect_error([RUN, "-o", out, "--comm", "a-name-of-16-byte", obj], "long comm",
                 "a comm is 1 to 15 bytes")
    expect_error([RUN, "-o", out, "--server", "--client-lib", os.path.join(work, "absent.so"),
                  obj], "missing client library", "absent.so: No such file or directory")
    # There, but not the client library: found out when its uprobe attaches.
    expect_error([RUN, "-o", out, "--server", "--client-lib", "/bin/true", obj],
                 "not the client library", "cannot attach to datacrumbs_client_start")
    expect_error([RUN, "-o", out, "--pid", str(os.getpid()), "--pidfile",
                  os.path.join(work, "absent", "pid"), obj], "pidfile directory",
                 "No such file or directory")
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # As nobody with none, one or both of the capabilities BPF needs:
        # the message names exactly what is missing.
        for caps, needle in (("", "missing CAP_BPF and CAP_PERFMON:"),
                             ("bpf", "missing CAP_PERFMON:"),
                             ("perfmon", "missing CAP_BPF:")):
            grant = ["--inh-caps=-all,+" + caps, "--ambient-caps=+" + caps] if caps else \
                ["--inh-caps=-all", "--bounding-set=-all"]
            expect_error(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          *grant, RUN, "-o", "/tmp", obj, "--", "true"],
                         "as nobody with caps '%s'" % caps, needle)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon", RUN]
        # Both, as nobody: system calls go through the raw tracepoint
        # dispatcher, which needs no tracefs, so they are traced.
        shared = os.path.join(work, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        code, _, err = run(nobody + ["-o", shared, obj, "--", "true"], timeout=60)
        check(code == 0 and len(os.listdir(shared)) == 1,
              "as nobody with CAP_BPF and CAP_PERFMON: exit %d, files %s (%r)" %
              (code, os.listdir(shared), err))
        # Tracepoints of their own need tracefs: where it is closed to others
        # (Debian's 0700), it is what is missing next.
        tracefs = os.stat("/sys/kernel/tracing").st_mode if os.path.isdir(
            "/sys/kernel/tracing/events") else 0o005
        if not tracefs & 0o005:
            tp = os.path.join(work, "tp.yaml")
            with open(tp, "w") as f:
                f.write("module: tp\nprobes:\n  - kind: tracepoint\n    cat: SCHED\n"
                        "    functions: [sched:sched_process_fork]\n")
            tp_obj = generate([tp], os.path.join(work, "tp.bpf.o"))
            expect_error(nobody + ["-o", "/tmp", tp_obj, "--", "true"],
                         "as nobody with CAP_BPF and CAP_PERFMON, tracepoints",
                         "/sys/kernel/tracing: permission denied")
    else:
        print("note: the unprivileged case needs root to drop from and setpriv; not run")
    check(os.listdir(out) == [], "files left behind: %s" % os.listdir(out))
    print("ok")


if __name__ == "__main__":
    main()
