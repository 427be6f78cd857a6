#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The built-in catalogue against the running kernel: a system call's
capture must not read past its arity as tracefs gives it (a program that
does is refused at attach, EACCES), and every catalogued system call this
kernel has must generate. Names the catalogue gives for user libraries must
exist in them: libc's POSIX and STDIO calls, and MPI-IO and HDF5 where
those libraries are installed."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import EXPLORE, GENERATE, check, fail, need_bpf, run, skip, tmpdir  # noqa: E402


def tracefs():
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.path.isdir(os.path.join(d, "events", "syscalls")):
            return d
    return None


def arity(tfs, name):
    path = os.path.join(tfs, "events", "syscalls", "sys_enter_" + name, "format")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        fields = [line for line in f if line.strip().startswith("field:")]
    return len([f for f in fields if "common_" not in f]) - 1  # less __syscall_nr


def library_functions(lib):
    """Every name of every function of @lib, aliases included."""
    status, out, _ = run([EXPLORE, "--json", "--no-prototypes", lib])
    if status:
        return None
    names = set()
    for f in json.loads(out)["functions"]:
        names.add(f["name"])
        names.update(a["name"] for a in f.get("aliases", []))
    return names


def main():
    need_bpf()
    tfs = tracefs()
    if not tfs:
        skip("tracefs is not mounted (the test needs the syscall formats)")
    status, out, err = run([GENERATE, "--catalog"])
    check(status == 0 and out, "--catalog: " + err)
    entries = [line.split(None, 2) for line in out.splitlines()]
    sys_names, checked = [], 0
    for name, where, spec in ((e + [""])[:3] for e in entries):
        if "syscall" not in where:
            continue
        n = arity(tfs, name)
        if n is None:
            continue
        bad = [int(m) for m in re.findall(r"(?:=|\*|:)(\d+)", spec) if int(m) >= n]
        if bad:
            fail("catalogue: %s reads argument %d but takes %d here" % (name, max(bad), n))
        sys_names.append(name)
        checked += 1
    check(checked >= 40, "only %d catalogued system calls found in tracefs" % checked)
    work = tmpdir()
    cfg = os.path.join(work, "cat.yaml")
    with open(cfg, "w") as f:
        f.write("module: cat\nprobes:\n  - kind: syscall\n    cat: S\n    functions: [%s]\n" %
                ", ".join(sys_names))
    status, out, err = run([GENERATE, "--check", cfg])
    check(status == 0, "catalogued system calls do not generate: " + err)

    user = {e[0]: e[2] if len(e) > 2 else "" for e in entries if "user" in e[1]}
    libc = library_functions("libc.so.6")
    posix = [n for n in user if not n.startswith(("MPI_", "H5"))]
    missing = [n for n in posix if n not in libc]
    check(not missing, "catalogue names not in libc: %s" % missing)
    for libs, prefix in ((["mpi"], "MPI_File_"), (["hdf5", "hdf5_serial", "hdf5_openmpi"], "H5")):
        lib = next((name for name in libs if library_functions(name) is not None), libs[0])
        funcs = library_functions(lib)
        if funcs is None:
            print("note: %s not installed: its catalogue names not checked" % lib)
            continue
        missing = [n for n in user if n.startswith(prefix) and n not in funcs]
        check(not missing, "catalogue names not in %s: %s" % (lib, missing))
    print("ok: %d system calls within their arity, %d library names" % (checked, len(user)))


if __name__ == "__main__":
    main()
