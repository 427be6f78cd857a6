#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The explorer and the generator under valgrind: no leak, no memory error.

Real inputs: libc, libhdf5, the test libraries (DWARF, debuglink, USDT),
the bundled configs compiled uncached, and configs
that fail in the parser, the validator and the resolver (the error paths
free what they allocated too). Valgrind's exit status 99 marks its own
findings, apart from the tools' status. The kernel listing (explore
--kernel) and the two slowest configs take long under valgrind, so they
are measured by hand (docs/reliability.md) rather than here.

Uprobes that any tracer on the machine (this suite's own e2e tests
included) has on the system libraries put int3 into every process that
maps them, and valgrind's JIT would execute those as traps; the tools
therefore run against private copies of their libraries, which no probe
touches.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import EXPLORE, GENERATE, SOURCE, check, run, skip, tmpdir  # noqa: E402

# A quarter of a minute each under valgrind: the union of every other
# config, and kernel BTF read whole; measured by hand (docs/reliability.md).
BY_HAND = {"all.yaml", "kernel-io.yaml"}
BAD = ["syntax", "unknown-key", "bad-regex", "hostile-name", "duplicate-key", "kprobe-bad-member",
       "tp-no-field", "missing-library", "usdt-no-notes", "out-and-closes"]


def private_libs(work):
    libs = os.path.join(work, "libs")
    os.mkdir(libs)
    out = subprocess.run(["ldd", EXPLORE, GENERATE], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1 and \
                parts[parts.index("=>") + 1].startswith("/"):
            shutil.copy(parts[parts.index("=>") + 1], libs)
    check(os.path.exists(os.path.join(libs, "libc.so.6")), "no private libc: %s" % out)
    return libs


def main():
    if not shutil.which("valgrind"):
        skip("needs valgrind")
    work = tmpdir()
    env = dict(os.environ, LD_LIBRARY_PATH=private_libs(work),
               XDG_CACHE_HOME=os.path.join(work, "cache"))
    env.pop("ASAN_OPTIONS", None)
    vg = ["valgrind", "-q", "--suppressions=" + os.path.join(SOURCE, "tests/valgrind.supp"),
          "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
          "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99"]
    cases = []
    for target in ["libc.so.6", "hdf5_serial"] + [
            os.environ[k] for k in ("DC_TESTLIB_DBG", "DC_TESTLIB_STRIPPED", "DC_USDT_PIE",
                                    "DC_USDT_LIB") if os.environ.get(k)]:
        if target == "hdf5_serial" and run([EXPLORE, "--json", target], env=env)[0] != 0:
            print("note: libhdf5 is not installed (libhdf5-dev); not explored")
            continue
        cases.append(("explore " + target, [EXPLORE, "--json", target], 0))
    cases.append(("explore --yaml libc", [EXPLORE, "--yaml", "--match", "^p?(read|write)",
                                          "libc.so.6"], 0))
    for name in sorted(os.listdir(os.path.join(SOURCE, "configs"))):
        if name.endswith(".yaml") and name not in BY_HAND:
            cases.append(("generate " + name, [GENERATE, "-q", "--no-cache", "-o",
                                               os.path.join(work, name + ".bpf.o"),
                                               os.path.join(SOURCE, "configs", name)], 0))
    for name in BAD:
        cases.append(("generate bad-configs/" + name, [GENERATE, "-q", "-o",
                                                       os.path.join(work, "bad.bpf.o"),
                                                       os.path.join(SOURCE, "tests/bad-configs",
                                                                    name + ".yaml")], 1))
    start = time.monotonic()
    for what, argv, want in cases:
        t = time.monotonic()
        status, _, err = run(vg + argv, env=env, timeout=600)
        check(status != 99, "%s: valgrind found errors:\n%s" % (what, err))
        check(status == want, "%s: exit status %d, want %d: %s" % (what, status, want, err))
        print("ok: %-40s %5.1f s" % (what, time.monotonic() - t))
    print("ok: %d runs under valgrind, no errors or leaks, %.0f s" %
          (len(cases), time.monotonic() - start))


if __name__ == "__main__":
    main()
