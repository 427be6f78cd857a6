#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end, file handles beyond descriptors, with the built-in catalogue
only (no capture specs): STDIO streams (fopen, and fdopen/fileno deriving
one kind of handle from another), HDF5 ids (a dataset id carries the file
of the file id it came from) and MPI-IO handles (returned through an
MPI_File *, closed through one). Every call on a handle must carry the
fhash of the file it was opened on, with the exact arguments."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, calls, check, generate, metadata, need_bpf, only_trace,  # noqa: E402
                    run, tmpdir)

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_plm="isolated", OMPI_MCA_btl="self", OMPI_MCA_rmaps_base_oversubscribe="1")


def trace(work, name, binary, cat, functions, argv):
    """Generates a config for @functions of @binary, runs @argv under it."""
    sub = os.path.join(work, name)
    os.mkdir(sub)
    cfg = os.path.join(sub, name + ".yaml")
    with open(cfg, "w") as f:
        f.write("module: %s\nprobes:\n  - kind: uprobe\n    cat: %s\n    binary: %s\n"
                "    functions: [%s]\n" % (name, cat, binary, ", ".join(functions)))
    obj = generate([cfg], os.path.join(sub, name + ".bpf.o"))
    status, out, err = run([RUN, "-o", sub, obj, "--", *argv, sub], env=ENV)
    check(status == 0, "%s: exit status %d: %s" % (name, status, err))
    events = only_trace(sub)
    me = json.loads(out.strip().splitlines()[-1])
    return me, calls(events), metadata(events, "FH")


def of(xs, name, fhash):
    return [e for e in xs if e["name"] == name and e["args"].get("fhash") == fhash]


def hash_of(fh, path):
    h = [k for k, v in fh.items() if v == path]
    check(len(h) == 1, "no FH for %s: %s" % (path, fh))
    return h[0]


def stdio(work):
    me, xs, fh = trace(work, "stdio", "libc.so.6", "STDIO",
                       ["fopen", "fdopen", "fileno", "fwrite", "fread", "fseek", "fflush",
                        "fclose", "open", "fsync"],
                       [os.environ["DC_STDIO_WORKLOAD"]])
    a, b = hash_of(fh, me["stream"]), hash_of(fh, me["fdopen"])
    fopen = of(xs, "fopen", a)
    check(len(fopen) == 1 and fopen[0]["args"]["ret"] != 0, "fopen %s" % fopen)
    stream = fopen[0]["args"]["ret"]
    w = of(xs, "fwrite", a)
    check(len(w) == 20 and all((e["args"]["stream"], e["args"]["size"], e["args"]["count"],
                                e["args"]["ret"]) == (stream, 1, 100, 100) for e in w),
          "fwrite %s" % w[:2])
    seeks = of(xs, "fseek", a)
    check(sorted(e["args"]["offset"] for e in seeks) == [11 * i + 5 for i in range(7)] and
          all(e["args"]["whence"] == 0 and e["args"]["ret"] == 0 for e in seeks), "fseek %s" % seeks)
    r = of(xs, "fread", a)
    check(len(r) == 7 and all((e["args"]["size"], e["args"]["count"], e["args"]["ret"]) ==
                              (1, 30, 30) for e in r), "fread %s" % r)
    check(len(of(xs, "fflush", a)) == 1, "fflush")
    fileno = of(xs, "fileno", a)
    check(len(fileno) == 1 and fileno[0]["args"]["ret"] >= 3, "fileno %s" % fileno)
    # A descriptor derived from the stream is the stream's file.
    sync = of(xs, "fsync", a)
    check(len(sync) == 1 and sync[0]["args"]["fd"] == fileno[0]["args"]["ret"], "fsync %s" % sync)
    opened = [e for e in of(xs, "open", b) if e["args"]["ret"] >= 0]
    check(len(opened) == 1, "open of the fdopen file: %s" % opened)
    # And a stream derived from a descriptor is the descriptor's.
    fdopen = of(xs, "fdopen", b)
    check(len(fdopen) == 1 and fdopen[0]["args"]["fd"] == opened[0]["args"]["ret"], "fdopen")
    w2 = of(xs, "fwrite", b)
    check(len(w2) == 1 and (w2[0]["args"]["stream"], w2[0]["args"]["size"], w2[0]["args"]["count"])
          == (fdopen[0]["args"]["ret"], 2, 10), "fwrite on fdopen's stream %s" % w2)
    closes = of(xs, "fclose", a) + of(xs, "fclose", b)
    check(len(closes) == 2 and all(e["args"]["ret"] == 0 for e in closes), "fclose %s" % closes)
    check(all(e["pid"] == me["pid"] and e["tid"] == me["tid"] and e["cat"] == "STDIO"
              for e in xs), "pid, tid or cat")
    return len(xs)


def library_of(var, package):
    """The test program in @var, and the library it uses, from a first run."""
    prog = os.environ.get(var)
    if not prog:
        print("note: %s not run: %s was missing at build time" % (var, package))
        return None, None
    status, out, err = run([prog, tmpdir()], env=ENV)
    check(status == 0, "%s: %s" % (prog, err))
    return prog, json.loads(out.strip().splitlines()[-1])["lib"]


def hdf5(work):
    prog, lib = library_of("DC_H5_WORKLOAD", "libhdf5-dev")
    if not prog:
        return 0
    me, xs, fh = trace(work, "hdf5", lib, "HDF5",
                       ["H5Fcreate", "H5Fopen", "H5Fclose", "H5Dcreate2", "H5Dopen2", "H5Dwrite",
                        "H5Dread", "H5Dclose"], [prog])
    h = hash_of(fh, me["file"])
    check(all(e["args"].get("fhash") == h for e in xs), "calls without the file: %s" %
          [e for e in xs if e["args"].get("fhash") != h])
    names = sorted(e["name"] for e in xs)
    check(names == sorted(["H5Fcreate", "H5Dcreate2"] + ["H5Dwrite"] * 3 +
                          ["H5Dclose", "H5Fclose"] * 2 + ["H5Fopen", "H5Dopen2", "H5Dread"]),
          "HDF5 calls %s" % names)
    seq = sorted(xs, key=lambda e: e["ts"])
    fid1, did1 = seq[0]["args"]["ret"], seq[1]["args"]["ret"]
    check(seq[1]["args"]["hid"] == fid1 and fid1 > 0 and did1 > 0, "create ids %s" % seq[:2])
    check(all(e["args"]["hid"] == did1 and e["args"]["ret"] == 0 for e in seq[2:5]), "writes")
    fid2 = seq[7]["args"]["ret"]
    check(seq[8]["args"]["hid"] == fid2 and seq[9]["args"]["hid"] == seq[8]["args"]["ret"],
          "reopen ids %s" % seq[7:10])
    return len(xs)


def mpiio(work):
    prog, lib = library_of("DC_MPIIO_WORKLOAD", "libopenmpi-dev")
    if not prog:
        return 0
    me, xs, fh = trace(work, "mpiio", lib, "MPIIO",
                       ["MPI_File_open", "MPI_File_write_at", "MPI_File_read_at",
                        "MPI_File_close"], [prog])
    h = hash_of(fh, me["file"])
    mine = [e for e in xs if e["args"].get("fhash") == h]
    check(len(mine) == len(xs), "calls without the file: %s" % xs)
    opens = [e for e in mine if e["name"] == "MPI_File_open"]
    check(len(opens) == 1 and opens[0]["args"]["amode"] == me["amode"] and
          opens[0]["args"]["ret"] == 0, "open %s" % opens)
    w = [e for e in mine if e["name"] == "MPI_File_write_at"]
    handle = w[0]["args"]["mpi_file"] if w else 0
    check(sorted(e["args"]["offset"] for e in w) == [i * 4096 for i in range(4)] and
          all(e["args"]["count"] == 1000 and e["args"]["mpi_file"] == handle != 0 for e in w),
          "write_at %s" % w)
    r = [e for e in mine if e["name"] == "MPI_File_read_at"]
    check(len(r) == 1 and (r[0]["args"]["offset"], r[0]["args"]["count"]) == (4096, 500),
          "read_at %s" % r)
    c = [e for e in mine if e["name"] == "MPI_File_close"]
    check(len(c) == 1 and c[0]["args"]["mpi_file"] == handle and c[0]["args"]["ret"] == 0,
          "close %s" % c)
    return len(xs)


def main():
    need_bpf()
    work = tmpdir()
    n = stdio(work) + hdf5(work) + mpiio(work)
    print("ok: %d calls" % n)


if __name__ == "__main__":
    main()
