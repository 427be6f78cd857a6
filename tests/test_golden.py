#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden tests: the C rendered for each small config in golden/ must equal
golden/NAME.golden byte for byte, twice over (rendering is deterministic),
and compile. @TESTLIB@, @USDT@ and @HOOKS@ stand for paths of the test
binaries and hooks, which never reach the C. With DC_UPDATE_GOLDEN=1 the expected files are rewritten.

Tracepoint offsets and kernel function parameters come from the running
kernel; their goldens are skipped, with a note, where those differ."""
import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import GENERATE, check, fail, run, tmpdir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUBST = {"@TESTLIB@": os.environ.get("DC_TESTLIB", ""),
         "@USDT@": os.environ.get("DC_USDT_WORKLOAD", ""),
         "@HOOKS@": os.path.join(HERE, "hooks")}


def render(cfg, work, tag):
    out = os.path.join(work, tag + ".bpf.o")
    c = os.path.join(work, tag + ".bpf.c")
    status, _, err = run([GENERATE, "-q", "--emit-c=" + c, "-o", out, cfg])
    return status, err, c


def main():
    work = tmpdir()
    update = os.environ.get("DC_UPDATE_GOLDEN") == "1"
    cases = sorted(glob.glob(os.path.join(HERE, "golden", "*.yaml")))
    check(len(cases) >= 6, "too few golden configs")
    done = 0
    for src in cases:
        name = os.path.basename(src)[:-5]
        with open(src) as f:
            text = f.read()
        if any(k in text and not v for k, v in SUBST.items()):
            print("note: %s not checked: its test binary was not built" % name)
            continue
        for k, v in SUBST.items():
            text = text.replace(k, v)
        cfg = os.path.join(work, name + ".yaml")
        with open(cfg, "w") as f:
            f.write(text)
        results = [render(cfg, work, "%s-%d" % (name, i)) for i in range(2)]
        status, err, c = results[0]
        if status and name in ("kprobe", "tracepoint") and "not found" in err:
            print("note: %s not checked: %s" % (name, err.strip()))
            continue
        check(status == 0 and results[1][0] == 0, "%s: generate failed: %s" % (name, err))
        with open(c, "rb") as f:
            got = f.read()
        with open(results[1][2], "rb") as f:
            check(f.read() == got, "%s: two renders differ" % name)
        want_path = os.path.join(HERE, "golden", name + ".golden")
        if update:
            shutil.copy(c, want_path)
        with open(want_path, "rb") as f:
            want = f.read()
        if got != want:
            if name in ("kprobe", "tracepoint"):
                print("note: %s not checked: this kernel lays its events or functions out "
                      "differently" % name)
                continue
            fail("%s: rendered C differs from golden/%s.golden (diff %s %s)" %
                 (name, name, want_path, c))
        done += 1
    print("ok: %d goldens" % done)


if __name__ == "__main__":
    main()
