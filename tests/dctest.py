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
