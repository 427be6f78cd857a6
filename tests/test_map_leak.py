#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Exited processes leave nothing in the BPF maps. A traced parent that
stays alive starts 1,000 short-lived children one after another (see
churn.c: files inherited, opened and closed, left open, opened in a
thread, after an exec). While the parent still runs, the live runtime's
maps (read with bpftool) must hold exactly the parent: dc_procs and
dc_holders its tgid, dc_files its one open file, dc_pending nothing, and no
other per-process map any key of a child. The trace must then hold each
child's exact calls under its pid."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (RUN, calls, check, check_end, metadata, need_bpf, only_trace, run,  # noqa: E402
                    skip, stop_with_parent, traced_setup)

CHILDREN = 1000
BYTES = 100  # churn.c
HASH_TYPES = ("hash", "lru_hash", "percpu_hash", "lru_percpu_hash")
# Keyed by something other than a process: a file name's hash, a comm.
NOT_PER_PROCESS = ("dc_strs", "dc_comms")


def fnv1a(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def maps_of(pid, bpftool):
    """{name: bpftool's description} of the BPF maps process @pid holds."""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                m = re.search(r"^map_id:\s*(\d+)$", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    maps = {}
    for i in ids:
        status, out, err = run([bpftool, "-j", "map", "show", "id", str(i)])
        check(status == 0, "bpftool map show id %d: %s" % (i, err))
        info = json.loads(out)
        maps[info["name"]] = info
    return maps


def entries(bpftool, info):
    """The (key, value) byte strings of a map; per-CPU values are left out."""
    status, out, err = run([bpftool, "-j", "map", "dump", "id", str(info["id"])])
    check(status == 0, "bpftool map dump %s: %s" % (info["name"], err))
    got = []
    for e in json.loads(out):
        key = bytes(int(b, 16) for b in e["key"])
        value = e.get("value")
        got.append((key, bytes(int(b, 16) for b in value) if isinstance(value, list) else None))
    return sorted(got)


def main():
    need_bpf()
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.access(bpftool, os.X_OK):
        skip("no bpftool to read the maps with")
    work, obj, out, data = traced_setup("out", "data")
    rt = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", os.environ["DC_CHURN"], data,
                           str(CHILDREN)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, preexec_fn=stop_with_parent)
    try:
        line = rt.stdout.readline()
        check(line, "churn reported nothing: %s" % rt.stderr.read() if rt.poll() is not None
              else "churn reported nothing")
        me = json.loads(line)
        parent, kids = me["pid"], me["children"]
        check(len(set(kids)) == CHILDREN, "children reported: %d" % len(set(kids)))
        maps = maps_of(rt.pid, bpftool)
        for name in ("dc_procs", "dc_holders", "dc_files", "dc_pending"):
            check(name in maps, "the runtime has no map %s: %s" % (name, sorted(maps)))
        want = {
            "dc_procs": [(struct.pack("<I", parent), struct.pack("<I", 1))],
            "dc_holders": [(struct.pack("<I", parent), b"\x01")],
            "dc_files": [(struct.pack("<IIQ", parent, 0, me["fd"]),
                          struct.pack("<Q", fnv1a(me["file"])))],
            "dc_pending": [],
        }
        dead = set(kids)
        checked = []
        for name, info in sorted(maps.items()):
            if name in want:
                got = entries(bpftool, info)
                check(got == want[name], "%s holds %d entries %s, want %s" %
                      (name, len(got), got[:5], want[name]))
            elif info["type"] in HASH_TYPES and name not in NOT_PER_PROCESS:
                left = [k for k, _ in entries(bpftool, info)
                        if len(k) >= 4 and struct.unpack_from("<I", k)[0] in dead]
                check(not left, "%s keeps %d entries of exited children" % (name, len(left)))
            else:
                continue
            checked.append(name)
    finally:
        rt.stdin.close()
        status = rt.wait(timeout=120)
    err = rt.stderr.read()
    check(status == 0, "runtime exit status %d: %s" % (status, err))

    events = only_trace(out)
    parents = {e["pid"]: e["args"]["value"] for e in events
               if e["name"] == "PR" and e["args"]["name"] == "ppid"}
    check(all(parents.get(k) == parent for k in kids), "children without their ppid record")
    byhash = {}
    for e in calls(events):
        byhash.setdefault(e["args"].get("fhash"), []).append(e)
    fh = {n: h for h, n in metadata(events, "FH").items()}
    for i, kid in enumerate(kids):
        mine = byhash.get(fh.get(os.path.join(data, "c%d.dat" % i)), [])
        names = ["open", "write", "close"] if i % 4 == 0 else \
            ["open", "write"] if i % 4 in (1, 2) else ["open"]
        sysnames = {"open": "openat", "write": "write", "close": "close"}
        want = sorted([("POSIX", n) for n in names] + [("SYSCALL", sysnames[n]) for n in names])
        got = sorted((e["cat"], e["name"]) for e in mine)
        check(got == want, "child %d (kind %d): %s, want %s" % (i, i % 4, got, want))
        check({e["pid"] for e in mine} == {kid}, "child %d: pids %s, want %d" %
              (i, {e["pid"] for e in mine}, kid))
        check(all((e["tid"] != kid) == (i % 4 == 1) for e in mine),
              "child %d: tids %s" % (i, {e["tid"] for e in mine}))
        check(all(e["args"]["ret"] == BYTES for e in mine if e["name"] == "write"),
              "child %d: write sizes" % i)
    check_end(events)
    print("ok: %d children left nothing in %s; %d events" % (CHILDREN, ", ".join(checked),
                                                             len(calls(events))))


if __name__ == "__main__":
    main()
