#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No tool runs a shell: every program the tools start, seen by strace.

explore, generate (clang and llvm-strip, uncached, with file names full of
shell syntax that would run commands if a shell ever saw them), run, report
and merge are traced with strace -f for execve. Only the expected programs
may appear, each with those names as single, literal arguments, and no
shell at all; the commands hidden in the names never ran.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (EXPLORE, GENERATE, MERGE, REPORT, RUN, SOURCE, WORKLOAD, check,  # noqa: E402
                    run, skip, tmpdir)

SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "busybox"}


def execs(work, tag, argv):
    """Runs @argv under strace; returns (status, [argv of each execve after the first])."""
    log = os.path.join(work, tag + ".strace")
    # LeakSanitizer cannot run under ptrace; the other tests check leaks.
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    status, out, err = run(["strace", "-f", "-qq", "-s", "4096", "-e", "trace=execve,execveat",
                            "-e", "signal=none", "-o", log, *argv], timeout=300, cwd=work, env=env)
    progs = []
    with open(log) as f:
        for line in f:
            # "<... execve resumed>" lines only finish a call already listed.
            if 'execve("' not in line:
                continue
            if " = -1 " in line:
                continue  # a failed execve (clang looks in several places) ran nothing
            head = line.split("execve(", 1)[1]
            path = head.split('"', 2)[1]
            args = head.split("[", 1)[1].split("]", 1)[0]
            progs.append((path, args))
    check(progs and os.path.realpath(progs[0][0]) == os.path.realpath(argv[0]),
          "%s: first exec is not the tool: %s" % (tag, progs[:1]))
    for path, _ in progs:
        check(os.path.basename(path) not in SHELLS, "%s ran a shell: %s" % (tag, path))
    return status, out, err, progs[1:]


def main():
    if not shutil.which("strace"):
        skip("needs strace to see what the tools execute")
    work = tmpdir()
    planted = os.path.join(work, "planted")
    # Relative: a shell run from @work would create @planted.
    evil = os.path.join(work, "$(touch planted);x`touch planted`")
    os.mkdir(evil)
    cfg = os.path.join(evil, "c;touch planted.yaml")
    shutil.copyfile(os.path.join(SOURCE, "configs/posix.yaml"), cfg)
    obj = os.path.join(evil, "o' | touch planted #.bpf.o")

    status, _, err, progs = execs(work, "explore", [EXPLORE, "--json", "libc.so.6"])
    check(status == 0 and progs == [], "explore ran %s (%s)" % (progs, err))

    status, _, err, progs = execs(work, "generate", [GENERATE, "-q", "--no-cache", "-o", obj, cfg,
                                                     os.path.join(SOURCE, "configs/sys.yaml")])
    check(status == 0, "generate failed: %s" % err)
    names = [os.path.basename(p) for p, _ in progs]
    check(names and set(names) <= {"clang", "clang-14", "llvm-strip", "llvm-strip-14"},
          "generate ran %s" % names)
    check(any(n.startswith("clang") for n in names), "generate ran no clang: %s" % names)
    strips = [a for p, a in progs if "strip" in os.path.basename(p)]
    check(all(obj in a for a in strips), "llvm-strip did not get the output path literally: %s" %
          strips)

    if os.geteuid() == 0 and os.path.exists("/sys/kernel/btf/vmlinux"):
        out = os.path.join(evil, "traces")
        os.mkdir(out)
        status, _, err, progs = execs(work, "run", [RUN, "-q", "-o", out, obj, "--", WORKLOAD,
                                                    os.path.join(out, "data")])
        check(status == 7, "run: exit status %d: %s" % (status, err))
        check([p for p, _ in progs] == [WORKLOAD], "run executed %s" % progs)
        traces = [os.path.join(out, n) for n in os.listdir(out) if n.endswith(".pfw.gz")]
        for tag, argv in (("report", [REPORT, *traces]),
                          ("merge", [MERGE, "-o", os.path.join(out, "m.pfw.gz"), *traces])):
            status, _, err, progs = execs(work, tag, argv)
            check(status == 0 and progs == [], "%s: status %d, ran %s (%s)" %
                  (tag, status, progs, err))
    else:
        print("note: run, report and merge need root and BTF to make a trace; not run")
    check(not os.path.exists(planted), "a command hidden in a file name ran")
    print("ok: no shell; generate ran %s" % sorted(set(names)))


if __name__ == "__main__":
    main()
