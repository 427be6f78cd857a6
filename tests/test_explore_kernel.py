#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""datacrumbs-explore --kernel against the kernel's own lists: system calls and
tracepoints with their fields from tracefs, functions from BTF (counted by
bpftool), and attach verdicts that match what this machine has."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import EXPLORE, GENERATE, check, run, skip, tmpdir  # noqa: E402


def explore(args):
    status, out, err = run([EXPLORE, *args], timeout=120)
    check(status == 0, "explore %s failed (%d): %s" % (args, status, err))
    return out


def explore_json(args):
    return json.loads(explore(["--json", *args]))


def tracefs():
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.access(os.path.join(d, "events"), os.R_OK | os.X_OK):
            return d
    return None


def format_fields(tfs, system, event):
    """[(type, name)] of an event's format file, without the common_ fields."""
    fields = []
    with open(os.path.join(tfs, "events", system, event, "format")) as f:
        for line in f:
            m = re.match(r"\s+field:(.*?);\s+offset:(\d+);\s+size:(\d+);", line)
            if not m:
                continue
            decl = re.sub(r"\[.*\]$", "", m.group(1))
            name = re.search(r"(\w+)$", decl).group(1)
            arr = re.search(r"(\[.*\])$", m.group(1))
            typ = decl[:-len(name)].strip() + (arr.group(1) if arr else "")
            if not name.startswith("common_"):
                fields.append((typ, name, int(m.group(2)), int(m.group(3))))
    return fields


def test_syscalls(tfs):
    doc = explore_json(["-t", "syscall"])
    names = {s["name"] for s in doc["syscalls"]}
    want = {d[len("sys_enter_"):] for d in os.listdir(os.path.join(tfs, "events", "syscalls"))
            if d.startswith("sys_enter_")}
    check(names == want and doc["counts"]["syscall"] == len(want),
          "syscalls differ from tracefs: %s / %s" % (sorted(names - want), sorted(want - names)))
    pread = [s for s in doc["syscalls"] if s["name"] == "pread64"][0]
    want = [(t, n) for t, n, o, s in format_fields(tfs, "syscalls", "sys_enter_pread64")
            if n != "__syscall_nr"]
    check([(a["type"], a["name"]) for a in pread["args"]] == want, "pread64: %s" % pread)
    check(pread["capture"]["args"] == {"fd": 0, "count": 2, "pos": 3}, "pread64 capture: %s" %
          pread["capture"])
    return doc


def test_tracepoints(tfs):
    doc = explore_json(["-t", "tracepoint"])
    got = {(t["system"], t["name"]) for t in doc["tracepoints"]}
    want = set()
    for system in os.listdir(os.path.join(tfs, "events")):
        d = os.path.join(tfs, "events", system)
        if system == "syscalls" or not os.path.isdir(d):
            continue
        want |= {(system, e) for e in os.listdir(d) if os.path.isdir(os.path.join(d, e))}
    check(got == want, "tracepoints differ from tracefs: %s / %s" %
          (sorted(got - want)[:5], sorted(want - got)[:5]))
    order = [(t["system"], t["name"]) for t in doc["tracepoints"]]
    check(order == sorted(order), "tracepoints are not grouped by system")
    fork = [t for t in doc["tracepoints"] if (t["system"], t["name"]) ==
            ("sched", "sched_process_fork")][0]
    check([(f["type"], f["name"], f["offset"], f["size"]) for f in fork["fields"]] ==
          format_fields(tfs, "sched", "sched_process_fork"), "fields: %s" % fork["fields"])
    with open(os.path.join(tfs, "events", "sched", "sched_process_fork", "id")) as f:
        check(fork["id"] == int(f.read()), "id of sched_process_fork")
    out = explore(["-t", "tracepoint", "-m", "^sched:sched_process_(fork|exec)$"])
    rows = [line for line in out.splitlines() if line.startswith("sched:")]
    check(len(rows) == 2 and out.rstrip().endswith("# 2 tracepoints (1 system)"),
          "table:\n" + out)
    return doc


def test_kfuncs():
    doc = explore_json(["-t", "kfunc"])
    vmlinux = sum(1 for k in doc["kfuncs"] if k["module"] == "vmlinux")
    p = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                       capture_output=True, text=True)
    check(p.returncode == 0, "bpftool: " + p.stderr)
    want = len(re.findall(r"^\[\d+\] FUNC '[^']+'", p.stdout, re.M))
    check(vmlinux == want, "%d vmlinux functions, bpftool counts %d" % (vmlinux, want))
    vfs_read = [k for k in doc["kfuncs"] if k["name"] == "vfs_read"][0]
    check(vfs_read["prototype"] ==
          "ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)",
          "vfs_read: %s" % vfs_read["prototype"])
    return doc


def test_attach(doc):
    attach = doc["kernel"]["attach"]
    for kind, verdict in attach.items():
        check(verdict["why"].startswith({True: "yes: ", False: "no: ",
                                         None: "not checked: "}[verdict["ok"]]),
              "%s: %s" % (kind, verdict))
    if os.geteuid() != 0:
        return
    # The kprobe event source exists exactly where kprobes can attach.
    if not os.path.exists("/sys/bus/event_source/devices/kprobe/type"):
        check(attach["kprobe"]["ok"] is False, "kprobes without their event source: %s" %
              attach["kprobe"])
    # The suite's end-to-end tests trace system calls through tracepoints here.
    check(attach["tracepoint"]["ok"] is True, "tracepoints: %s" % attach["tracepoint"])
    ways = (attach["kprobe"]["ok"], attach["fentry"]["ok"])
    kfunc_ok = True if True in ways else False if ways == (False, False) else None
    check(all(k["attachable"] == kfunc_ok for k in doc["kfuncs"]), "kfunc attachable")
    print("attach here: " + ", ".join("%s %s" % (k, v["ok"]) for k, v in attach.items()))


def test_yaml():
    out = explore(["--yaml", "-t", "syscall,tracepoint,kfunc", "-m",
                   "^(pread64|openat2|sched:sched_process_fork|vfs_read)$"])
    check("      - pread64  # capture from the built-in catalogue\n" in out, "pread64:\n" + out)
    check(re.search(r"^      - name: openat2  # long openat2\(int dfd, const char \*filename, "
                    r"struct open_how \*how, size_t usize\)\n"
                    r"        args: \{path: 1, dfd: 0, usize: 3\}\n", out, re.M),
          "openat2:\n" + out)
    check(re.search(r"^#   sched:sched_process_fork fields: ", out, re.M) and
          re.search(r"^#   ssize_t vfs_read\(", out, re.M), "comments:\n" + out)
    work = tmpdir()
    cfg = os.path.join(work, "k.yaml")
    with open(cfg, "w") as f:
        f.write(out)
    status, listing, err = run([GENERATE, "--check", "--list", cfg])
    check(status == 0, "generate rejects the kernel YAML: " + err)
    check("kernel: ok, 2 probes" in listing and
          re.search(r"openat2 .*\[dfd,usize\]", listing), "generate: " + listing)


def main():
    tfs = tracefs()
    if not tfs and os.geteuid() != 0:
        skip("tracefs is not readable and mounting it needs root")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")
    explore(["-t", "syscall", "-n", "1"])  # mounts tracefs when root
    tfs = tracefs()
    check(tfs, "tracefs is still not mounted")
    test_syscalls(tfs)
    test_tracepoints(tfs)
    doc = test_kfuncs()
    test_attach(doc)
    test_yaml()
    print("ok")


if __name__ == "__main__":
    main()
