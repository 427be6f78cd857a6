#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The real stack: Debian's parallel HDF5 over OpenMPI's MPI-IO, 4 ranks
under mpirun, traced by one datacrumbs-run with hdf5, mpiio, posix, sys and
kernel-io (phdf5_workload.c). Each rank writes its block of one dataset
collectively, syncs the file and reads the block back collectively.

On each rank's thread: H5Dwrite > MPI_File_write_at_all > pwrite > the
pwrite64 system call, each within the one above and one level below it,
on the file's name; the blocks written add up to the dataset; the four
ranks are in PR metadata; the fsync under MPI_File_sync shows ext4
syncing the file's inode, with the block requests it waited for in it. OpenMPI's default collective algorithm lets one rank write for all;
OMPI_MCA_fcoll=individual keeps the collective calls but has each rank
write its own block, so every rank shows the whole stack."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, SOURCE, calls, check, generate, metadata, need_mpirun,  # noqa: E402
                    only_trace, run, tmpdir)

RANKS = 4


def inside(inner, outer):
    return (inner["tid"] == outer["tid"] and outer["ts"] <= inner["ts"] and
            inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"])


def within(xs, outer, cat, name):
    """The @cat @name calls in @outer, one level below it."""
    return [e for e in xs if e["cat"] == cat and e["name"] == name and inside(e, outer) and
            e["args"]["level"] == outer["args"]["level"] + 1]


def main():
    prog, mpirun = need_mpirun("DC_PHDF5_WORKLOAD", "libhdf5-openmpi-dev")
    work = tmpdir()
    obj = generate([os.path.join(SOURCE, "configs", c + ".yaml")
                    for c in ("hdf5", "mpiio", "posix", "sys", "kernel-io")],
                   os.path.join(work, "stack.bpf.o"))
    out = os.path.join(work, "out")
    os.mkdir(out)
    env = dict(os.environ, OMPI_MCA_fcoll="individual")
    status, text, err = run([RUN, "-q", "-o", out, obj, "--", mpirun, "--allow-run-as-root",
                             "--oversubscribe", "-np", str(RANKS), prog, work],
                            env=env, timeout=240)
    check(status == 0, "mpirun under datacrumbs-run failed (%d): %s" % (status, err))
    units = sorted((json.loads(line) for line in text.splitlines() if line.startswith("{")),
                   key=lambda u: u["rank"])
    check([u["rank"] for u in units] == list(range(RANKS)), "ranks reported: %s" % text)
    path = units[0]["file"]
    events = only_trace(out)
    fh = metadata(events, "FH")
    xs = calls(events)
    for e in xs:
        e["file"] = fh.get(e["args"].get("fhash"))

    ranks = {e["pid"]: e["args"]["value"] for e in events
             if e["ph"] == "M" and e["name"] == "PR" and e["args"]["name"] == "rank"}
    check({u["pid"]: u["rank"] for u in units} == ranks,
          "PR rank records %s, the ranks say %s" % (ranks, [(u["pid"], u["rank"]) for u in units]))

    ino = os.stat(path).st_ino
    written = 0
    for u in units:
        mine = [e for e in xs if e["tid"] == u["tid"]]
        h5 = [e for e in mine if e["cat"] == "HDF5" and e["name"] == "H5Dwrite"]
        check(len(h5) == 1 and h5[0]["file"] == path and h5[0]["args"]["ret"] == 0,
              "rank %d: H5Dwrite %s" % (u["rank"], h5))
        mpi = within(mine, h5[0], "MPIIO", "MPI_File_write_at_all")
        check(len(mpi) == 1 and mpi[0]["file"] == path, "rank %d: MPI_File_write_at_all in "
              "H5Dwrite: %s" % (u["rank"], mpi))
        pw = within(mine, mpi[0], "POSIX", "pwrite")
        check(len(pw) == 1 and pw[0]["file"] == path and pw[0]["args"]["size"] == u["block"],
              "rank %d: pwrite in MPI_File_write_at_all: %s" % (u["rank"], pw))
        sc = within(mine, pw[0], "SYSCALL", "pwrite64")
        check(len(sc) == 1 and sc[0]["file"] == path and
              (sc[0]["args"]["size"], sc[0]["args"]["ret"]) == (u["block"], u["block"]) and
              sc[0]["args"]["offset"] == pw[0]["args"]["offset"],
              "rank %d: pwrite64 in pwrite: %s" % (u["rank"], sc))
        written += sc[0]["args"]["ret"]
        u["at"] = sc[0]["args"]["offset"]
        rd = [e for e in mine if e["cat"] == "HDF5" and e["name"] == "H5Dread"]
        check(len(rd) == 1, "rank %d: H5Dread %s" % (u["rank"], rd))
        rmpi = within(mine, rd[0], "MPIIO", "MPI_File_read_at_all")
        rp = within(mine, rmpi[0], "POSIX", "pread") if len(rmpi) == 1 else []
        rs = within(mine, rp[0], "SYSCALL", "pread64") if len(rp) == 1 else []
        check(len(rs) == 1 and rs[0]["args"]["ret"] == u["block"] and
              rs[0]["args"]["offset"] == sc[0]["args"]["offset"] and rs[0]["file"] == path,
              "rank %d: H5Dread > MPI_File_read_at_all > pread > pread64: %s %s %s" %
              (u["rank"], rmpi, rp, rs))
        # The sync: ext4 syncs the file's inode within the rank's fsync.
        sync = [e for e in mine if e["cat"] == "MPIIO" and e["name"] == "MPI_File_sync"]
        fsync = [f for s in sync for p in within(mine, s, "POSIX", "fsync")
                 for f in within(mine, p, "SYSCALL", "fsync")]
        check(len(fsync) == 1 and fsync[0]["file"] == path, "rank %d: fsync in MPI_File_sync %s"
              % (u["rank"], fsync))
        u["ext4"] = within(mine, fsync[0], "EXT4", "ext4_sync_file")
        check(len(u["ext4"]) == 1 and u["ext4"][0]["args"]["ino"] == ino,
              "rank %d: ext4_sync_file of inode %d in fsync: %s" % (u["rank"], ino, u["ext4"]))
    # Each rank's block where the rank put it, after HDF5's header.
    at = [u["at"] - units[0]["at"] for u in units]
    check(at == [u["offset"] for u in units], "blocks written at %s" % at)
    check(written == RANKS * units[0]["block"], "written %d of %d" %
          (written, RANKS * units[0]["block"]))
    # Block requests a sync waits for are on its rank's thread; how much
    # data they carry depends on what the kernel's (untraced) flusher
    # threads wrote first, so it is said, not checked.
    rq = [(u, e) for u in units for e in xs
          if e["cat"] == "BLOCK" and inside(e, u["ext4"][0])]
    check(all(e["tid"] == u["tid"] and e["args"]["error"] == 0 for u, e in rq),
          "block requests within the syncs %s" % rq)
    synced = sum(e["args"]["sectors"] * 512 for _, e in rq)
    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1 and end[0]["args"]["dropped_events"] == 0, "end record %s" % end)
    print("ok: %d ranks, %d bytes written, %d synced" % (RANKS, written, synced))


if __name__ == "__main__":
    main()
