# SPDX-License-Identifier: MIT
"""Helpers shared by the test scripts: tool paths, skipping, trace reading."""
import gzip
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77  # meson's exit status for a skipped test

EXPLORE = os.environ.get("DC_EXPLORE", "")
GENERATE = os.environ.get("DC_GENERATE", "")
RUN = os.environ.get("DC_RUN", "")
WORKLOAD = os.environ.get("DC_WORKLOAD", "")
LOOP = os.environ.get("DC_LOOP_WORKLOAD", "")
SOURCE = os.environ.get("DC_SOURCE", "")
BUILD = os.environ.get("DC_BUILD", "")


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def need_bpf():
    """Skips unless this process may load and attach BPF programs."""
    if os.geteuid() != 0:
        skip("needs root to load BPF programs (CAP_BPF and CAP_PERFMON)")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")


def run(argv, **kw):
    """Runs a command, returning (status, stdout, stderr) as text."""
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def tmpdir():
    return tempfile.mkdtemp(prefix="dctest-")


def generate(configs, out, extra=()):
    status, out_text, err = run([GENERATE, "-q", "-o", out, *extra, *configs])
    check(status == 0, "generate failed: " + err)
    return out


def read_trace(path):
    """Reads a .pfw.gz, checking the DFTracer framing; returns its events."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    check(len(lines) >= 2, "%s: too short" % path)
    check(lines[0] == "[", "%s: first line is not '['" % path)
    check(lines[-1] == "]", "%s: last line is not ']'" % path)
    events = []
    for n, line in enumerate(lines[1:-1], 2):
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("%s:%d: not JSON: %s" % (path, n, e))
        check(isinstance(ev, dict), "%s:%d: not an object" % (path, n))
        for key in ("name", "ph"):
            check(key in ev, "%s:%d: no %s" % (path, n, key))
        if ev["ph"] != "M":
            check(isinstance(ev.get("ts"), int), "%s:%d: no integer ts" % (path, n))
        events.append(ev)
    return events


def metadata(events, name):
    """{value: name} of the FH/HH/SH metadata events called @name."""
    return {e["args"]["value"]: e["args"]["name"] for e in events
            if e["ph"] == "M" and e["name"] == name}


def calls(events):
    return [e for e in events if e["ph"] == "X"]


REPORT = os.environ.get("DC_REPORT", "")
MERGE = os.environ.get("DC_MERGE", "")


def write_pfw(path, lines, per_member=100, opening=True, closing=True):
    """Writes a trace: @lines (dicts or raw strings), in gzip members of
    @per_member lines each, like the runtime's writer. Returns the byte
    offset where each member starts."""
    import gzip as _gzip
    text = (["["] if opening else []) + \
        [ln if isinstance(ln, str) else json.dumps(ln, separators=(",", ":")) for ln in lines] + \
        (["]"] if closing else [])
    starts = []
    with open(path, "wb") as f:
        for i in range(0, len(text), per_member):
            starts.append(f.tell())
            chunk = "".join(t + "\n" for t in text[i:i + per_member])
            f.write(_gzip.compress(chunk.encode("utf-8"), mtime=0))
    return starts


def report_json(paths, *args):
    """Runs datacrumbs-report --json on @paths; returns (document, stderr)."""
    status, out, err = run([REPORT, "--json", *args, *paths])
    check(status == 0, "report failed (%d): %s" % (status, err))
    return json.loads(out), err


def generate_posix_sys(work):
    """The object for configs/posix.yaml and sys.yaml, in @work."""
    need_bpf()
    return generate([os.path.join(SOURCE, "configs/posix.yaml"),
                     os.path.join(SOURCE, "configs/sys.yaml")],
                    os.path.join(work, "posix.bpf.o"))


def trace_workload(work, runs=1, extra=()):
    """Traces the bundled workload @runs times with posix+sys, passing @extra
    to datacrumbs-run; returns the trace paths and each run's unit lines
    (see workload.c)."""
    obj = generate_posix_sys(work)
    traces, units = [], []
    for i in range(runs):
        out = os.path.join(work, "run%d" % i)
        os.mkdir(out)
        status, text, err = run([RUN, "-q", *extra, "-o", out, obj, "--", WORKLOAD,
                                 os.path.join(out, "data")])
        check(status == 7, "workload run failed (%d): %s" % (status, err))
        found = [os.path.join(out, n) for n in os.listdir(out) if n.endswith(".pfw.gz")]
        check(len(found) == 1, "expected one trace in %s: %s" % (out, found))
        traces.append(found[0])
        units.append([json.loads(line) for line in text.splitlines()])
    return traces, units


def bytes_moved(args):
    """The bytes a call moved, by the rule the report documents."""
    ret = args.get("ret")
    if not isinstance(ret, int) or ret <= 0:
        return 0
    if isinstance(args.get("size"), int):
        return ret if ret <= args["size"] else 0
    return ret if "iovcnt" in args else 0


def chrome_rules(events, where):
    """Checks the Chrome trace-event rules Perfetto applies to each event."""
    for n, e in enumerate(events):
        ph = e.get("ph")
        check(isinstance(ph, str) and len(ph) == 1 and ph.isalpha(),
              "%s: event %d: ph %r is not a letter" % (where, n, ph))
        check(isinstance(e.get("name"), str), "%s: event %d: no name" % (where, n))
        for k in ("pid", "tid"):
            if k in e:
                check(isinstance(e[k], int), "%s: event %d: %s is not an integer" % (where, n, k))
        if ph != "M":
            check(isinstance(e.get("ts"), (int, float)) and not isinstance(e["ts"], bool),
                  "%s: event %d: no numeric ts: %s" % (where, n, e))
        if ph == "X":
            check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0,
                  "%s: event %d: X without a numeric dur" % (where, n))
        if ph == "C":
            check("id" not in e and "dur" not in e, "%s: counter %d has id or dur" % (where, n))
            for k, v in e.get("args", {}).items():
                check(isinstance(v, (int, float)) and not isinstance(v, bool),
                      "%s: counter %d: arg %s is not a number" % (where, n, k))

def elf_section(path, name):
    """The bytes of section @name of a 64-bit little-endian ELF file, or None."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x7fELF" and data[4] == 2, "%s: not a 64-bit ELF file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    stroff = sections[shstrndx][4]
    for sh in sections:
        end = data.index(b"\0", stroff + sh[0])
        if data[stroff + sh[0]:end].decode() == name:
            return data[sh[4]:sh[4] + sh[5]]
    return None


def manifest(path):
    """The probe lines of a generated object's manifest, as lists of fields."""
    text = elf_section(path, ".datacrumbs")
    check(text is not None, "%s: no manifest" % path)
    return [line.split("\t") for line in text.decode().splitlines() if line.startswith("probe\t")]


def only_trace(directory):
    """The events of the one trace datacrumbs-run wrote into @directory."""
    traces = [os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".pfw.gz")]
    check(len(traces) == 1, "expected one trace in %s, got %s" % (directory, traces))
    return read_trace(traces[0])


def write_text(path, text):
    """Writes @text to @path; returns @path."""
    with open(path, "w") as f:
        f.write(text)
    return path


def check_ranks(events, units):
    """Checks the exact I/O of each rank of rank_workload.c in a posix+sys
    trace, and that each rank has its PR rank line: @units are the JSON
    lines the ranks printed. Returns the pids."""
    fh = metadata(events, "FH")
    xs = calls(events)
    pr = {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "PR" and e["args"]["name"] == "rank":
            pr.setdefault(e["pid"], []).append(e["args"]["value"])
    for u in units:
        r = u["rank"]
        check(pr.get(u["pid"]) == [r], "rank %d: PR rank lines %s for pid %d" %
              (r, pr.get(u["pid"]), u["pid"]))
        fhash = [h for h, n in fh.items() if n == u["file"]]
        check(len(fhash) == 1, "rank %d: FH for %s: %s" % (r, u["file"], fhash))
        mine = [e for e in xs if e["args"].get("fhash") == fhash[0]]
        check({(e["pid"], e["tid"]) for e in mine} == {(u["pid"], u["tid"])},
              "rank %d: pid/tid %s, the rank says %d/%d" %
              (r, {(e["pid"], e["tid"]) for e in mine}, u["pid"], u["tid"]))
        wsize, writes = 1024 * (r + 1), 10 + r
        offsets = [1000 * i + 100 * r for i in range(5)]
        for cat, names in (("POSIX", ("open", "write", "pread", "fsync", "close")),
                           ("SYSCALL", ("openat", "write", "pread64", "fsync", "close"))):
            got = {n: [e for e in mine if e["cat"] == cat and e["name"] == n] for n in names}
            counts = [len(got[n]) for n in names]
            check(counts == [1, writes, 5, 1, 1],
                  "rank %d: %s %s counts %s" % (r, cat, names, counts))
            check(all(e["args"]["size"] == wsize and e["args"]["ret"] == wsize
                      for e in got["write"]), "rank %d: %s write sizes" % (r, cat))
            reads = got[names[2]]
            check(sorted(e["args"]["offset"] for e in reads) == offsets and
                  all(e["args"]["size"] == 512 and e["args"]["ret"] == 512 for e in reads),
                  "rank %d: %s reads %s" % (r, cat, [e["args"] for e in reads]))
    return {u["pid"] for u in units}


def read_members(path):
    """Reads a .pfw.gz gzip member by member, as a reader of a file cut short
    by a crash would. Returns (members, tail): the text of each complete
    member, and the bytes of an incomplete last member (b"" if none). Every
    complete member must end on a line boundary."""
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    members = []
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text = d.decompress(data)
        except zlib.error as e:
            fail("%s: member %d is corrupt: %s" % (path, len(members) + 1, e))
        if not d.eof:
            return members, data
        text = text.decode("utf-8")
        check(text.endswith("\n"), "%s: member %d does not end a line" % (path, len(members) + 1))
        members.append(text)
        data = d.unused_data
    return members, b""


def member_events(path):
    """The events of the complete members of a trace that may have been cut
    short: the first line is "[", every other line whole JSON, and the "id"s
    count up by one from 0. Returns (events, members, tail), with the
    closing "]" (if any) left out of the events."""
    members, tail = read_members(path)
    lines = "".join(members).split("\n")[:-1]
    check(lines and lines[0] == "[", "%s: first line is not '['" % path)
    events = []
    for n, line in enumerate(lines[1:], 2):
        if line == "]":
            check(n == len(lines), "%s:%d: ']' before the end" % (path, n))
            break
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("%s:%d: not JSON: %s" % (path, n, e))
        check(ev.get("id") == len(events), "%s:%d: id %s, want %d" % (path, n, ev.get("id"),
                                                                       len(events)))
        events.append(ev)
    return events, members, tail


def loop_config(work, syscall="lseek"):
    """An object tracing only the system call @syscall, for the loop workload
    (loop_workload.c), so a trace's calls can be counted exactly."""
    need_bpf()
    cfg = write_text(os.path.join(work, syscall + ".yaml"),
                     "module: %s\nprobes:\n  - name: one\n    kind: syscall\n"
                     "    cat: SYSCALL\n    functions: [%s]\n" % (syscall, syscall))
    return generate([cfg], os.path.join(work, syscall + ".bpf.o"))


def summary_figures(stderr):
    """(events, dropped, trace bytes, path) from datacrumbs-run's summary line."""
    import re
    m = re.search(r"^datacrumbs-run: (\d+) events, (\d+) dropped, \d+ probes attached, "
                  r"\d+ skipped, (\d+) bytes: (.*)$", stderr, re.M)
    check(m is not None, "no summary line in %r" % stderr)
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)


def stopped_backlog(argv):
    """Starts @argv, a datacrumbs-run of the loop workload with -w. Once the
    workload is ready, stops the runtime, lets the workload make its calls
    into the ring with nobody draining it, and returns (the process, the
    calls made) with the runtime still stopped and the workload waiting for
    its stdin to close."""
    import signal
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        check(p.stdout.readline() == "ready\n", "the workload did not start")
        os.kill(p.pid, signal.SIGSTOP)
        wait_state(p.pid, "T")
        p.stdin.write("go\n")
        p.stdin.flush()
        made = json.loads(p.stdout.readline())["calls"]
        check(p.stdout.readline() == "done\n", "the workload did not finish")
    except BaseException:
        p.kill()
        raise
    return p, made


def wait_state(pid, state, timeout=10):
    """Waits until process @pid is in @state ("T" stopped, ...) per /proc."""
    import time
    end = time.time() + timeout
    while time.time() < end:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == state:
                return
        time.sleep(0.01)
    fail("process %d never reached state %s" % (pid, state))


def start_traced(out, obj, argv):
    """Starts datacrumbs-run @obj -- @argv OUT, tracing into the new
    directory @out; returns what finish_traced() takes."""
    os.makedirs(out)
    p = subprocess.Popen([RUN, "-q", "-o", out, obj, "--", *argv, out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return out, argv, p


def finish_traced(started, timeout=200):
    """Waits for a start_traced() run; checks it succeeded and dropped
    nothing. Returns the last line the command printed, as JSON, and the
    trace's events, each call and point with "file": its file name or None."""
    out, argv, p = started
    text, err = p.communicate(timeout=timeout)
    check(p.returncode == 0, "%s: exit status %d: %s" % (argv, p.returncode, err))
    events = only_trace(out)
    end = [e for e in events if e["name"] == "end"]
    check(len(end) == 1 and end[0]["args"]["dropped_events"] == 0, "%s: end %s" % (argv, end))
    fh = metadata(events, "FH")
    for e in events:
        if e["ph"] in ("X", "i"):
            e["file"] = fh.get(e["args"].get("fhash"))
    return json.loads(text.strip().splitlines()[-1]), events


def need_mpirun(var, package):
    """The MPI workload in $@var and mpirun, or a skip naming what to
    install; then need_bpf()."""
    import shutil
    prog = os.environ.get(var)
    if not prog:
        skip("the MPI workload was not built (install %s)" % package)
    mpirun = shutil.which("mpirun")
    if not mpirun:
        skip("no mpirun (install openmpi-bin)")
    need_bpf()
    return prog, mpirun


# What each unit of workload.c does (see there).
WRITES, WSIZE, READS, RSIZE = 100, 4096, 50, 512
OFFSETS = sorted(i * 8000 + 100 for i in range(READS))
# libc call -> the system call it makes, and how many of each per unit
EXPECT = {
    "open": ("openat", 1),
    "write": ("write", WRITES),
    "pread": ("pread64", READS),
    "fsync": ("fsync", 1),
    "close": ("close", 1),
}


def check_units(events, units, syscalls=True):
    """Checks the exact calls of each unit of workload.c (@units are the JSON
    lines it printed) in a posix (+sys with @syscalls) trace: counts, sizes,
    offsets, pid, tid, file and nesting."""
    fh = metadata(events, "FH")
    xs = calls(events)
    for u in units:
        fhash = [h for h, n in fh.items() if n == u["file"]]
        check(len(fhash) == 1, "%s: FH for %s: %s" % (u["role"], u["file"], fhash))
        mine = [e for e in xs if e["args"].get("fhash") == fhash[0]]
        check({(e["pid"], e["tid"]) for e in mine} == {(u["pid"], u["tid"])},
              "%s: pid/tid %s, workload says %d/%d" %
              (u["role"], {(e["pid"], e["tid"]) for e in mine}, u["pid"], u["tid"]))
        check(syscalls or all(e["cat"] == "POSIX" for e in mine),
              "%s: categories %s" % (u["role"], {e["cat"] for e in mine}))
        for libc, (sysc, count) in EXPECT.items():
            lc = [e for e in mine if e["cat"] == "POSIX" and e["name"] == libc]
            sc = [e for e in mine if e["cat"] == "SYSCALL" and e["name"] == sysc]
            check(len(lc) == count, "%s: %d POSIX %s, want %d" % (u["role"], len(lc), libc, count))
            if not syscalls:
                continue
            check(len(sc) == count, "%s: %d SYSCALL %s, want %d" % (u["role"], len(sc), sysc, count))
            # Each libc call contains its system call, one level deeper.
            for c in lc:
                inner = [s for s in sc if s["tid"] == c["tid"] and
                         s["args"]["level"] == c["args"]["level"] + 1 and
                         c["ts"] <= s["ts"] and s["ts"] + s["dur"] <= c["ts"] + c["dur"]]
                check(len(inner) == 1, "%s: %s at %d contains %d %s calls" %
                      (u["role"], libc, c["ts"], len(inner), sysc))
        writes = [e for e in mine if e["name"] == "write"]
        check(all(e["args"]["size"] == WSIZE and e["args"]["ret"] == WSIZE and
                  e["args"]["fd"] >= 3 for e in writes), "%s: write sizes" % u["role"])
        for cat, name in (("POSIX", "pread"), ("SYSCALL", "pread64"))[:2 if syscalls else 1]:
            reads = [e for e in mine if e["cat"] == cat and e["name"] == name]
            check(sorted(e["args"]["offset"] for e in reads) == OFFSETS,
                  "%s: %s offsets %s" % (u["role"], name, sorted(e["args"]["offset"] for e in reads)))
            check(all(e["args"]["size"] == RSIZE and e["args"]["ret"] == RSIZE for e in reads),
                  "%s: %s sizes" % (u["role"], name))
        opens = [e for e in mine if e["cat"] == "POSIX" and e["name"] == "open"]
        check(opens[0]["args"]["ret"] == writes[0]["args"]["fd"], "%s: open's fd" % u["role"])
        check(all(e["args"]["level"] == 0 for e in mine if e["cat"] == "POSIX"),
              "%s: POSIX calls not at level 0" % u["role"])


def check_descend(events, roots):
    """Every pid with calls in @events is one of @roots or descends from one
    (by the trace's PR ppid records)."""
    parent = {e["pid"]: e["args"]["value"] for e in events
              if e["name"] == "PR" and e["args"]["name"] == "ppid"}
    for pid in {e["pid"] for e in calls(events)}:
        chain = [pid]
        while chain[-1] not in roots and chain[-1] in parent and len(chain) < 20:
            chain.append(parent[chain[-1]])
        check(chain[-1] in roots, "pid %d does not descend from %s (chain %s)" %
              (pid, sorted(roots), chain))


def stop_with_parent():
    """For Popen: the child gets SIGTERM when the test dies (a meson timeout),
    so no runtime outlives its test with its probes attached."""
    import ctypes
    import signal
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_runtime(argv, pidfile, timeout=120, **kw):
    """Starts datacrumbs-run with @argv (which must pass --pidfile @pidfile)
    and returns its Popen once the pidfile, holding its pid, says that
    every probe is live."""
    import time
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=stop_with_parent, **kw)
    deadline = time.monotonic() + timeout
    while not os.path.exists(pidfile):
        if p.poll() is not None:
            fail("datacrumbs-run exited (%d) before its probes were live: %s" %
                 (p.returncode, p.stderr.read()))
        if time.monotonic() > deadline:
            p.kill()
            fail("datacrumbs-run not live after %d s" % timeout)
        time.sleep(0.05)
    with open(pidfile) as f:
        text = f.read()
    check(text == "%d\n" % p.pid, "pidfile holds %r, the runtime is %d" % (text, p.pid))
    return p


def stop_runtime(p, sig=15, timeout=120):
    """Sends @sig (SIGTERM) to the runtime @p; returns (status, stderr)."""
    if sig:
        p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        fail("datacrumbs-run did not stop within %d s: %s" % (timeout, err))
    return p.returncode, err


def noise_process(path):
    """An unrelated process writing @path in a loop, for the tests to find
    absent from their traces; kill it when done."""
    return subprocess.Popen([sys.executable, "-c", """
import os, sys
while True:
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"x" * 4096)
    os.close(fd)
""", path])


def check_end(events, where=""):
    """The end record counts every call event written, and none dropped."""
    end = [e for e in events if e["name"] == "end"]
    n = len(calls(events))
    check(len(end) == 1 and end[0]["args"]["num_events"] == n and
          end[0]["args"]["dropped_events"] == 0, "%send record %s for %d events" % (where, end, n))


def traced_setup(*dirs, configs=("posix", "sys")):
    """For a test that traces: skips without BPF, makes a work directory with
    the subdirectories @dirs and generates the bundled @configs into it.
    Returns (work, object, path of each of @dirs...)."""
    need_bpf()
    work = tmpdir()
    obj = generate([os.path.join(SOURCE, "configs/%s.yaml" % c) for c in configs],
                   os.path.join(work, "%s.bpf.o" % "+".join(configs)))
    paths = [os.path.join(work, d) for d in dirs]
    for p in paths:
        os.mkdir(p)
    return (work, obj, *paths)


def workload_units(p):
    """The units a workload.c run printed (@p: a Popen with a text stdout
    pipe), once it has ended with its status 7."""
    text, _ = p.communicate(timeout=120)
    check(p.returncode == 7, "workload exit status %d" % p.returncode)
    return [json.loads(line) for line in text.splitlines()]
