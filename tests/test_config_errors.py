#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Each config in bad-configs/ names its error in a "# expect:" first line;
the generator must print exactly "file:line:col: message", exit 1 and write
nothing. Comment lines shift nothing: locations count every line. @DIR@ in
a message stands for the bad-configs directory, wherever the tree is."""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, check, run, tmpdir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    work = tmpdir()
    cases = sorted(glob.glob(os.path.join(HERE, "bad-configs", "*.yaml")))
    check(len(cases) >= 10, "too few cases: %d" % len(cases))
    for path in cases:
        with open(path) as f:
            first = f.readline()
        check(first.startswith("# expect: "), "%s: no expect line" % path)
        line, col, msg = first[len("# expect: "):].rstrip("\n").split(":", 2)
        msg = msg.replace("@DIR@", os.path.dirname(path))
        # The expect line itself is line 1, so the body's lines are one lower.
        want = "datacrumbs-generate: %s:%d:%s:%s" % (path, int(line) + 1, col, msg)
        out = os.path.join(work, os.path.basename(path) + ".bpf.o")
        for extra in ([], ["--check"]):
            status, stdout, err = run([GENERATE, "-o", out, *extra, path])
            check(status == 1, "%s: exit status %d" % (path, status))
            check(err.splitlines() == [want], "%s:\n got  %r\n want %r" % (path, err, want))
            check(not os.listdir(work), "%s: left files behind: %s" % (path, os.listdir(work)))
    missing = os.path.join(work, "absent.yaml")
    status, _, err = run([GENERATE, missing])
    check(status == 1 and err == "datacrumbs-generate: %s: No such file or directory\n" % missing,
          "missing config: %r" % err)
    optional_groups(work)
    bundled_all()
    no_return_probe(work)
    print("ok: %d configs" % len(cases))


def bundled_all():
    """all.yaml is every bundled config but memory-malloc, probed once each."""
    parts = ["hdf5", "mpiio", "stdio", "posix", "sys", "kernel-io", "process", "net", "memory"]
    status, out, err = run([GENERATE, "--check", "--list", "all"])
    check(status == 0, "all.yaml: %s" % err)
    lines = out.splitlines()
    probes = [line.split()[2] for line in lines[:-1]]
    check(set(probes) <= set(parts) and lines[-1].startswith("all: ok, %d probes" % len(probes)),
          "all.yaml: modules %s, %s" % (sorted(set(probes)), lines[-1]))
    for part in ("stdio", "posix", "sys", "kernel-io", "process", "net", "memory"):
        status, one, err = run([GENERATE, "--check", "--list", part])
        mine = [line.split()[4] for line in one.splitlines()[:-1]]
        got = [line.split()[4] for line in lines[:-1] if line.split()[2] == part]
        check(status == 0 and got == mine, "all.yaml's %s: %s, alone: %s" % (part, got, mine))


def no_return_probe(work):
    """A match selects neither what returns twice nor what reads its caller
    (see bad-configs/returns-twice.yaml and reads-caller.yaml for names)."""
    cfg = os.path.join(work, "dl.yaml")
    with open(cfg, "w") as f:
        f.write("module: dl\nprobes:\n  - kind: uprobe\n    cat: X\n    binary: libc.so.6\n"
                "    match: '^(dl|_?setjmp|vfork|getpid$)'\n")
    status, out, err = run([GENERATE, "--check", "--list", cfg])
    check(status == 0, "match ^dl: %d %s" % (status, err))
    names = {line.split()[4] for line in out.splitlines()[:-1]}
    check("getpid" in names, "the match selected nothing: %s" % out)
    bad = names & {"dlopen", "dlmopen", "dlsym", "dlvsym", "dl_iterate_phdr", "setjmp", "_setjmp",
                   "vfork"}
    check(not bad, "probed what cannot take a return probe: %s" % sorted(bad))
    os.unlink(cfg)


def optional_groups(work):
    """Includes, binary lists and optional groups: what is missing is said
    and skipped; a config of nothing but skipped groups is an error."""
    mine = os.path.join(work, "mine.yaml")
    with open(mine, "w") as f:
        f.write("module: mine\ninclude: [sys]\nprobes:\n"
                "  - kind: uprobe\n    cat: X\n    binary: [libdc-none.so, libc.so.6]\n"
                "    functions: [getpid]\n"
                "  - kind: uprobe\n    cat: Y\n    binary: libdc-none.so\n    optional: true\n"
                "    functions: [foo]\n"
                "  - kind: tracepoint\n    cat: Z\n    optional: true\n"
                "    functions: [nope:nope, sched:sched_switch]\n")
    status, out, err = run([GENERATE, "--check", "--list", mine])
    check(status == 0, "optional groups: %d %s" % (status, err))
    check(err.splitlines() == [
        "datacrumbs-generate: warning: %s:10:13: Y probes skipped: no libdc-none.so found" % mine,
        "datacrumbs-generate: warning: %s:16:17: tracepoint 'nope:nope' not found in this kernel "
        "(skipped: the group is optional)" % mine], "warnings: %r" % err)
    probes = [line.split() for line in out.splitlines()[:-1]]
    check([(p[2], p[3], p[4]) for p in probes if p[2] == "mine"] ==
          [("mine", "X", "getpid"), ("mine", "Z", "sched_switch")], "probes %s" % probes)
    check({p[2] for p in probes} == {"mine", "sys"} and out.splitlines()[-1].startswith("mine:"),
          "the included config's probes keep its module; the object is named mine: %s" % out)
    with open(mine, "w") as f:
        f.write("module: mine\nprobes:\n  - kind: uprobe\n    cat: Y\n"
                "    binary: libdc-none.so\n    optional: true\n    functions: [foo]\n")
    status, out, err = run([GENERATE, "--check", mine])
    check(status == 1 and err.splitlines()[-1] ==
          "datacrumbs-generate: nothing to probe: every probe group was skipped", err)


if __name__ == "__main__":
    main()
