#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every probe kind is rendered, compiled and loaded into the kernel
(generate --verify), so the verifier passes judgement on each: uprobes with
captures of every kind of handle, system calls, tracepoints as points,
pairs and keyed pairs, kprobes with CO-RE field paths, fentry, USDT points
and pairs, and a custom hook. Kprobes load here although they cannot
attach; fentry may not even load (EPERM on these machines): the tools must
say so, and where a kernel can attach them the events must show."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (GENERATE, RUN, SOURCE, calls, check, need_bpf, only_trace, run,  # noqa: E402
                    tmpdir)

TESTLIB = os.environ.get("DC_TESTLIB", "")
USDT = os.environ.get("DC_USDT_WORKLOAD", "")

CONFIGS = {
    "uprobe": """
  - kind: uprobe
    cat: U
    binary: libc.so.6
    functions:
      - fopen
      - fclose
      - name: read
        args: {fd: 0, size: 2}
      - name: write
        args: {fd: 0, ptr: '*1', size: 2}
        ret: long
  - kind: uprobe
    cat: U
    binary: %s
    functions:
      - name: dct_open
        args: {path: 0, flags: 1}
        ret: fd
      - name: dct_close
        args: {fd: 0}
        closes: true
""" % TESTLIB,
    "syscall": """
  - kind: syscall
    cat: S
    functions: [openat, read, close]
    match: '^p(read|write)64$'
""",
    "tracepoint": """
  - kind: tracepoint
    cat: T
    functions:
      - name: sched:sched_process_exec
        args: {path: filename, pid: pid}
      - name: task:task_newtask
        exit: sched:sched_process_exit
        key: [pid]
        args: {task: pid}
    match: '^syscalls:sys_enter_(fsync|read)$'
""",
    "kprobe": """
  - kind: kprobe
    cat: K
    functions:
      - name: vfs_read
        args: {size: count, ino: 'file->f_inode->i_ino', path: 'file->f_path.dentry->d_name.name'}
      - name: vfs_write
        args: {pos: 3}
    match: '^vfs_fsync'
""",
    "fentry": """
  - kind: fentry
    cat: F
    functions:
      - name: vfs_write
        args: {size: count, mode: 'file->f_mode'}
      - vfs_fsync_range
""",
    "usdt": """
  - kind: usdt
    cat: D
    binary: %s
    functions:
      - name: dcwork:tick
        args: {op: 0, byte: 1}
    match: '^dcwork:(op|step)_'
""" % USDT,
    "custom": """
  - kind: custom
    cat: C
    source: %s
    functions:
      - name: hooked_write
        args: [fd, size]
      - name: hooked_fsync
        args: [fd]
""" % os.path.join(SOURCE, "tests", "hooks", "write_hook.bpf.c"),
}


def write(work, name, body):
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write("module: %s\nprobes:%s" % (name, body))
    return path


def has_kprobes():
    return os.path.exists("/sys/bus/event_source/devices/kprobe/type") or \
        os.path.exists("/sys/kernel/tracing/kprobe_events")


def main():
    need_bpf()
    work = tmpdir()
    for kind, body in CONFIGS.items():
        if kind == "usdt" and not USDT:
            print("note: usdt not tried: no sys/sdt.h at build time")
            continue
        if kind == "kprobe" and "->" in body and not os.path.exists("/sys/kernel/btf/vmlinux"):
            continue
        cfg = write(work, kind, body)
        obj = os.path.join(work, kind + ".bpf.o")
        status, out, err = run([GENERATE, "--verify", "--no-cache", "-o", obj, cfg])
        check(status == 0, "%s: generate --verify failed: %s" % (kind, err))
        m = re.search(r"verified: (\d+) programs loaded", out)
        check(m and int(m.group(1)) >= (3 if kind == "fentry" else 4), "%s: %s" % (kind, out))
        if kind == "fentry":
            skipped = "not loaded: 2 probes: fentry/fexit programs cannot be loaded" in out
            check(skipped or int(m.group(1)) == 3 + 4, "fentry: %s" % out)
            print("fentry: %s" % ("does not load here, said so" if skipped else "loads"))
        print("%s: %s" % (kind, out.splitlines()[-1] if kind != "fentry" else m.group(0)))

    # Attach: kprobes and fentry next to a system call that attaches anywhere.
    cfg = write(work, "kernel", CONFIGS["kprobe"] +
                CONFIGS["fentry"].replace("name: vfs_write", "name: vfs_write\n        as: f_write") +
                "\n  - kind: syscall\n    cat: S\n    functions: [write]\n")
    obj = os.path.join(work, "kernel.bpf.o")
    status, _, err = run([GENERATE, "-q", "-o", obj, cfg])
    check(status == 0, "kernel: " + err)
    status, out, err = run([RUN, "-o", work, obj, "--", "/bin/echo", "written"])
    check(status == 0 and out == "written\n", "run: %d %s" % (status, err))
    events = only_trace(work)
    names = {e["name"] for e in calls(events)}
    check("write" in names, "the system call did not attach: %s" % err)
    if has_kprobes():
        check("vfs_write" in names, "kprobes attach here, yet no vfs_write event")
    else:
        check("kprobes are not available in this kernel" in err and
              "4 kprobe probes skipped" in err, "no stated reason for kprobes: " + err)
    if "fentry/fexit programs cannot be loaded by this kernel" not in err:
        check("f_write" in names, "fentry loads here, yet no f_write event: " + err)
    print("ok: every kind loads; attach skips say why")


if __name__ == "__main__":
    main()
