#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-run and a disk that refuses the trace. A full disk (a small
tmpfs): one clear error with the path, a file cut back to its last whole
member, the command run to its end, and a non-zero exit. An unwritable
output directory (a read-only mount): one line, and the command never runs."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (LOOP, RUN, calls, check, loop_config, member_events, need_bpf,  # noqa: E402
                    run, skip, summary_figures, tmpdir)

CALLS = 300000  # about 50 MiB of JSON, 2 MiB compressed: never fits in 512 KiB


def mount_tmpfs(where, opts):
    code, _, err = run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", where])
    if code != 0:
        skip("cannot mount a tmpfs: " + err.strip())


def full_disk(obj, work):
    disk = os.path.join(work, "full")
    os.mkdir(disk)
    mount_tmpfs(disk, "size=512k,mode=0755")
    try:
        code, out, err = run([RUN, "-o", disk, obj, "--", LOOP, "-n", str(CALLS)], timeout=120)
        names = [n for n in os.listdir(disk) if n.endswith(".pfw.gz")]
        check(len(names) == 1, "expected one trace: %s" % names)
        path = os.path.join(disk, names[0])
        events, members, tail = member_events(path)
        size = os.path.getsize(path)
    finally:
        run(["umount", disk])
    check(code == 1, "exit %d, want 1: %s" % (code, err))
    # The command ran to its end, untraced once the disk was full.
    check(json.loads(out)["calls"] == CALLS, "the command did not finish: %r" % out)
    errors = [ln for ln in err.splitlines() if "No space left on device" in ln]
    check(errors == ["datacrumbs-run: %s: No space left on device" % path],
          "want one error naming the file, got %r" % err)
    check(tail == b"", "the file ends in %d bytes of a torn member" % len(tail))
    check(len(members) >= 1 and size <= 512 * 1024, "%d members, %d bytes" %
          (len(members), size))
    check(not events or events[-1]["name"] != "end", "an end record on a full disk")
    n = len(calls(events))
    check(0 < n < CALLS, "%d of %d calls in the partial file" % (n, CALLS))
    figures = summary_figures(err)
    check(figures[2] == size and figures[3] == path, "summary %s, file %d bytes" %
          (figures, size))
    return n, len(members)


def unwritable(obj, work):
    ro = os.path.join(work, "ro")
    os.mkdir(ro)
    mount_tmpfs(ro, "ro,size=64k")
    marker = os.path.join(work, "ran")
    try:
        code, out, err = run([RUN, "-o", ro, obj, "--", "touch", marker], timeout=60)
        left = os.listdir(ro)
    finally:
        run(["umount", ro])
    check(code == 1, "exit %d, want 1: %s" % (code, err))
    check(err.strip() == "datacrumbs-run: %s: Read-only file system" % ro,
          "want one line naming the directory: %r" % err)
    check(not os.path.exists(marker), "the command ran")
    check(left == [], "files left: %s" % left)


def main():
    need_bpf()
    work = tmpdir()
    obj = loop_config(work)
    n, m = full_disk(obj, work)
    print("ok: full disk: %d calls kept in %d whole members, one error" % (n, m))
    unwritable(obj, work)
    print("ok: read-only directory refused before the command ran")


if __name__ == "__main__":
    main()
