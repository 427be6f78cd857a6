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
    if os.geteuid() == 0 and shutil.which("setpriv"):
        expect_error(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "--inh-caps=-all", "--bounding-set=-all", RUN, "-o", "/tmp", obj, "--",
                      "true"], "not root", "must run as root")
    else:
        print("note: the unprivileged case needs root to drop from and setpriv; not run")
    check(os.listdir(out) == [], "files left behind: %s" % os.listdir(out))
    print("ok")


if __name__ == "__main__":
    main()
