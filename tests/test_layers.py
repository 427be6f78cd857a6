#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The bundled configs, each on a workload of known calls (layers_workload.c):
posix, sys, stdio, memory, net, process and kernel-io in one object, and
memory-malloc and process (a hook alone) in objects of their own. Every run is checked for exact counts, arguments,
files and nesting; the runs go side by side, since most of a run's time is
the kernel's, attaching and detaching."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dctest import (SOURCE, check, finish_traced, generate, need_bpf, start_traced,  # noqa: E402
                    tmpdir)

WORKLOAD = os.environ.get("DC_LAYERS_WORKLOAD", "")
STDIO = os.environ.get("DC_STDIO_WORKLOAD", "")
CONFIGS = ["posix", "stdio", "sys", "memory", "net", "process", "kernel-io"]


def config(name):
    return os.path.join(SOURCE, "configs", name + ".yaml")


class Trace:
    """Calls and point events of one trace, with file names resolved."""

    def __init__(self, events):
        self.all = [e for e in events if e["ph"] in ("X", "i")]

    def of(self, cat, name=None, file=None, pid=None):
        return [e for e in self.all if e["cat"] == cat and (name is None or e["name"] == name)
                and (file is None or e["file"] == file) and (pid is None or e["pid"] == pid)]

    def count(self, cat, file=None):
        """{name: calls} of @cat on @file."""
        n = {}
        for e in self.of(cat, file=file):
            n[e["name"]] = n.get(e["name"], 0) + 1
        return n


def inside(inner, outer):
    """@inner ran within @outer on its thread, one level down."""
    return (inner["tid"] == outer["tid"] and outer["ts"] <= inner["ts"] and
            inner["ts"] + inner.get("dur", 0) <= outer["ts"] + outer["dur"] and
            inner["args"]["level"] > outer["args"]["level"])


def under(t, e, cat, name=None):
    """The calls of @cat (@name) that @e ran within."""
    return [o for o in t.of(cat, name) if o["ph"] == "X" and inside(e, o)]


def posix_sys(me, t):
    f, moved, sub, d = me["file"], me["moved"], me["sub"], me["dir"]
    got = t.count("POSIX", f)
    want = {"open": 1, "write": 5, "pread": 4, "pwrite": 1, "writev": 1, "lseek": 1,
            "readv": 1, "fsync": 1, "fdatasync": 1, "ftruncate": 1, "fstat": 1, "mmap": 1,
            "close": 1, "stat": 1, "lstat": 1, "rename": 1}
    check(got == want, "POSIX calls on %s: %s" % (f, got))
    check(all(e["pid"] == me["pid"] and e["tid"] == me["tid"] for e in t.of("POSIX", file=f)),
          "POSIX pid/tid")
    check(all(e["args"]["size"] == e["args"]["ret"] == 3000 for e in t.of("POSIX", "write", f)),
          "write sizes")
    preads = t.of("POSIX", "pread", f)
    check(sorted(e["args"]["offset"] for e in preads) == [10, 1010, 2010, 3010] and
          all(e["args"]["ret"] == 1000 for e in preads), "preads %s" % preads)
    pw = t.of("POSIX", "pwrite", f)[0]["args"]
    check((pw["offset"], pw["size"], pw["ret"]) == (20000, 500, 500), "pwrite %s" % pw)
    check(t.of("POSIX", "ftruncate", f)[0]["args"]["length"] == 8192, "ftruncate length")
    mm = t.of("POSIX", "mmap", f)[0]["args"]
    check(mm["size"] == 8192 and mm["fd"] == me["fd"], "mmap of the file %s" % mm)
    # Calls without a descriptor or path argument of their own, by order on the thread.
    for name in ("msync", "munmap", "opendir", "closedir", "mkdir", "rmdir", "unlink"):
        check(len(t.of("POSIX", name, pid=me["pid"])) >= 1, "no POSIX %s" % name)
    check(len(t.of("POSIX", "mkdir", sub)) == 1 and len(t.of("POSIX", "rmdir", sub)) == 1 and
          len(t.of("POSIX", "unlink", moved)) == 1 and len(t.of("POSIX", "opendir", d)) == 1,
          "directory calls and their names")
    readdirs = [e for e in t.of("POSIX", "readdir", pid=me["pid"])]
    check(len(readdirs) == me["entries"] and readdirs[-1]["args"]["ret"] == 0,
          "readdir: %d calls, %d expected" % (len(readdirs), me["entries"]))
    # Every libc call on the file ends in its system call, one level down.
    pairs = {"open": "openat", "write": "write", "pread": "pread64", "pwrite": "pwrite64",
             "writev": "writev", "readv": "readv", "lseek": "lseek", "fsync": "fsync",
             "fdatasync": "fdatasync", "ftruncate": "ftruncate", "close": "close",
             "stat": "newfstatat", "lstat": "newfstatat", "rename": "rename"}
    for call, sysname in pairs.items():
        for e in t.of("POSIX", call, f):
            below = [s for s in t.of("SYSCALL", sysname, f) if inside(s, e)]
            check(len(below) == 1, "%s on %s: %d %s system calls within" %
                  (call, f, len(below), sysname))
    for cat, opened in (("POSIX", "open"), ("SYSCALL", "openat")):
        # dup2 gave the file's descriptor to a pipe: the write after it is not the file's.
        dups = t.of(cat, file=me["dup"])
        check(t.count(cat, me["dup"]) == {opened: 1, "write": 1} and
              dups[-1]["args"]["size"] == 7, "%s calls on %s: %s" % (cat, me["dup"], dups))
        after = [e for e in t.of(cat, "write", pid=me["pid"])
                 if e["args"]["fd"] == me["dfd"] and e["args"]["size"] == 9]
        check(len(after) == 1 and after[0]["file"] is None, "%s write to the pipe %s" %
              (cat, after))
        # Standard output dup2'd to a file, with fileno(stdout) on the way: one
        # 11-byte write on the file, and nothing after it is restored.
        logged = t.of(cat, file=me["log"])
        check(t.count(cat, me["log"]) == {opened: 1, "dup2": 1, "write": 1, "close": 1} and
              [e["args"]["size"] for e in logged if e["name"] == "write"] == [11],
              "%s calls on %s: %s" % (cat, me["log"], logged))
    sc = t.count("SYSCALL", f)
    check(sc.get("write") == 5 and sc.get("pread64") == 4 and sc.get("pwrite64") == 1,
          "system calls on the file %s" % sc)
    ms = [s for s in t.of("SYSCALL", "msync") if s["pid"] == me["pid"]]
    check(len(ms) == 1 and ms[0]["args"]["size"] == 8192 and under(t, ms[0], "POSIX", "msync"),
          "msync system call %s" % ms)
    dents = [s for s in t.of("SYSCALL", "getdents64", d)]
    check(len(dents) >= 1 and all(under(t, s, "POSIX", "readdir") for s in dents),
          "getdents64 under readdir %s" % dents)
    return len(t.all)


def stdio(me, t):
    f = me["stream"]
    got = t.count("STDIO", f)
    check(got == {"fopen": 1, "fwrite": 20, "fseek": 7, "fread": 7, "fflush": 1, "fileno": 1,
                  "fclose": 1}, "STDIO calls on %s: %s" % (f, got))
    check(all((e["args"]["size"], e["args"]["count"], e["args"]["ret"]) == (1, 100, 100)
              for e in t.of("STDIO", "fwrite", f)), "fwrite arguments")
    check(all((e["args"]["size"], e["args"]["count"], e["args"]["ret"]) == (1, 30, 30)
              for e in t.of("STDIO", "fread", f)), "fread arguments")
    check(len(t.of("STDIO", "fdopen", me["fdopen"])) == 1, "fdopen")
    # The buffered bytes reach the kernel in write(2)s under fflush or fclose.
    writes = t.of("SYSCALL", "write", f)
    check(sum(e["args"]["ret"] for e in writes) == 2000 and
          all(under(t, e, "STDIO") for e in writes), "writes under STDIO %s" % writes)
    return len(t.all)


def memory(me, t):
    pid = me["pid"]
    m = [e for e in t.of("MEMORY", "mmap", pid=pid) if e["args"]["ret"] == me["map"]]
    check(len(m) == 1 and m[0]["args"]["size"] == 1 << 20 and m[0]["args"]["fd"] == -1,
          "anonymous mmap %s" % m)
    adv = t.of("MEMORY", "madvise", pid=pid)
    check(len(adv) == 1 and adv[0]["args"]["size"] == 1 << 20 and adv[0]["args"]["advice"] == 4,
          "madvise %s" % adv)
    rm = t.of("MEMORY", "mremap", pid=pid)
    check(len(rm) == 1 and (rm[0]["args"]["size"], rm[0]["args"]["new_size"],
                            rm[0]["args"]["ret"]) == (1 << 20, 2 << 20, me["remap"]),
          "mremap %s" % rm)
    check(any(e["args"]["size"] == 2 << 20 for e in t.of("MEMORY", "munmap", pid=pid)),
          "munmap of the remapped area")
    brk = [e["args"]["ret"] for e in t.of("MEMORY", "brk", pid=pid)]
    i = brk.index(me["brk"] + 65536) if me["brk"] + 65536 in brk else -1
    check(i > 0 and brk[i + 1] == me["brk"], "brk grew by 64 KiB and shrank back: %s" % brk)
    return len(t.all)


def malloc(me, t):
    pid = me["pid"]
    mine = [e for e in t.of("MALLOC", pid=pid)]
    sizes = [(e["name"], e["args"].get("size")) for e in mine if e["name"] != "free" and
             e["args"].get("size") in (1000, 1001, 1002, 5000, 11)]
    check(sizes == [("malloc", 1000), ("malloc", 1001), ("malloc", 1002), ("realloc", 5000),
                    ("calloc", 11)], "allocations %s" % sizes)
    calloc = [e for e in mine if e["name"] == "calloc" and e["args"]["size"] == 11]
    check(calloc[0]["args"]["count"] == 7, "calloc count")
    # What was freed is what the allocations returned.
    made = {e["args"]["ret"] for e in mine if (e["name"], e["args"].get("size")) in sizes[2:]}
    freed = {e["args"]["ptr"] for e in mine if e["name"] == "free"}
    check(made <= freed, "freed %s, allocated %s" % (freed, made))
    return len(t.all)


def net(me, t):
    pid = me["pid"]
    got = t.count("NET")
    check(got == {"socket": 2, "bind": 1, "listen": 1, "connect": 1, "accept": 1,
                  "sendto": me["sends"], "shutdown": 1, "recvfrom": 1, "socketpair": 1,
                  "sendmsg": 1, "recvmsg": 1}, "NET calls %s" % got)
    check(all(e["pid"] == pid for e in t.of("NET")), "NET pids")
    sent = t.of("NET", "sendto")
    check(all((e["args"]["fd"], e["args"]["size"], e["args"]["ret"]) ==
              (me["client"], me["size"], me["size"]) for e in sent), "sends %s" % sent)
    recv = t.of("NET", "recvfrom")[0]["args"]
    check(recv["fd"] == me["server"] and recv["ret"] == me["sends"] * me["size"],
          "recv %s" % recv)
    check(t.of("NET", "accept")[0]["args"]["ret"] == me["server"] and
          t.of("NET", "listen")[0]["args"]["fd"] == me["listen"], "accept/listen")
    check([e["args"]["ret"] for e in t.of("NET", "sendmsg") + t.of("NET", "recvmsg")] ==
          [321, 321], "sendmsg/recvmsg bytes")
    return len(t.all)


def process(me, t):
    execs = {e["pid"]: e["file"] for e in t.of("PROC", "exec")}
    check(execs.get(me["pid"], "").endswith("dc-layers-workload") and
          execs.get(me["exec"]) == "/bin/true" and me["worker"] not in execs,
          "execs %s" % execs)
    forks = sorted(e["args"]["child"] for e in t.of("PROC", "fork", pid=me["pid"]))
    check(forks == sorted([me["worker"], me["exec"]]), "forks %s" % forks)
    exits = {e["pid"]: e["args"] for e in t.of("PROC", "exit")}
    check(set(exits) == {me["pid"], me["worker"], me["exec"]}, "exits %s" % exits)
    w = exits[me["worker"]]
    check(w["status"] == me["code"] and exits[me["exec"]]["status"] == 0, "exit status %s" % w)
    # The worker spun for 0.2 s of wall time and made 48 MiB resident.
    check(w["duration_us"] >= 200000 and 0 < w["cpu_us"] <= w["duration_us"] and
          w["maxrss_kb"] >= me["grow_kb"], "worker's exit %s" % w)
    check(exits[me["pid"]]["duration_us"] >= w["duration_us"] and
          exits[me["pid"]]["maxrss_kb"] < me["grow_kb"], "parent's exit %s" % exits[me["pid"]])
    return len(t.all)


def kernel_io(me, t):
    size, tid = me["size"], me["tid"]
    # fsync: ext4 syncs the file's inode and the block requests it waits for run within.
    fsync = t.of("SYSCALL", "fsync", me["buffered"])
    check(len(fsync) == 1, "fsync %s" % fsync)
    sync = [e for e in t.of("EXT4", "ext4_sync_file") if inside(e, fsync[0])]
    check(len(sync) == 1 and sync[0]["args"]["ino"] == me["ino_buffered"], "ext4_sync_file %s"
          % sync)
    # Block requests it waits for are the thread's; how many depends on what
    # the kernel's flusher threads, which are not traced, wrote first.
    rq = [e for e in t.of("BLOCK", "block_rq") if inside(e, sync[0])]
    check(all(e["args"]["error"] == 0 and e["tid"] == tid for e in rq), "fsync's requests %s"
          % rq)
    added = [e for e in t.of("PAGECACHE", "mm_filemap_add_to_page_cache")
             if e["args"]["ino"] == me["ino_buffered"]]
    # Folios of 2^order pages, from index on: the file's pages, each once.
    pages = sorted(e["args"]["index"] + i for e in added for i in range(1 << e["args"]["order"]))
    check(pages == list(range(size // 4096)) and all(e["tid"] == tid for e in added),
          "pages of the buffered file added to the cache: %s" % [e["args"] for e in added])
    # O_DIRECT: the requests start and complete within the write itself, even
    # when a busy queue has kblockd dispatch them, and no page is cached.
    pw = t.of("SYSCALL", "pwrite64", me["direct"])
    check(len(pw) == 1, "direct pwrite64 %s" % pw)
    rq = [e for e in t.of("BLOCK", "block_rq") if inside(e, pw[0])]
    check(rq and sum(e["args"]["sectors"] for e in rq) * 512 == size and
          all(e["args"]["error"] == 0 and e["dur"] >= 0 for e in rq),
          "O_DIRECT's requests %s" % rq)
    check(not [e for e in t.of("PAGECACHE") if e["args"]["ino"] == me["ino_direct"]],
          "the O_DIRECT file went through the page cache")
    return len(t.all)


def main():
    if not WORKLOAD:
        check(False, "DC_LAYERS_WORKLOAD is not set")
    need_bpf()
    work = tmpdir()
    obj = generate([config(c) for c in CONFIGS], os.path.join(work, "layers.bpf.o"))
    mobj = generate([config("memory-malloc")], os.path.join(work, "malloc.bpf.o"))
    # process.yaml alone: an object of nothing but a hook.
    pobj = generate([config("process")], os.path.join(work, "process.bpf.o"))
    runs = {m: start_traced(os.path.join(work, m), obj, [WORKLOAD, m])
            for m in ("posix", "net", "mem", "kio")}
    runs["proc"] = start_traced(os.path.join(work, "proc"), pobj, [WORKLOAD, "proc"])
    runs["stdio"] = start_traced(os.path.join(work, "stdio"), obj, [STDIO])
    runs["malloc"] = start_traced(os.path.join(work, "malloc"), mobj, [WORKLOAD, "mem"])
    results = {name: finish_traced(r, timeout=150) for name, r in runs.items()}
    checks = {"posix": posix_sys, "stdio": stdio, "mem": memory, "net": net, "proc": process,
              "kio": kernel_io, "malloc": malloc}
    n = 0
    for name, fn in checks.items():
        me, events = results[name]
        n += fn(me, Trace(events))
    print("ok: %d events in %d runs" % (n, len(runs)))


if __name__ == "__main__":
    main()
