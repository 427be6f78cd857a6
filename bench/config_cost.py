#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the typical call of each bundled config costs under it: the call in
a tight loop (bench/callcost.c), run without tracing and under
datacrumbs-run with only that config, alternately, ROUNDS times; prints
the medians of ns per call and the difference, which is the config's cost
per call. CPU time (user + system of the calling thread, where a probe's
trap and program run) is the figure; wall time moves with the machine's
load. For fork, whose cost is spread over two processes, wall time is used.

A uprobe traps every process that runs the probed code, whoever set it:
another tracer's probe on the system's libc slows the untraced runs too.
So the libraries the calls go to (libc, HDF5, libmpi) are copied into a
directory of their own, found first through LD_LIBRARY_PATH by the
generator and the programs alike: no probe but the run's own is on them.

Usage (as root, after meson compile -C BUILD):
    python3 bench/config_cost.py BUILD [ROUNDS [CONFIG...]]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

# config, the call it is measured on, the program, its mode, iterations
CASES = [
    ("posix", "pread 64 B", "callcost", "pread", 20000),
    ("sys", "pread 64 B", "callcost", "pread", 200000),
    ("stdio", "fwrite 64 B", "callcost", "fwrite", 20000),
    ("kernel-io", "pwrite 4 KiB to a new page", "callcost", "append", 20000),
    ("net", "send + recv 64 B (socketpair)", "callcost", "sendrecv", 100000),
    ("memory", "mmap + munmap 4 KiB", "callcost", "mmap", 100000),
    ("memory-malloc", "malloc + free 64 B", "callcost", "malloc", 20000),
    ("process", "fork + exit + wait", "callcost", "fork", 300),
    ("hdf5", "H5Dread 64 B", "callcost-hdf5", "h5dread", 5000),
    ("mpiio", "MPI_File_read_at 64 B", "callcost-mpi", "mpiread", 20000),
]


# Copied so that only this bench's probes are on them (see above).
PRIVATE = ["libc.so.6", "libhdf5_serial.so.103", "libmpi.so.40"]


def private_libs(work):
    """A directory with copies of PRIVATE; returns the environment to use it."""
    lib = os.path.join(work, "lib")
    os.mkdir(lib)
    for name in PRIVATE:
        for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib"):
            if os.path.exists(os.path.join(d, name)):
                shutil.copy(os.path.join(d, name), os.path.join(lib, name))
                break
    # MPI singletons want the OpenMPI variables that allow root.
    return dict(os.environ, LD_LIBRARY_PATH=lib, OMPI_ALLOW_RUN_AS_ROOT="1",
                OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def measure(argv, env=None):
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    only = set(sys.argv[3:])
    gen = os.path.join(build, "generator", "datacrumbs-generate")
    run = os.path.join(build, "runtime", "datacrumbs-run")
    work = tempfile.mkdtemp(prefix="dc-cost-")
    env = private_libs(work)
    print("| config | call | base ns/call | traced ns/call | added ns/call | traced / base |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for config, what, prog, mode, n in CASES:
        if only and config not in only:
            continue
        exe = os.path.join(build, "bench", prog)
        if not os.path.exists(exe):
            print("| %s | %s | (not built: %s) | | | |" % (config, what, prog))
            continue
        obj = os.path.join(work, config + ".bpf.o")
        subprocess.run([gen, "-q", "-o", obj, config], check=True, env=env)
        base, traced = [], []
        for _ in range(rounds):
            argv = [exe, mode, str(n), work]
            base.append(measure(argv, env))
            traced.append(measure([run, "-q", "-o", work, obj, "--", *argv], env))
            for f in os.listdir(work):
                if f.endswith(".pfw.gz"):
                    os.unlink(os.path.join(work, f))
        i = 0 if mode == "fork" else 1
        b = statistics.median(x[i] for x in base)
        t = statistics.median(x[i] for x in traced)
        print("| %s | %s | %.0f | %.0f | %.0f | %.2f |" % (config, what, b, t, t - b, t / b))


if __name__ == "__main__":
    main()
